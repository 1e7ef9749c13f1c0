"""Project trust in a real run: an untrusted .mcp.json starts nothing, a trusted one does; keys stay unexpanded."""

import json
import sys

from loop_fixtures import cli, copy_example, events, of_type, script

KEY = "sk-ant-never-leaves-this-machine"


def _project(tmp_path, marker, *extra_args):
    project = copy_example("calculator", tmp_path / "proj")
    program = "import sys; open(sys.argv[1], 'w').write(repr(sys.argv))"  # a 'server' that leaves a marker
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "marker": {"command": sys.executable, "args": ["-c", program, str(marker), *extra_args]}}}))
    return project


def _run(tmp_path, project, *flags, env=None):
    model = script(tmp_path, [{"text": "done"}])
    own = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "ANTHROPIC_API_KEY": KEY, **(env or {})}
    return cli("run", str(project), "--check", "python3 -m unittest", "--model", model, "--headless",
               "--max-iterations", "1", "--sandbox", "bwrap", "--sessions", str(tmp_path / "s"), *flags, env=own)


def test_an_untrusted_mcp_json_starts_nothing_headless(tmp_path):
    marker = tmp_path / "started"
    done = _run(tmp_path, _project(tmp_path, marker))
    assert done.returncode == 1, done.stderr[-2000:]
    assert not marker.exists(), "an untrusted project's server ran on the host"
    notice = [line for line in done.stderr.splitlines() if "not trusted" in line]
    assert len(notice) == 1 and "MCP server marker" in notice[0] and "--trust-project" in notice[0]
    assert not any("marker" in e.get("source", "") for e in of_type(events(done.stdout), "tool_progress"))


def test_a_trusted_mcp_json_starts_its_server(tmp_path):
    marker = tmp_path / "started"
    done = _run(tmp_path, _project(tmp_path, marker), "--trust-project")
    assert done.returncode == 1, done.stderr[-2000:]
    assert marker.exists()
    assert "not trusted" not in done.stderr


def test_a_trusted_mcp_json_does_not_get_the_api_key(tmp_path):
    marker = tmp_path / "started"
    done = _run(tmp_path, _project(tmp_path, marker, "${ANTHROPIC_API_KEY}"), "--trust-project")
    assert done.returncode == 1, done.stderr[-2000:]
    assert not marker.exists() or KEY not in marker.read_text()
    assert KEY not in done.stdout and KEY not in done.stderr
    said = " ".join(e["message"] for e in of_type(events(done.stdout), "tool_progress") if "marker" in e["source"])
    assert "ANTHROPIC_API_KEY" in said and "mcp_env_allow" in said


def test_a_variable_the_person_allowed_is_expanded(tmp_path):
    marker = tmp_path / "started"
    (tmp_path / "config/tui-agent").mkdir(parents=True)
    (tmp_path / "config/tui-agent/config.toml").write_text('mcp_env_allow = ["GREETING"]\n')
    done = _run(tmp_path, _project(tmp_path, marker, "${GREETING}"), "--trust-project", env={"GREETING": "hello"})
    assert done.returncode == 1, done.stderr[-2000:]
    assert "hello" in marker.read_text()
