"""Sandbox hosts from the settings: the [[sandbox_hosts]] list, and which engine and runtime a run uses."""

from __future__ import annotations

import json
from pathlib import Path

from tui_agent.config import ConfigError, Settings
from tui_agent.sandbox.docker.engine import Engine, from_env, plaintext_problem

KEYS = {"name", "url", "engine", "tls", "capacity", "runtime", "ship", "socket"}
SCHEMES = ("unix://", "tcp://", "ssh://")


def _host(item: object, seen: set[str]) -> Engine:
    if not isinstance(item, dict):
        raise ConfigError(f"sandbox_hosts: each entry is a table (name, url, ...), got {item!r:.80}")
    unknown = set(item) - KEYS
    name = item.get("name")
    if unknown:
        raise ConfigError(f"sandbox_hosts {name or '?'}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(KEYS))})")
    if not isinstance(name, str) or not name.strip() or name in seen:
        raise ConfigError(f"sandbox_hosts: every entry needs a unique name, got {name!r}")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(SCHEMES):
        raise ConfigError(f"sandbox_hosts {name}: url must start with {', '.join(SCHEMES)}, got {url!r}")
    kind = item.get("engine", "docker")
    if kind not in ("docker", "podman"):
        raise ConfigError(f"sandbox_hosts {name}: engine is docker or podman, got {kind!r}")
    capacity = item.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1):
        raise ConfigError(f"sandbox_hosts {name}: capacity is a whole number >= 1, got {capacity!r}")
    tls = item.get("tls")
    if tls is not None:
        folder = Path(str(tls)).expanduser()
        missing = [f for f in ("ca.pem", "cert.pem", "key.pem") if not (folder / f).is_file()]
        if missing:
            raise ConfigError(f"sandbox_hosts {name}: tls folder {folder} lacks {', '.join(missing)}")
        tls = str(folder)
    elif url.startswith("tcp://"):
        raise ConfigError(f"sandbox_hosts {name}: a tcp:// engine needs tls (a folder with ca.pem, cert.pem, "
                          "key.pem): an engine's API without TLS hands root on its machine to anyone who reaches it")
    ship = item.get("ship")
    if ship is not None and not isinstance(ship, bool):
        raise ConfigError(f"sandbox_hosts {name}: ship is true or false, got {ship!r}")
    seen.add(name)
    return Engine(url=url, kind=kind, name=name, tls=tls, ship=ship, capacity=capacity,
                  socket=item.get("socket"), runtime=item.get("runtime") or None)


def parse(raw: object) -> list[Engine]:
    """The configured hosts (a TOML array of tables, or JSON text from TUI_AGENT_SANDBOX_HOSTS); ConfigError."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except ValueError as exc:
            raise ConfigError(f"sandbox_hosts: not JSON ({exc})") from None
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"sandbox_hosts: a list of tables, got {type(raw).__name__}")
    seen: set[str] = set()
    return [_host(item, seen) for item in raw]


def placement(settings: Settings) -> tuple[str, Engine | None, str | None]:
    """(backend choice, engine or None for the backend's default, runtime) for a run of these settings."""
    runtime = settings.sandbox_runtime or None
    if settings.sandbox_host:
        hosts = {h.name: h for h in parse(settings.sandbox_hosts)}
        engine = hosts.get(settings.sandbox_host)
        if engine is None:
            known = ", ".join(hosts) or "none; add [[sandbox_hosts]] to tui-agent.toml"
            raise ConfigError(f"no sandbox host named {settings.sandbox_host!r} (configured: {known})")
        if settings.sandbox not in ("auto", engine.kind):
            raise ConfigError(f"sandbox host {engine.name} is a {engine.kind} engine, not {settings.sandbox}")
        return engine.kind, engine, engine.runtime or runtime
    parse(settings.sandbox_hosts)  # bad entries are bad input even when this run does not use them
    if settings.sandbox in ("auto", "docker") and (problem := plaintext_problem(from_env())):
        raise ConfigError(f"DOCKER_HOST {problem}")  # never a silent fall back to another backend either
    if runtime and settings.sandbox == "bwrap":
        raise ConfigError(f"sandbox_runtime {runtime} applies to docker and podman sandboxes, not bwrap")
    return settings.sandbox, None, runtime
