"""Which files of a deploy can run code on the person's machine or change tui-agent's behaviour, and which never go.

A flagged file is listed first and left unchecked until the person checks it; a refused one is never deployed."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from pathlib import Path

from tui_agent.trust import REQUIREMENT_GLOBS
from tui_agent.workspace.safefs import read_regular

# names a terminal or an editor could be fooled by: C0, DEL, C1, bidirectional and zero-width controls
CONTROL_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
NEVER_DIRS = (".git", ".tui-agent")  # git hooks and config run on the host; tui-agent's own permissions

# (glob on the path, why); first match wins; "*/" globs match at any depth
RISKY = (
    ("tui-agent.toml", "tui-agent's own config: changes what the next run may do"),
    (".mcp.json", "MCP servers: started on your machine by the next run"),
    ("pyproject.toml", "may hold [tool.tui-agent] and the build steps that run when the project is installed"),
    (".envrc", "direnv runs it in your shell when you enter the folder"),
    (".vscode/*", "editor config: tasks and settings can run commands on your machine"),
    (".idea/*", "editor config: run configurations can run commands on your machine"),
    (".github/workflows/*", "CI workflow: runs with your repository's secrets when pushed"),
    (".gitattributes", "git filters and diff drivers can run commands"),
    (".gitmodules", "git submodules: fetched and checked out by git"),
    (".pre-commit-config.yaml", "pre-commit hooks run on your machine"),
    ("Makefile", "make runs it"), ("makefile", "make runs it"), ("GNUmakefile", "make runs it"),
    ("*/Makefile", "make runs it"),
    ("Dockerfile", "environment input: built with Docker's isolation"),
    ("*.Dockerfile", "environment input: built with Docker's isolation"),
    ("Dockerfile.*", "environment input: built with Docker's isolation"),
    (".devcontainer/*", "environment input: the devcontainer is built and run"),
    *((glob, "environment input: installed in the check's environment") for glob in REQUIREMENT_GLOBS),
    ("uv.lock", "environment input: installed in the check's environment"),
    ("setup.py", "runs when the project is installed"),
    ("setup.cfg", "environment input: read when the project is installed"),
    ("conftest.py", "pytest runs it on your machine when you run the tests"),
    ("*/conftest.py", "pytest runs it on your machine when you run the tests"),
    ("sitecustomize.py", "Python runs it at every start"),
    ("*.pth", "Python runs its import lines at every start"),
)


SHOWN_BYTES = 256 << 10  # of a flagged file's content, in the deploy confirmation


def left_out(plan, include: tuple = (), denied=None) -> dict[str, str]:
    """The paths of a plan the deploy must skip, and why: flagged ones not chosen, ones a deny rule covers."""
    skip = {rel: "flagged, and you left it unchecked" for rel, _ in plan.flagged if rel not in include}
    for rel in (plan.writes + plan.deletes) if denied is not None else ():
        if why := denied(rel):
            skip[rel] = why
    return skip


def shown(ws_root: Path, plan) -> tuple:
    """(path, why, content) of each flagged file, for the confirmation; content as the workspace holds it."""
    out = []
    for rel, why in plan.flagged:
        if rel in plan.deletes:
            out.append((rel, why, "(deleted by the deploy)"))
            continue
        try:
            data = read_regular(ws_root, rel, limit=SHOWN_BYTES)[0]
            text = data.decode("utf-8", errors="replace")
        except OSError as exc:
            text = (f"(larger than {SHOWN_BYTES} bytes: not shown; open the workspace file to read it)"
                    if exc.errno == errno.EFBIG else f"(cannot be read: {exc.strerror})")
        out.append((rel, why, text))
    return tuple(out)


UNSCANNED_WHY = {
    ".tui-agent": "tui-agent's own permissions, written in the workspace (only you write yours): never deployed",
    ".git": "git internals written in the workspace (hooks and config would run on your machine): never deployed",
}
LISTED = 50  # files of one such folder listed by name; the rest in one line with their count


def unscanned(ws_root: Path) -> list[tuple[str, str]]:
    """(path, why) of the files in the workspace's own .tui-agent and .git folders. The scan skips these (the
    project's are never copied in), so whatever is there was made in the workspace, by the agent or a check:
    listed with the files that are never deployed, so that nothing written is left out of the count."""
    out: list[tuple[str, str]] = []
    for name, why in UNSCANNED_WHY.items():
        top = ws_root / name
        if not top.is_dir() or top.is_symlink():
            if top.is_symlink() or top.exists():
                out.append((name, why))
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(top):  # symlinks to folders are listed, never followed
            rel_dir = os.path.relpath(dirpath, ws_root)
            found += [f"{rel_dir}/{f}" for f in filenames]
            found += [f"{rel_dir}/{d}" for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            if len(found) > 10 * LISTED:
                break
        found.sort()
        out += [(rel, why) for rel in found[:LISTED]]
        if len(found) > LISTED:
            more = f"{len(found) - LISTED}{'+' if len(found) > 10 * LISTED else ''}"
            out.append((f"{name}/…", f"{more} more file(s) in {name}/ ({why})"))
    return out


def refused(rel: str) -> str | None:
    """Why this path is never deployed, or None."""
    if CONTROL_NAME.search(rel):
        return "the name holds control characters: never deployed"
    if any(part in NEVER_DIRS for part in rel.split("/")):
        return "git internals or tui-agent's own folder (hooks would run on your machine): never deployed"
    return None


def flag(rel: str, mode: int | None, base_mode: int | None) -> str | None:
    """Why deploying this path needs the person's explicit check, or None. `mode`: None for a delete."""
    for pattern, why in RISKY:
        if fnmatch.fnmatchcase(rel, pattern):
            return why
    if mode is not None and stat.S_ISREG(mode) and mode & 0o111:
        if base_mode is None or not base_mode & 0o111:
            return "a new executable file"
    return None
