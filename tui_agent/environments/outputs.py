"""Extension modules the environment build compiles into its copy of the project, for the run's workspace.

An editable install of a project with a C extension (setuptools `build_ext --inplace`) leaves `pkg/_speedups.*.so`
next to the sources of the build's copy, which is thrown away: the workspace, a copy of the person's folder, has no
such file and the checks cannot import it. The build keeps those files with the environment (`outputs/KEY/` under
the environment root) and each run copies them into its workspace before the first check, but only where the
workspace would never show them (the project's .gitignore hides them, as it hides `*.so` in most projects): so no
diff, no deploy and no scan ever sees them. Never over an existing file, never through a symlinked folder.
They are as old as the environment: an edit of the C source needs `tui-agent env build --force`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tui_agent.workspace.generated import BUILT, CACHES
from tui_agent.workspace.gitignore import Ignore, RuleSet
from tui_agent.workspace.safefs import O_READ, open_dir, read_regular

FILE_LIMIT, TOTAL_LIMIT = 64 << 20, 256 << 20


def save(copy: Path, project: Path, dest: Path) -> list[str]:
    """Keep in `dest` the build outputs in `copy` that the person's folder does not have; return their paths."""
    shutil.rmtree(dest, ignore_errors=True)
    kept: list[str] = []
    total = 0
    for top, dirs, files in os.walk(copy):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in CACHES)
        for name in sorted(files):
            path = Path(top, name)
            rel = path.relative_to(copy).as_posix()
            if not name.endswith(BUILT) or path.is_symlink() or os.path.lexists(project / rel):
                continue
            try:
                data, st = read_regular(copy, rel, limit=FILE_LIMIT)
            except OSError:
                continue
            total += len(data)
            if total > TOTAL_LIMIT:
                return kept
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_bytes(data)
            os.chmod(dest / rel, st.st_mode & 0o755)
            kept.append(rel)
    return kept


def place(kept: Path, workspace: Path, ignore: Ignore, owner: tuple[int, int] | None) -> list[str]:
    """Copy the kept outputs into `workspace` where its scans never look; return the paths placed."""
    placed: list[str] = []
    if not kept.is_dir():
        return placed
    for top, _dirs, files in os.walk(kept):
        for name in sorted(files):
            rel = Path(top, name).relative_to(kept).as_posix()
            if hidden(workspace, ignore, rel) and _write_new(workspace, rel, Path(top, name), owner):
                placed.append(rel)
    return placed


def hidden(root: Path, ignore: Ignore, rel: str) -> bool:
    """Would a scan of `root` leave `rel` out: ignored itself, or inside an ignored folder (nested .gitignore too)?"""
    parts = rel.split("/")
    for depth in range(len(parts)):
        base = "/".join(parts[:depth])
        try:
            with open(os.open(root / base / ".gitignore", O_READ), encoding="utf-8", errors="replace") as f:
                rules = RuleSet.parse(f.read(1 << 20))
            ignore = ignore.push(base, rules)
        except OSError:
            pass
        if ignore.stack and ignore.ignored("/".join(parts[:depth + 1]), depth < len(parts) - 1):
            return True
    return False


def _write_new(workspace: Path, rel: str, source: Path, owner: tuple[int, int] | None) -> bool:
    *dirs, name = rel.split("/")
    try:
        root = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fd = open_dir(root, dirs)  # the package folder must be there, and no symlink on the way
        finally:
            os.close(root)
        try:
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=fd)
        finally:
            os.close(fd)
    except OSError:
        return False
    with os.fdopen(out, "wb") as f:
        f.write(source.read_bytes())
        os.fchmod(f.fileno(), source.stat().st_mode & 0o755)
        if owner:
            os.fchown(f.fileno(), *owner)
    return True
