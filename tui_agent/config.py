"""One frozen settings object: defaults < the person's config.toml < the project's tui-agent.toml / [tool.tui-agent]
(what runs code or widens permissions only when the project is trusted) < TUI_AGENT_* env < flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_agent import trust


MODES = ("auto", "ask", "plan")


class ConfigError(ValueError):
    """Bad configuration or input: one clear line, exit code 2."""


@dataclass(frozen=True)
class Criteria:
    """When the loop stops. The check passing (with the pattern, if any) means the goal is met."""

    pass_pattern: str | None = None  # a regex the check output must contain, besides exit code 0
    max_iterations: int = 10
    budget_usd: float | None = None
    wall_time_s: float | None = None
    no_progress: int = 3  # iterations in a row that leave the failure unchanged: stop (headless) or pause and ask

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Settings:
    project: Path = Path(".")
    goal: str = "Make the check pass."
    check: str = "python -m pytest -q"
    model: str = "anthropic:"
    sandbox: str = "auto"  # auto | docker | podman | bwrap
    sandbox_runtime: str | None = None  # OCI runtime for docker/podman sandboxes, e.g. "runsc" (gVisor)
    sandbox_hosts: tuple = ()  # [[sandbox_hosts]] tables: name, url, engine, tls, capacity, runtime, ship, socket
    sandbox_host: str | None = None  # run on the sandbox_hosts entry of this name
    criteria: Criteria = field(default_factory=Criteria)
    step: bool = False  # start paused
    max_turns: int = 30  # model turns within one iteration
    context_tokens: int = 150_000  # keep the conversation under this many (estimated) tokens
    session_root: Path = Path(os.environ.get("XDG_DATA_HOME", str(Path.home() / ".local/share"))) / "tui-agent/sessions"
    image: str = "tui-agent-sandbox:latest"
    memory_mb: int = 1024
    timeout_s: float = 120.0
    deploy_command: str | None = None  # run on the host after an approved deploy, in the project folder
    prices: dict = field(default_factory=dict)  # model prefix -> {input, output, cache_write, cache_read} USD/Mtok
    permissions: dict = field(default_factory=dict)  # {"allow": [...], "ask": [...], "deny": [...]}
    # auto: reads, workspace edits and sandboxed commands run without asking; ask: every call asks; plan: read-only
    mode: str = "auto"
    theme: str = "dark"
    breakpoints: tuple = ()  # --break-on values: tool, tool:RULE, check, failure, spend:USD, iteration:N
    # the project's environment: auto | none | devcontainer | uv | pyproject | requirements | setup | a Dockerfile
    env: str = "auto"
    setup: str | None = None  # a shell command run in the environment build, after the detected install
    env_root: Path = (Path("/var/cache/tui-agent/envs") if hasattr(os, "geteuid") and os.geteuid() == 0 else
                      Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "tui-agent/envs")
    mcp_env_allow: tuple = ()  # ${VAR} a project's .mcp.json may expand (only from the person's own config)
    trusted_projects: tuple = ()  # project paths (globs) the person trusts always (only from their own config)
    # after each run, the oldest finished sessions are pruned until all fit (only from the person's config or env)
    sessions_max_size: int | None = None
    trust_project: bool = False  # --trust-project: trust the project's config for this run
    project_trusted: bool = True  # the decision taken when the settings were loaded (not a setting)
    notices: tuple = ()  # one line each, said on stderr (headless) or in the TUI: what was ignored and why


_CRITERIA = {f.name for f in dataclasses.fields(Criteria)}
_SETTINGS = {f.name for f in dataclasses.fields(Settings)} - {"criteria", "project_trusted", "notices"}
_PATHS = {"project", "session_root", "env_root"}


def _file_values(project: Path) -> dict[str, Any]:
    """Values from PROJECT/tui-agent.toml, else from [tool.tui-agent] in PROJECT/pyproject.toml."""
    for name, section in (("tui-agent.toml", None), ("pyproject.toml", ("tool", "tui-agent"))):
        path = project / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        for key in section or ():
            data = data.get(key, {})
        if data:
            return {k.replace("-", "_"): v for k, v in data.items()}
    return {}


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tui-agent" / "config.toml"


def _user_values() -> dict[str, Any]:
    """The person's own config (always applied: it is theirs, not the project's)."""
    path = user_config_path()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    values = {k.replace("-", "_"): v for k, v in data.items()}
    if unknown := set(values) - _SETTINGS - _CRITERIA:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
    return values


def _untrusted(project: Path, values: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The project's config without what runs code or widens permissions, and a one-line notice of what went."""
    kept = {k: v for k, v in values.items() if k not in trust.RISKY_SETTINGS}
    perms = values.get("permissions")
    if isinstance(perms, dict):  # deny and ask rules only narrow: kept
        kept["permissions"] = {k: v for k, v in perms.items() if k != "allow"}
    review = trust.review(project)
    dropped = [line for line in review.lines() if not line.startswith("environment input ")]
    if review.docker_env:
        dropped.append("the devcontainer environment (its image build has less isolation than a check)")
    if not dropped:
        return kept, None
    return kept, (f"{project}: project not trusted, ignored: " + "; ".join(dropped)
                  + " (trust it with --trust-project, or in the TUI)")


def _env_values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in _SETTINGS | _CRITERIA:
        raw = os.environ.get("TUI_AGENT_" + key.upper())
        if raw is not None:
            values[key] = raw
    return values


def _coerce(name: str, value: Any, default: Any) -> Any:
    if value is None or name in _PATHS and isinstance(value, Path):
        return value
    kind = type(default)
    try:
        if name in _PATHS:
            return Path(value).expanduser()
        if name == "breakpoints":
            return tuple(v.strip() for v in value.split(",")) if isinstance(value, str) else tuple(value)
        if kind is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if kind in (int, float) and not isinstance(value, bool):
            return kind(value)
        if name in ("budget_usd", "wall_time_s"):
            return float(value)
    except (TypeError, ValueError):
        expected = kind.__name__ if default is not None else "number"
        raise ConfigError(f"setting {name!r}: expected a {expected}, got {value!r}") from None
    return value


def load(project: Path, **flags: Any) -> Settings:
    """Merge the layers; flags whose value is None are treated as not given."""
    user, env = _user_values(), _env_values()
    file_layer = _file_values(project)
    if unknown := set(file_layer) - _SETTINGS - _CRITERIA:
        raise ConfigError(f"{project}: unknown setting(s) in config: {', '.join(sorted(unknown))}")
    file_layer = {k: v for k, v in file_layer.items() if k not in trust.USER_ONLY_SETTINGS}
    flag = _coerce("trust_project", flags.get("trust_project") or env.get("trust_project") or False, False)
    trusted = trust.project_trusted(project, flag=flag, user=user)
    notices: tuple = ()
    if not trusted:
        file_layer, notice = _untrusted(Path(project), file_layer)
        notices = (notice,) if notice else ()
    layers = [user, file_layer, env, {k: v for k, v in flags.items() if v is not None}]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if k in _SETTINGS | _CRITERIA})
    defaults, crit_defaults = Settings(), Criteria()
    criteria = Criteria(**{k: _coerce(k, merged[k], getattr(crit_defaults, k)) for k in _CRITERIA if k in merged})
    values = {k: _coerce(k, merged[k], getattr(defaults, k)) for k in _SETTINGS if k in merged}
    values["project"] = Path(project)
    for key in ("mcp_env_allow", "trusted_projects"):
        if isinstance(values.get(key), str):
            values[key] = tuple(v.strip() for v in values[key].split(",") if v.strip())
        elif key in values:
            values[key] = tuple(values[key])
    if values.get("sessions_max_size") is not None:
        values["sessions_max_size"] = parse_size(values["sessions_max_size"], "sessions_max_size")
    if values.get("mode", "auto") not in MODES:
        raise ConfigError(f"setting 'mode': expected one of {', '.join(MODES)}, got {values['mode']!r}")
    return Settings(criteria=criteria, project_trusted=trusted, notices=notices, **values)


def parse_size(value: Any, what: str) -> int:
    """Bytes from 500M, 2G, 1.5T, 4096 (binary units); ConfigError naming `what` otherwise."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    number, unit = str(value).strip().upper().removesuffix("B").removesuffix("I"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        size = int(float(number) * units[unit])
    except ValueError:
        size = -1
    if size <= 0 or isinstance(value, bool):
        raise ConfigError(f"{what}: not a size: {value!r} (e.g. 500M, 2G)")
    return size


def check_project(project: Path) -> Path:
    """The project folder must exist and be a folder (checked before the screen opens, and again by prepare)."""
    if not project.exists():
        raise ConfigError(f"project folder not found: {project}")
    if not project.is_dir():
        raise ConfigError(f"not a folder: {project}")
    return project.resolve()
