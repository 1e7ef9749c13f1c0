"""OAuth against real loopback HTTP servers (the SDK's authorization-server and resource-server pieces)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from oauth_fixtures import MemoryAS, oauth_servers

from tui_agent.tools.mcp.config import ServerConfig
from tui_agent.tools.mcp.manager import McpManager
from tui_agent.tools.mcp.oauth_store import FileTokenStorage

pytestmark = pytest.mark.slow


def manager_for(servers: dict[str, str], folder, shown: list[str], person: bool = True) -> McpManager:
    configs = [ServerConfig(name, "http", url=url) for name, url in servers.items()]
    manager = McpManager(configs, max_restarts=0, connect_timeout=30.0)
    manager.oauth_folder = folder
    loop = asyncio.get_running_loop()

    def browser(server: str, url: str) -> None:  # the person: opens the URL; the AS approves and redirects back
        shown.append(url)
        loop.run_in_executor(None, lambda: urllib.request.urlopen(url, timeout=20).read())

    manager.show_sign_in = browser if person else None
    return manager


async def call(manager: McpManager, server: str) -> str:
    result = await manager.call(f"mcp__{server}__whoami", {})
    assert not result.is_error, result.content
    return result.content


async def test_sign_in_store_0600_refresh_and_no_token_for_another_server(tmp_path):
    provider = MemoryAS()
    folder = tmp_path / "oauth"
    with oauth_servers(provider) as (first, second):
        shown: list[str] = []
        async with manager_for({"first": first.url}, folder, shown) as manager:
            assert manager.servers()[0].state == "ready", manager.servers()[0].reason
            assert await call(manager, "first") == "hello from first"
        assert len(shown) == 1 and "code_challenge_method=S256" in shown[0]
        assert provider.authorizations[0].resource == first.url  # RFC 8707
        store = FileTokenStorage(first.url, folder=folder)
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        token = (await store.get_tokens()).access_token
        assert token in first.seen

        # a restart with the stored token: no sign-in; then with the token expired: refreshed, no sign-in
        async with manager_for({"first": first.url}, folder, shown) as manager:
            assert await call(manager, "first") == "hello from first"
        assert len(shown) == 1 and provider.refreshed == 0
        data = json.loads(store.path.read_text())
        for entry in data["issuers"].values():
            entry["expires_at"] = 1.0
        store.path.write_text(json.dumps(data))
        async with manager_for({"first": first.url}, folder, shown) as manager:
            assert await call(manager, "first") == "hello from first"
        assert len(shown) == 1 and provider.refreshed == 1
        refreshed = (await store.get_tokens()).access_token
        assert refreshed != token and refreshed in first.seen
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

        # a second server naming the same issuer never sees the first one's tokens: it gets its own sign-in
        async with manager_for({"second": second.url}, folder, shown) as manager:
            assert await call(manager, "second") == "hello from second"
        assert len(shown) == 2
        assert token not in second.seen and refreshed not in second.seen
        assert provider.authorizations[-1].resource == second.url
        assert FileTokenStorage(second.url, folder=folder).path != store.path


async def test_headless_sign_in_fails_naming_authentication_and_login(tmp_path):
    with oauth_servers(MemoryAS()) as (first, _second):
        async with manager_for({"first": first.url}, tmp_path, [], person=False) as manager:
            status = manager.servers()[0]
        assert status.state == "failed"
        assert "authentication required" in (status.reason or "")
        assert "tui-agent mcp login first" in (status.reason or "")


def test_mcp_login_shows_the_url_signs_in_and_logs_out(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "tui_agent.cli.main", "mcp", "login", "remote", "--path", str(project),
           "--trust-project"]
    with oauth_servers(MemoryAS()) as (first, _second):
        (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"remote": {"url": first.url}}}))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:  # the URL is shown; the person opens it
            lines.append(line)
            if line.startswith("  http://"):
                urllib.request.urlopen(line.strip(), timeout=20).read()
                break
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(lines) + err
        assert "open this URL in a browser" in "".join(lines)
        assert out.startswith("signed in to remote (tokens in ")
        token_file = Path(out.split("tokens in ", 1)[1].rstrip(")\n"))
        assert token_file.is_relative_to(tmp_path / "data") and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)  # no second sign-in
        assert again.returncode == 0 and "open this URL" not in again.stderr
        gone = subprocess.run([*cmd, "--logout"], env=env, capture_output=True, text=True, timeout=60)
        assert gone.stdout.strip() == "signed out of remote" and not token_file.exists()


async def test_a_refused_own_token_says_authentication(tmp_path):
    with oauth_servers(MemoryAS()) as (first, _second):
        config = ServerConfig("first", "http", url=first.url, headers={"Authorization": "Bearer not-a-token"})
        async with McpManager([config], max_restarts=0) as manager:
            status = manager.servers()[0]
        assert set(first.seen) == {"not-a-token"}  # our own header, no OAuth flow on top
        assert status.state == "failed"
        assert (status.reason or "").startswith("authentication failed (HTTP 401 from the server)")
