"""OAuth pieces without a server: the "oauth" config object, the sign-in narration, headless, the token file."""

from __future__ import annotations

import json
import stat

import pytest
from mcp.shared.auth import OAuthToken

from tui_agent.events import ToolProgress
from tui_agent.tools.mcp import config as mcp_config
from tui_agent.tools.mcp.oauth import AuthenticationRequired, LoopbackSignIn, OAuthSettings, make_provider
from tui_agent.tools.mcp.oauth_store import FileTokenStorage
from tui_agent.tui.narration import narrate_sign_in

pytestmark = pytest.mark.unit


def test_oauth_config_is_read_and_checked(tmp_path):
    path = tmp_path / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": {"a": {"url": "https://x.example/mcp", "oauth": {"scope": "read"}}}}))
    assert mcp_config.read_file(path, {})["a"].oauth == {"scope": "read"}
    path.write_text(json.dumps({"mcpServers": {"a": {"url": "https://x.example/mcp", "oauth": {"scopes": "r"}}}}))
    with pytest.raises(mcp_config.ConfigError, match="unknown key 'scopes'"):
        mcp_config.read_file(path, {})


def test_shipped_defaults_use_dynamic_registration():
    settings = OAuthSettings()
    assert settings.client_metadata_url is None and settings.client_id is None
    provider = make_provider("a", "https://x.example/mcp", settings, folder=None)
    assert provider.context.client_metadata_url is None
    assert [str(u) for u in provider.context.client_metadata.redirect_uris or []] == [provider.sign_in.redirect_uri]
    assert provider.sign_in.redirect_uri.startswith("http://127.0.0.1:")


async def test_headless_sign_in_names_mcp_login():
    with pytest.raises(AuthenticationRequired, match="tui-agent mcp login git"):
        await LoopbackSignIn("git", 1, None).redirect("https://as.example/authorize")


def test_the_sign_in_url_is_narrated_whole():
    url = "https://as.example/authorize?" + "x" * 400
    said = narrate_sign_in(ToolProgress(None, "mcp:remote", f"authentication: open {url} in a browser to sign in"))
    assert url in said[0].text
    assert narrate_sign_in(ToolProgress(None, "mcp:remote", "ready")) == []


async def test_tokens_are_kept_per_resource_and_issuer_0600(tmp_path):
    issuer = ["https://as.example"]
    store = FileTokenStorage("https://A.example/mcp/", lambda: issuer[0], tmp_path)
    await store.set_tokens(OAuthToken(access_token="t1", token_type="Bearer"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert (await store.get_tokens()).access_token == "t1"
    issuer[0] = "https://other-as.example"  # the server now names another authorization server
    assert await store.get_tokens() is None
    other = FileTokenStorage("https://b.example/mcp", lambda: "https://as.example", tmp_path)
    assert other.path != store.path and await other.get_tokens() is None
    assert FileTokenStorage("https://a.example/mcp", folder=tmp_path).path == store.path  # canonical resource
