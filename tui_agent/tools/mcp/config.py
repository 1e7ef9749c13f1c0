"""Read MCP server definitions from `.mcp.json` (Claude Code / Claude Desktop format) and a user-level file."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tui_agent.tools.mcp.oauth_settings import OAuthSettings

try:  # the CLI maps tui_agent.config.ConfigError to exit code 2
    from tui_agent.config import ConfigError as _ConfigBase
except ImportError:  # pragma: no cover - config.py not there yet
    _ConfigBase = ValueError

from tui_agent.config import Settings  # noqa: E402 (after the ConfigError fallback above)
from tui_agent.trust import project_trusted  # noqa: E402

PROJECT_FILE = ".mcp.json"
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
TRANSPORTS = ("stdio", "http", "sse")
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")  # RFC 5424, as MCP


class ConfigError(_ConfigBase):
    """A malformed MCP config; the message names the file, the place (server, key, line:col) and the problem."""


@dataclass(frozen=True)
class ServerConfig:
    name: str
    transport: str  # "stdio" | "http" | "sse"
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict = field(default_factory=dict)
    source: str = ""  # the file it came from
    error: str | None = None  # e.g. an unset ${VAR}: the server is shown as failed with this reason
    timeout_s: float | None = None  # per-call timeout override ("timeout" in the file, seconds)
    oauth: dict = field(default_factory=dict)  # an HTTP server's "oauth" settings (see oauth.OAuthSettings)
    log_level: str | None = None  # the least severe log message the server should send ("logLevel"; None: warning)


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tui-agent" / "mcp.json"


def expand(value: str, environ: dict[str, str], missing: list[str]) -> str:
    """Expand ${VAR} and ${VAR:-default} like Claude Code; unset names without default go to `missing`."""

    def sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(sub, value)


def _line_of(text: str, needle: str) -> str:
    """`:line` of the first occurrence of the JSON key `needle`, or "" (for messages)."""
    pos = text.find(json.dumps(needle))
    return f":{text.count(chr(10), 0, pos) + 1}" if pos >= 0 else ""


def _str_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {json.dumps(value)[:60]}")
    return tuple(value)


def _str_dict(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: expected an object of string values, got {json.dumps(value)[:60]}")
    return dict(value)


def _server(name: str, spec: object, path: Path, text: str, environ: dict[str, str]) -> ServerConfig:
    where = f"{path}{_line_of(text, name)}: server {name!r}"
    if not SERVER_NAME.match(name):
        raise ConfigError(f"{where}: a server name may only use letters, digits, '_' and '-' (at most 48)")
    if "__" in name:  # tools are offered as mcp__SERVER__TOOL: a rule for `git` must never match `git__evil`
        raise ConfigError(f"{where}: a server name may not contain '__' (it would blur which server a rule names)")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected an object with \"command\" or \"url\"")
    kind = spec.get("type", "http" if "url" in spec and "command" not in spec else "stdio")
    if kind == "streamable-http":
        kind = "http"
    if kind not in TRANSPORTS:
        raise ConfigError(f"{where}: \"type\" must be one of {', '.join(TRANSPORTS)}, got {kind!r}")
    timeout = spec.get("timeout")
    if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0):
        raise ConfigError(f"{where}: \"timeout\" must be a positive number of seconds")
    log_level = spec.get("logLevel")
    if log_level is not None and log_level not in LOG_LEVELS:
        raise ConfigError(f"{where}: \"logLevel\" must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    missing: list[str] = []
    if kind == "stdio":
        command = spec.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ConfigError(f"{where}: missing \"command\" (a stdio server needs the program to run)")
        args = _str_list(spec.get("args", []), f"{where}: \"args\"")
        env = _str_dict(spec.get("env", {}), f"{where}: \"env\"")
        cwd = spec.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise ConfigError(f"{where}: \"cwd\" must be a string")
        config = ServerConfig(
            name, "stdio", command=expand(command, environ, missing),
            args=tuple(expand(a, environ, missing) for a in args),
            env={k: expand(v, environ, missing) for k, v in env.items()},
            cwd=expand(cwd, environ, missing) if cwd else None, source=str(path), timeout_s=timeout,
            log_level=log_level)
    else:
        url = spec.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(f"{where}: missing \"url\" (a {kind} server needs the endpoint)")
        headers = _str_dict(spec.get("headers", {}), f"{where}: \"headers\"")
        url = expand(url, environ, missing)
        if not re.match(r"^https?://", url):
            raise ConfigError(f"{where}: \"url\" must start with http:// or https://, got {url!r}")
        oauth = spec.get("oauth", {})
        try:
            OAuthSettings.from_dict(oauth)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        config = ServerConfig(name, kind, url=url, source=str(path), timeout_s=timeout, oauth=dict(oauth),
                              log_level=log_level, headers={k: expand(v, environ, missing) for k, v in headers.items()})
    if missing:
        refused = sorted({n for n in missing if n in os.environ and n not in environ})
        unset = sorted(set(missing) - set(refused))
        why = ([f"environment variable(s) not set: {', '.join(unset)}"] if unset else []) + (
            [f"not expanded (not in mcp_env_allow of your config): {', '.join(refused)}"] if refused else [])
        return ServerConfig(**{**config.__dict__, "error": "; ".join(why)})
    return config


def read_file(path: Path, environ: dict[str, str] | None = None) -> dict[str, ServerConfig]:
    """Servers defined in one file, by name; {} when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return {}
    environ = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected an object like {{"mcpServers": {{...}}}}')
    servers = data.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigError(f"{path}{_line_of(text, 'mcpServers')}: \"mcpServers\" must be an object of servers by name")
    return {name: _server(name, spec, path, text, environ) for name, spec in servers.items()}


def trusted_now(settings: Settings) -> bool:
    """Is the project of these settings trusted, checked again against its files as they are now?"""
    return settings.project_trusted and project_trusted(
        Path(settings.project), flag=settings.trust_project, user={"trusted_projects": settings.trusted_projects})


def servers_for(settings: Settings) -> dict[str, ServerConfig]:
    """The gate for anything that starts MCP servers: the person's own servers, and the project's .mcp.json only
    when the project is trusted (`config.load` decides; checked again here), ${VAR} only from mcp_env_allow."""
    return load(Path(settings.project), trusted=trusted_now(settings), env_allow=settings.mcp_env_allow)


def load(project: Path | None, user_file: Path | None = None, environ: dict[str, str] | None = None,
         include_user: bool = True, *, trusted: bool = True, env_allow: tuple | None = None,
         ) -> dict[str, ServerConfig]:
    """Servers from the user-level file, then PROJECT/.mcp.json (only when `trusted`); the project wins on a clash.

    `env_allow`: the only variables a project file's ${VAR} may expand (None: every one, for the person's own
    files and tests); the others stay unexpanded and the server is shown as failed, saying why."""
    servers: dict[str, ServerConfig] = {}
    if include_user:
        servers.update(read_file(user_file or user_config_path(), environ))
    if project is not None and trusted:
        env = dict(os.environ) if environ is None else environ
        if env_allow is not None:
            env = {k: v for k, v in env.items() if k in env_allow}
        servers.update(read_file(Path(project) / PROJECT_FILE, env))
    return servers
