"""Which project paths watch mode follows: not .git, caches, virtual environments, our temp files, gitignored ones."""

from __future__ import annotations

import os
import stat
import time

from tui_agent.workspace.gitignore import ALWAYS_SKIP, Ignore, RuleSet
from tui_agent.workspace.safefs import O_READ
from tui_agent.workspace.snapshots import RACY_NS

CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".hypothesis"})
VENV_NAMES = frozenset({".venv", "venv"})
TMP_SUFFIX = ".tui-agent-tmp"  # safefs.write_file's temporary files


def _under(rel: str, folder: str) -> bool:
    return rel == folder or rel.startswith(folder + "/")


def watched(project, rel: str, ignore: Ignore, skip: frozenset[str] = frozenset()) -> bool:
    """True when a change at `rel` (relative to the project) matters to the check."""
    parts = rel.split("/")
    if not rel or any(p in ALWAYS_SKIP or p in CACHE_DIRS or p in VENV_NAMES or p in ("", ".", "..") for p in parts):
        return False
    if parts[0].startswith(".tui-agent-staging-") or parts[-1].endswith(TMP_SUFFIX) or parts[-1].endswith(".pyc"):
        return False
    if any(_under(rel, s) for s in skip):
        return False
    return not _venv_or_ignored(str(project), parts, ignore)


def _venv_or_ignored(root: str, parts: list[str], ignore: Ignore) -> bool:
    for i in range(len(parts)):
        base = "/".join(parts[:i])
        folder = os.path.join(root, base) if base else root
        if i and os.path.lexists(os.path.join(folder, "pyvenv.cfg")):
            return True  # a virtual environment, whatever its name
        rules = _gitignore(os.path.join(folder, ".gitignore"))
        if rules is not None:
            ignore = ignore.push(base, rules)
        if not ignore.stack:
            continue
        sub = "/".join(parts[:i + 1])
        path = os.path.join(root, sub)
        is_dir = i < len(parts) - 1 or (os.path.isdir(path) and not os.path.islink(path))
        if ignore.ignored(sub, is_dir):
            return True
    return False


_RULES: dict[str, tuple[tuple, RuleSet | None]] = {}


def _gitignore(path: str) -> RuleSet | None:
    """The rules of one .gitignore (None when absent), cached by lstat."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    hit = _RULES.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with open(os.open(path, O_READ), encoding="utf-8", errors="replace") as f:
            rules = RuleSet.parse(f.read(1 << 20))
    except OSError:
        return None
    if len(_RULES) > 4096:
        _RULES.clear()
    if time.time_ns() - st.st_mtime_ns > RACY_NS:
        _RULES[path] = (key, rules)
    return rules
