"""Read .devcontainer/devcontainer.json (JSON with comments): what we honour and what we ignore, saying so."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tui_agent.config import ConfigError

# keys that act on the host or widen the sandbox: never honoured, always reported
IGNORED = ("initializeCommand", "runArgs", "mounts", "privileged", "capAdd", "securityOpt", "forwardPorts",
           "appPort", "workspaceMount", "postStartCommand", "postAttachCommand", "onCreateCommand", "features")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOCATIONS = (".devcontainer/devcontainer.json", ".devcontainer.json")


@dataclass(frozen=True)
class DevContainer:
    path: str  # relative to the project
    image: str | None
    dockerfile: str | None  # relative to the project
    context: str | None  # relative to the project
    command: str | None  # postCreateCommand as one shell string
    env: tuple  # containerEnv as (NAME, value)
    ignored: tuple  # the keys found that we do not honour


def find(project: Path) -> str | None:
    return next((rel for rel in LOCATIONS if (project / rel).is_file()), None)


def strip_jsonc(text: str) -> str:
    """Remove // and /* */ comments (outside strings) and trailing commas."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _inside(project: Path, base: PurePosixPath, rel: str, what: str, where: str) -> str:
    joined = PurePosixPath(*(base / rel).parts)
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if not parts:
                raise ConfigError(f"{where}: {what} {rel!r} is outside the project")
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    resolved = "/".join(parts) or "."
    if (project / resolved).resolve() != project.resolve() and not (project / resolved).resolve().is_relative_to(
            project.resolve()):
        raise ConfigError(f"{where}: {what} {rel!r} leads outside the project")
    return resolved


def _command(value, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return shlex.join(value)
    if isinstance(value, dict):  # named commands, run one after the other here
        return " && ".join(f"({_command(v, where)})" for v in value.values() if _command(v, where))
    raise ConfigError(f"{where}: postCreateCommand must be a string, a list or an object")


def read(project: Path, rel: str) -> DevContainer:
    where = str(project / rel)
    try:
        data = json.loads(strip_jsonc((project / rel).read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: not readable as devcontainer JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    base = PurePosixPath(rel).parent
    build = data.get("build") or {}
    dockerfile = build.get("dockerfile") or data.get("dockerFile")
    image = data.get("image")
    if dockerfile is None and not isinstance(image, str):
        raise ConfigError(f"{where}: needs an `image` or a `build.dockerfile`")
    context = build.get("context") or data.get("context") or "."
    env = data.get("containerEnv") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and NAME.match(k) and isinstance(v, str)
                                            for k, v in env.items()):
        raise ConfigError(f"{where}: containerEnv must map variable names to strings")
    return DevContainer(
        path=rel, image=None if dockerfile else image,
        dockerfile=_inside(project, base, dockerfile, "build.dockerfile", where) if dockerfile else None,
        context=_inside(project, base, context, "build.context", where) if dockerfile else None,
        command=_command(data.get("postCreateCommand"), where), env=tuple(sorted(env.items())),
        ignored=tuple(k for k in IGNORED if k in data),
    )
