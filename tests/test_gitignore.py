"""The .gitignore matcher agrees with `git check-ignore` on a spread of patterns and paths."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tui_agent.workspace.gitignore import Ignore, RuleSet

pytestmark = pytest.mark.unit

ROOT = r"""*.log
!keep.log
build/
/top.txt
docs/**/*.tmp
**/cache
a/**/z
foo/*
!foo/bar
*.py[co]
[!x]y.txt
\#hash
sp\ ace
trailing   
dir_only/
/anch/sub
**/deep/**
"""
SUB = "local.txt\n!important.log\n/rooted\n"
PATHS = ["x.log", "keep.log", "sub/keep.log", "build/", "build/a", "src/build/", "top.txt", "sub/top.txt",
         "docs/x.tmp", "docs/a/b/x.tmp", "other/x.tmp", "q/cache", "cache", "a/z", "a/b/c/z", "foo/x", "foo/bar",
         "foo/bar/baz", "m.pyc", "m.pyo", "m.pyd", "ay.txt", "xy.txt", "#hash", "sp ace", "trailing", "dir_only",
         "dir_only/", "anch/sub", "x/anch/sub", "deep/x", "y/deep/z/w", "sub/local.txt", "sub/important.log",
         "sub/rooted", "sub/x/rooted", "sub/x.log"]


def ours(path: str) -> bool:
    """Like the workspace walk: a path is out if it or any parent folder is ignored."""
    is_dir, path = path.endswith("/"), path.rstrip("/")
    parts = path.split("/")
    ignore = Ignore().push("", RuleSet.parse(ROOT))
    for i in range(1, len(parts) + 1):
        rel = "/".join(parts[:i])
        last = i == len(parts)
        if ignore.ignored(rel, is_dir or not last):
            return True
        if rel == "sub" and not last:
            ignore = ignore.push("sub", RuleSet.parse(SUB))
    return False


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_matches_git_check_ignore(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(ROOT)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/.gitignore").write_text(SUB)
    for path in PATHS:
        git = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=tmp_path).returncode == 0
        assert ours(path) == git, path
