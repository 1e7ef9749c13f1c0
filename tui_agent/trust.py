"""Project trust: the project files that make tui-agent run code or widen permissions, their hash, the person's answer.

The answer is kept outside the project ($XDG_DATA_HOME/tui-agent/trust.json, mode 0600), keyed by the project's
resolved path and holding the hash of the trust-relevant files, so any change (a `git pull`, a deploy) asks again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILES = (".mcp.json", "tui-agent.toml", ".tui-agent/permissions.json")
# the requirements files an environment installs, where projects keep them (environments/detect.py reads these)
REQUIREMENT_GLOBS = ("requirements*.txt", "requirements/*.txt", "test-requirements*.txt", "test_requirements*.txt",
                     "dev-requirements*.txt", "tests/requirements*.txt", "test/requirements*.txt",
                     "testing/requirements*.txt")
# the code-running inputs of the project's environment (see environments/detect.py)
ENV_GLOBS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", ".devcontainer/*", ".devcontainer/*/*", *REQUIREMENT_GLOBS,
             "uv.lock", "setup.py", "setup.cfg", ".python-version", "tox.ini", "Pipfile")
# pyproject.toml: only these tables count (a version bump or a new description does not ask again)
PYPROJECT_KEYS = (("tool", "tui-agent"), ("build-system",), ("project", "dependencies"),
                  ("project", "optional-dependencies"), ("dependency-groups",), ("tool", "uv"),
                  ("tool", "poetry", "dependencies"), ("tool", "poetry", "group"),
                  ("tool", "poetry", "dev-dependencies"), ("tool", "poetry", "extras"),
                  ("tool", "pdm", "dev-dependencies"), ("tool", "hatch", "envs"))  # see environments/tool_deps.py
# settings a project's own config may not give until trusted: they run code on the host, widen permissions,
# move where tui-agent writes, or pick what builds the environment with less isolation than a check
RISKY_SETTINGS = ("deploy_command", "permissions", "setup", "env", "image", "sandbox_runtime", "sandbox_hosts",
                  "sandbox_host", "session_root", "env_root")
USER_ONLY_SETTINGS = ("mcp_env_allow", "trusted_projects", "sessions_max_size")  # only from the person's config
MAX_HASHED = 64 << 20  # a trust-relevant file larger than this counts by its size only


@dataclass
class Review:
    """What trusting a project would let it do, in the person's words (for the trust screen and notices)."""

    servers: list[str] = field(default_factory=list)  # "name: command line" / "name: url"
    settings: list[str] = field(default_factory=list)  # "file: key = value" that runs code or widens permissions
    deploy_command: str | None = None
    env_inputs: list[str] = field(default_factory=list)  # Dockerfile, devcontainer, requirements, ...
    docker_env: bool = False  # a devcontainer or Dockerfile: built with less isolation than a check

    @property
    def needs_trust(self) -> bool:
        """Something untrusted mode would ignore (requirements alone build in the hardened sandbox)."""
        return bool(self.servers or self.settings or self.deploy_command or self.docker_env)

    def lines(self) -> list[str]:
        out = [f"MCP server {s}" for s in self.servers] + self.settings
        if self.deploy_command:
            out.append(f"deploy_command = {self.deploy_command}")
        return out + [f"environment input {p}" for p in self.env_inputs]


def store_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local/share")
    return Path(base) / "tui-agent" / "trust.json"


def _key(project: Path) -> str:
    return str(Path(project).resolve())


def _read(path: Path) -> bytes | None:
    """A regular file's bytes (at most MAX_HASHED: a FIFO, a device or /dev/zero behind a link never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # unreadable: its error is part of the fingerprint, never silently "absent"
        return f"<unreadable: {exc.strerror}>".encode()
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return None
        if not stat.S_ISREG(st.st_mode):
            return f"<not a regular file: mode {st.st_mode:o}>".encode()
        data = fh.read(MAX_HASHED + 1)
        return data if len(data) <= MAX_HASHED else f"<larger than {MAX_HASHED} bytes: {st.st_size}>".encode()


def _pyproject_part(project: Path) -> bytes | None:
    raw = _read(project / "pyproject.toml")
    if raw is None:
        return None
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return raw  # unparsable: the whole file counts
    picked = {}
    for keys in PYPROJECT_KEYS:
        value: object = data
        for k in keys:
            value = value.get(k) if isinstance(value, dict) else None
        if value is not None:
            picked[".".join(keys)] = value
    return json.dumps(picked, sort_keys=True, default=str).encode() if picked else None


def env_inputs(project: Path) -> list[str]:
    project = Path(project)
    found = {str(p.relative_to(project)) for g in ENV_GLOBS for p in project.glob(g) if p.is_file()}
    return sorted(found)


def fingerprint(project: Path) -> str:
    """The hash of every trust-relevant input of the project (absent files count as absent)."""
    project = Path(project)
    digest = hashlib.sha256()
    parts: list[tuple[str, bytes | None]] = [(name, _read(project / name)) for name in CONFIG_FILES]
    parts.append(("pyproject.toml[tool.tui-agent,build]", _pyproject_part(project)))
    parts += [(name, _read(project / name)) for name in env_inputs(project)]
    for name, content in parts:
        if content is not None:
            digest.update(f"{name}\0{len(content)}\0".encode())
            digest.update(content)
    return digest.hexdigest()


def _load_store() -> dict:
    try:
        data = json.loads(store_path().read_text())
    except (OSError, ValueError):
        return {}
    projects = data.get("projects") if isinstance(data, dict) else None
    return projects if isinstance(projects, dict) else {}


def recorded(project: Path) -> str | None:
    entry = _load_store().get(_key(project))
    return entry.get("hash") if isinstance(entry, dict) else None


def is_trusted(project: Path) -> bool:
    """The person trusted the project's trust-relevant files exactly as they are now."""
    return recorded(project) == fingerprint(project)


def write_text_atomic(path: Path, text: str, prefix: str) -> None:
    """Write `text` to `path` all or nothing (a 0600 temp file beside it, fsynced, renamed over it); the trust store
    and `.tui-agent/permissions.json` (whose hash the trust records) are written this way."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _update(change) -> None:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        projects = _load_store()
        change(projects)
        write_text_atomic(path, json.dumps({"projects": projects}, indent=1, sort_keys=True), ".trust-")


def record(project: Path) -> str:
    """Remember that the person trusts the project as it is now; returns the hash."""
    value = fingerprint(project)
    _update(lambda projects: projects.__setitem__(_key(project), {"hash": value, "time": round(time.time())}))
    return value


def forget(project: Path) -> None:
    _update(lambda projects: projects.pop(_key(project), None))


def listed(project: Path, patterns: object) -> bool:
    """Is the project named in the person's own `trusted_projects` list (paths, ~ allowed, globs)?"""
    import fnmatch

    if not isinstance(patterns, (list, tuple)):
        return False
    key = _key(project)
    return any(isinstance(p, str) and fnmatch.fnmatchcase(key, str(Path(p).expanduser())) for p in patterns)


def project_trusted(project: Path, *, flag: bool = False, user: dict | None = None) -> bool:
    """The gate: trusted by `--trust-project`, the person's own config, a remembered answer, or nothing to trust."""
    if flag or listed(project, (user or {}).get("trusted_projects")):
        return True
    return is_trusted(project) or not review(project).needs_trust


def _json(path: Path) -> object:
    raw = _read(path)
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None


def _project_settings(project: Path) -> tuple[str, dict]:
    for name, keys in (("tui-agent.toml", ()), ("pyproject.toml", ("tool", "tui-agent"))):
        raw = _read(project / name)
        if raw is None:
            continue
        try:
            data: object = tomllib.loads(raw.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return name, {}
        for k in keys:
            data = data.get(k, {}) if isinstance(data, dict) else {}
        if data and isinstance(data, dict):
            return name if not keys else "pyproject.toml [tool.tui-agent]", {
                k.replace("-", "_"): v for k, v in data.items()}
    return "", {}


def widening(permissions: object) -> list[str]:
    """The rules of a {"allow": [...], ...} table that widen what runs without asking (allow rules)."""
    allow = permissions.get("allow") if isinstance(permissions, dict) else None
    if isinstance(allow, str):
        return [allow]
    return [str(r) for r in allow] if isinstance(allow, list) else []


def review(project: Path) -> Review:
    """What the project's own files would make tui-agent do, once trusted."""
    project = Path(project)
    out = Review()
    servers = _json(project / ".mcp.json")
    servers = servers.get("mcpServers") if isinstance(servers, dict) else None
    for name, spec in (servers.items() if isinstance(servers, dict) else ()):
        spec = spec if isinstance(spec, dict) else {}
        if "command" in spec:
            args = spec.get("args")
            words = [spec["command"], *(args if isinstance(args, list) else [])]
            out.servers.append(f"{name}: " + " ".join(str(a) for a in words))
        else:
            out.servers.append(f"{name}: {spec.get('url', '(no command nor url)')}")
    source, values = _project_settings(project)
    for key in RISKY_SETTINGS + USER_ONLY_SETTINGS:
        if key not in values:
            continue
        if key == "deploy_command":
            out.deploy_command = str(values[key])
        elif key == "permissions":
            out.settings += [f"{source}: permissions allow {r}" for r in widening(values[key])]
        else:
            out.settings.append(f"{source}: {key} = {values[key]!r}")
    perms = _json(project / ".tui-agent/permissions.json")
    rules = perms.get("permissions") if isinstance(perms, dict) else None
    out.settings += [f".tui-agent/permissions.json: allow {r}" for r in widening(rules)]
    out.env_inputs = env_inputs(project)
    out.docker_env = any(p.startswith(".devcontainer/") or "Dockerfile" in p for p in out.env_inputs)
    if _read(project / "pyproject.toml") is not None and _pyproject_part(project) is not None:
        out.env_inputs.append("pyproject.toml (dependencies, build system)")
    return out
