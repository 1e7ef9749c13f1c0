"""Settings layers: defaults < tui-agent.toml / [tool.tui-agent] < env < flags; bad values are one clear line."""

import pytest

from tui_agent.config import ConfigError, load

pytestmark = pytest.mark.unit


def test_defaults(tmp_path):
    s = load(tmp_path)
    assert s.criteria.max_iterations == 10 and s.sandbox == "auto" and s.project == tmp_path


def test_layers_in_order(tmp_path, monkeypatch):
    (tmp_path / "tui-agent.toml").write_text('check = "make test"\nmax_iterations = 4\nbudget_usd = 1.5\n')
    monkeypatch.setenv("TUI_AGENT_MAX_ITERATIONS", "6")
    s = load(tmp_path, budget_usd=0.25, goal=None)
    assert s.check == "make test"
    assert s.criteria.max_iterations == 6
    assert s.criteria.budget_usd == 0.25


def test_pyproject_section(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.tui-agent]\nno-progress = 2\n')
    assert load(tmp_path).criteria.no_progress == 2


def test_bad_toml_names_the_file(tmp_path):
    (tmp_path / "tui-agent.toml").write_text("check = \n")
    with pytest.raises(ConfigError, match="tui-agent.toml: invalid TOML"):
        load(tmp_path)


def test_unknown_setting(tmp_path):
    (tmp_path / "tui-agent.toml").write_text('chekc = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting.*chekc"):
        load(tmp_path)


def test_bad_env_value(tmp_path, monkeypatch):
    monkeypatch.setenv("TUI_AGENT_MAX_ITERATIONS", "many")
    with pytest.raises(ConfigError, match="max_iterations"):
        load(tmp_path)
