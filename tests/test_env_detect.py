"""What an environment is made of: detection in the issue's order, the host's index settings, the index proxy."""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest

from env_fixtures import IndexServer, package, project
from tui_agent.config import ConfigError
from tui_agent.environments import indexes
from tui_agent.environments.detect import detect
from tui_agent.environments.devcontainer import strip_jsonc
from tui_agent.environments.proxy import IndexProxy


def test_each_source_in_the_issues_order(tmp_path):
    uv, _ = project("uv", tmp_path / "uv")
    (uv / "uv.lock").write_text("version = 1\n")
    recipe = detect(uv)
    assert recipe.kind == "uv" and "uv sync --frozen" in recipe.install and "--group test" in recipe.install
    assert recipe.inputs == ("uv.lock", "pyproject.toml") and recipe.python == ">=3.11"

    groups, _ = project("groups", tmp_path / "groups")
    recipe = detect(groups)
    assert recipe.kind == "pyproject" and "-e ." in recipe.install and "--group test" in recipe.install
    assert "docs" not in recipe.install, "only the groups a test suite needs"

    extras, _ = project("extras", tmp_path / "extras")
    assert "-e '.[test]'" in detect(extras).install

    reqs, _ = project("requirements", tmp_path / "reqs")
    (reqs / "requirements").mkdir()
    (reqs / "requirements" / "ci.txt").write_text("pytest\n")
    recipe = detect(reqs)
    assert recipe.kind == "requirements" and recipe.project_path == "."
    assert recipe.inputs == ("requirements-test.txt", "requirements.txt", "requirements/ci.txt")
    (reqs / "tests").mkdir(exist_ok=True)  # where many projects keep what their test suite needs (e.g. packaging)
    (reqs / "tests" / "requirements.txt").write_text("pytest\n")
    (reqs / "test-requirements.txt").write_text("pytest\n")
    assert detect(reqs).inputs[-2:] == ("test-requirements.txt", "tests/requirements.txt")
    assert "-r tests/requirements.txt" in detect(reqs).install

    dev, _ = project("devcontainer", tmp_path / "dev")
    recipe = detect(dev)
    assert recipe.kind == "devcontainer" and recipe.dockerfile == ".devcontainer/Dockerfile" and recipe.context == "."
    assert recipe.install == "pip install -r requirements.txt" and recipe.env == (("CALC_MODE", "devcontainer"),)
    assert any("runArgs is ignored" in n for n in recipe.notes)
    bwrap = detect(dev, backend="bwrap")
    assert bwrap.kind == "requirements" and any("Docker sandbox only" in n for n in bwrap.notes)
    podman = detect(dev, backend="podman")  # its API builds with the host's network: not an image source there
    assert podman.kind == "requirements" and any("host's network" in n for n in podman.notes)

    bare = tmp_path / "bare"
    bare.mkdir()
    assert detect(bare) is None, "nothing declared: the image as it is, no build"
    setup = detect(bare, setup="make fixtures")
    assert setup.kind == "setup" and setup.setup == "make fixtures"
    assert detect(reqs, env="none") is None


def test_overrides_and_bad_settings(tmp_path):
    reqs, _ = project("requirements", tmp_path / "reqs")
    (reqs / "ci.Dockerfile").write_text("FROM tui-agent-sandbox:latest\n")
    recipe = detect(reqs, env="ci.Dockerfile")
    assert recipe.kind == "dockerfile" and recipe.install.startswith("uv pip install"), "requirements on top"
    with pytest.raises(ConfigError, match="needs the Docker sandbox"):
        detect(reqs, env="ci.Dockerfile", backend="bwrap")
    with pytest.raises(ConfigError, match="needs the Docker sandbox .Podman's API builds a Dockerfile with the host"):
        detect(reqs, env="ci.Dockerfile", backend="podman")
    with pytest.raises(ConfigError, match="expected auto, none"):
        detect(reqs, env="nonsense")
    with pytest.raises(ConfigError, match="has no uv inputs"):
        detect(reqs, env="uv")
    (reqs / ".python-version").write_text("3.12.4\n")
    assert detect(reqs).python == "3.12" and detect(reqs).python_from == ".python-version"
    dev = tmp_path / "dev" / ".devcontainer"
    dev.mkdir(parents=True)
    (dev / "devcontainer.json").write_text('{"build": {"dockerfile": "../../elsewhere/Dockerfile"}}')
    with pytest.raises(ConfigError, match="outside the project"):
        detect(tmp_path / "dev")


def test_jsonc_comments_and_trailing_commas():
    assert json.loads(strip_jsonc('{"a": "//x", /* c */ "b": [1, 2,], // end\n}')) == {"a": "//x", "b": [1, 2]}


def test_host_index_settings(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = https://user:s3cret@pypi.example.com/simple\n"
                    f"extra-index-url = file://{tmp_path}/mirror/simple\nfind-links = {tmp_path}/wheels\n")
    found = indexes.read({"PIP_CONFIG_FILE": str(conf), "HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path)})
    env = found.sandbox_env()
    assert "s3cret" not in repr(env) and "s3cret" not in repr(found.summary()), "credentials stay in the proxy"
    assert env["UV_DEFAULT_INDEX"] == "http://pypi.example.com/simple" and env["PIP_TRUSTED_HOST"] == "pypi.example.com"
    upstream = found.allowed[("pypi.example.com", 80)]
    assert upstream.tls and upstream.port == 443 and base64.b64decode(upstream.auth[6:]) == b"user:s3cret"
    assert found.binds == [tmp_path / "mirror", tmp_path / "wheels"], "local indexes are bound read-only"
    uv_wins = indexes.read({"PIP_CONFIG_FILE": str(conf), "UV_DEFAULT_INDEX": "https://pypi.org/simple",
                            "UV_INDEX": "extra=https://mirror.example.org/simple"})
    assert uv_wins.index == "https://pypi.org/simple" and uv_wins.extra == ["https://mirror.example.org/simple"]
    assert ("files.pythonhosted.org", 443) in uv_wins.allowed
    assert indexes.read({"PIP_CONFIG_FILE": os.devnull}).index == indexes.PYPI


async def _ask(sock: str, request: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(sock)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


async def test_the_proxy_serves_configured_indexes_only_and_adds_their_credentials(tmp_path):
    package(tmp_path, "tinydep")
    allowed, other = IndexServer(tmp_path), IndexServer(tmp_path)
    found = indexes.read({"PIP_CONFIG_FILE": os.devnull,
                          "UV_DEFAULT_INDEX": f"http://me:pw@127.0.0.1:{allowed.port}/simple"})
    assert found.index == f"http://127.0.0.1:{allowed.port}/simple"
    said = []
    proxy = IndexProxy(found.allowed, None, said.append)
    sock = str(tmp_path / "p.sock")
    await proxy.start(tmp_path / "p.sock")
    try:
        ok = await _ask(sock, f"GET {found.index}/tinydep/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert ok.startswith(b"HTTP/1.0 200") and b"tinydep-1.0" in ok
        assert allowed.auth == ["Basic " + base64.b64encode(b"me:pw").decode()], "added by the proxy"
        refused = await _ask(sock, f"GET http://127.0.0.1:{other.port}/simple/ HTTP/1.1\r\n\r\n".encode())
        tunnel = await _ask(sock, f"CONNECT 127.0.0.1:{other.port} HTTP/1.1\r\n\r\n".encode())
        assert refused.startswith(b"HTTP/1.1 403") and tunnel.startswith(b"HTTP/1.1 403")
        assert other.requests == [] and len(said) == 2 and "refused" in said[0]
    finally:
        await proxy.close()
        allowed.close()
        other.close()


async def test_closing_the_proxy_under_open_connections_prints_nothing(tmp_path, caplog):
    """A build that fails leaves uv's connections open; closing the proxy cancels them. A cancelled task of
    asyncio.start_server's made asyncio print a traceback per connection on the person's stderr."""
    proxy = IndexProxy({}, None, lambda line: None)
    await proxy.start(tmp_path / "p.sock")
    waiting = [await asyncio.open_unix_connection(str(tmp_path / "p.sock")) for _ in range(3)]
    for _reader, writer in waiting:
        writer.write(b"GET http://127.0.0.1:9/ HTTP/1.1\r\n")  # a head that never ends: the proxy waits
        await writer.drain()
    async def served():  # every connection is being served
        while len(proxy._tasks) < 3:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(served(), 30)
    await proxy.close()
    for _ in range(3):  # the loop runs the done-callbacks of the ended tasks
        await asyncio.sleep(0)
    assert not [r for r in caplog.records if r.name == "asyncio"], [r.getMessage() for r in caplog.records]
    for _reader, writer in waiting:
        writer.close()
