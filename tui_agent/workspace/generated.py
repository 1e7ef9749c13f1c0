"""Files a project's build writes into its source tree and gitignores (a version module from setuptools-scm or
hatch-vcs): the code imports them, so the workspace has them too, although it leaves gitignored files out.

They are copied from the person's folder as they are, never recorded in the baseline (so never deployed, never
deleted), and stay invisible to every scan, like any other ignored file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path, PurePosixPath

from tui_agent.workspace.safefs import read_regular

LIMIT = 1 << 20


def declared(project: Path) -> list[str]:
    """The generated files pyproject.toml names (relative, normalized, inside the project)."""
    try:
        data = tomllib.loads(read_regular(project, "pyproject.toml", limit=LIMIT)[0].decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    scm = tool.get("setuptools_scm") or {}
    hatch = tool.get("hatch") or {}
    hooks = ((hatch.get("build") or {}).get("hooks") or {}) if isinstance(hatch, dict) else {}
    vcs = hooks.get("vcs") or {} if isinstance(hooks, dict) else {}
    names = [scm.get("write_to"), scm.get("version_file")] if isinstance(scm, dict) else []
    names += [vcs.get("version-file")] if isinstance(vcs, dict) else []
    found = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            continue
        rel = PurePosixPath(name.strip())
        if not rel.is_absolute() and ".." not in rel.parts and rel.as_posix() not in found:
            found.append(rel.as_posix())
    return found


def copy_in(project: Path, workspace: Path, copied: set[str], owner: tuple[int, int] | None) -> list[str]:
    """Copy the declared generated files the workspace copy left out (gitignored); return their paths."""
    done = []
    for rel in declared(project):
        dest = workspace / rel
        if rel in copied or not dest.parent.is_dir() or dest.parent.is_symlink() or os.path.lexists(dest):
            continue
        try:
            data, st = read_regular(project, rel, limit=LIMIT)
        except OSError:
            continue
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(fd, st.st_mode & 0o777)
        if owner:
            os.lchown(dest, *owner)
        done.append(rel)
    return done
