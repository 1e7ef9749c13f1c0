"""Workspace: gitignore-aware copy, path confinement, snapshots/diff/restore, dedup, tmpfs quota and close."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from tui_agent.workspace import quota as fsquota
from tui_agent.workspace.gitignore import RuleSet
from tui_agent.workspace.workspace import Workspace, WorkspaceError

OWNER = (1000, 1000)
root_only = pytest.mark.skipif(not fsquota.can_cap(), reason="needs root (tmpfs mounts)")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.fixture
def make_ws(tmp_path):
    made: list[Workspace] = []

    def make(files: dict, **kw) -> Workspace:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        write(project, files)
        kw.setdefault("owner", OWNER)
        kw.setdefault("quota_mb", 64)
        ws = Workspace.create(project, tmp_path / "session", **kw)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def test_gitignore_rules():
    rules = RuleSet.parse("*.log\n!keep.log\nbuild/\n/top.txt\ndocs/**/*.tmp\n**/cache\n\\#hash\n  \n# c\n")
    assert rules.match("a/b/x.log", False) is True
    assert rules.match("a/keep.log", False) is False
    assert rules.match("build", True) is True and rules.match("build", False) is None
    assert rules.match("src/build", True) is True
    assert rules.match("top.txt", False) is True and rules.match("a/top.txt", False) is None
    assert rules.match("docs/x.tmp", False) is True and rules.match("docs/a/b/x.tmp", False) is True
    assert rules.match("other/x.tmp", False) is None
    assert rules.match("deep/er/cache", True) is True
    assert rules.match("#hash", False) is True


def test_copy_respects_gitignore(make_ws, tmp_path):
    ws = make_ws({
        ".gitignore": "*.log\n!keep.log\nbuild/\n/top.txt\n**/gen/**\n",
        "a.py": "a", "x.log": "x", "keep.log": "k", "build/out.o": "o", "top.txt": "t", "sub/top.txt": "s",
        "sub/.gitignore": "local.txt\n!important.log\n", "sub/local.txt": "l", "sub/important.log": "i",
        "pkg/gen/g.py": "g", ".git/config": "c", ".tui-agent/rules": "r", "sub/.git/HEAD": "h",
    })
    assert ws.files.list_files() == [".gitignore", "a.py", "keep.log", "sub/.gitignore", "sub/important.log",
                               "sub/top.txt"]
    assert not (ws.path / ".git").exists() and not (ws.path / "build").exists()
    assert ws.files.list_files("sub") == ["sub/.gitignore", "sub/important.log", "sub/top.txt"]
    assert os.lstat(ws.path / "a.py").st_uid == OWNER[0]


def test_project_symlinks_copied_only_if_inside(tmp_path, make_ws):
    (tmp_path / "outside.txt").write_text("secret")
    project = tmp_path / "project"
    project.mkdir()
    os.symlink("a.py", project / "inside")
    os.symlink("../outside.txt", project / "out")
    os.symlink(str(project / "a.py"), project / "absolute")
    ws = make_ws({"a.py": "a"})
    assert os.readlink(ws.path / "inside") == "a.py"
    assert not os.path.lexists(ws.path / "out") and not os.path.lexists(ws.path / "absolute")
    assert {p for p, _ in ws.skipped} == {"out", "absolute"}


def test_path_escapes_refused(make_ws, tmp_path):
    ws = make_ws({"a.py": "a", "dir/b.py": "b"})
    os.symlink("/etc", ws.path / "etc_link")
    os.symlink("/etc/passwd", ws.path / "passwd")
    os.symlink("dir", ws.path / "ok_link")
    for bad in ["../x", "dir/../../x", "/etc/passwd", str(ws.path / "a.py"), "etc_link/passwd", "passwd", "~/x"]:
        with pytest.raises(WorkspaceError):
            ws.files.resolve(bad)
    with pytest.raises(WorkspaceError):
        ws.files.read_text("passwd")
    before = Path("/etc/passwd").read_bytes()
    with pytest.raises(WorkspaceError):
        ws.files.write_text("etc_link/evil", "x")
    with pytest.raises(WorkspaceError):
        ws.files.write_text("../outside.txt", "x")
    assert not Path("/etc/evil").exists() and not (tmp_path / "outside.txt").exists()
    assert Path("/etc/passwd").read_bytes() == before
    assert ws.files.read_text("ok_link/b.py") == "b"
    assert ws.files.resolve("dir/./b.py") == ws.path.resolve() / "dir/b.py"


def test_write_text_creates_parents_owned_by_sandbox_user(make_ws):
    ws = make_ws({"a.py": "a"})
    ws.files.write_text("new/deep/c.py", "print(1)\n")
    assert ws.files.read_text("new/deep/c.py") == "print(1)\n"
    for p in ["new", "new/deep", "new/deep/c.py"]:
        assert os.lstat(ws.path / p).st_uid == OWNER[0]
    with pytest.raises(WorkspaceError, match="no such file"):
        ws.files.read_text("missing.py")


def test_snapshot_diff_restore_round_trip(make_ws):
    ws = make_ws({"a.py": "one\ntwo\nthree\n", "b.txt": "bye\n", "img.bin": b"\x00\x01\x02", "run.sh": "echo\n"})
    s0 = ws.snapshot()
    assert s0 == ws.baseline  # nothing changed since the copy
    ws.files.write_text("a.py", "one\nTWO\nthree\n")
    ws.files.write_text("new/c.py", "new")
    os.unlink(ws.path / "b.txt")
    (ws.path / "img.bin").write_bytes(b"\x00\x09")
    os.chmod(ws.path / "run.sh", 0o755)
    s1 = ws.snapshot()
    text, paths = ws.diff(s0, s1)
    assert paths == ["a.py", "b.txt", "img.bin", "new/c.py", "run.sh"]
    assert "diff --git a/a.py b/a.py\n" in text and "-two\n+TWO\n" in text
    assert "deleted file mode 100644\n" in text and "--- a/b.txt\n+++ /dev/null\n" in text
    assert "Binary files a/img.bin and b/img.bin differ" in text
    assert "new file mode 100644\n" in text and "+++ b/new/c.py\n" in text and "\\ No newline at end of file" in text
    assert "old mode 100644\nnew mode 100755\n" in text
    assert ws.diff(s0) == (text, paths)  # until=None: the files now
    ws.restore(s0)
    assert ws.files.read_text("a.py") == "one\ntwo\nthree\n" and ws.files.read_text("b.txt") == "bye\n"
    assert not (ws.path / "new").exists() and (ws.path / "img.bin").read_bytes() == b"\x00\x01\x02"
    assert stat.S_IMODE(os.lstat(ws.path / "run.sh").st_mode) == 0o644
    assert ws.snapshot() == s0 and ws.diff(s0) == ("", [])
    ws.restore(s1)
    assert ws.snapshot() == s1
    assert os.lstat(ws.path / "new/c.py").st_uid == OWNER[0]


def test_restore_removes_planted_things_without_following_them(make_ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = make_ws({"src/a.py": "a"})
    s0 = ws.snapshot()
    os.unlink(ws.path / "src/a.py")
    os.rmdir(ws.path / "src")
    os.symlink(str(outside), ws.path / "src")  # a folder swapped for a symlink out
    os.mkfifo(ws.path / "pipe")
    ws.restore(s0)
    assert not os.path.islink(ws.path / "src") and ws.files.read_text("src/a.py") == "a"
    assert not os.path.lexists(ws.path / "pipe")
    assert list(outside.iterdir()) == []


def test_same_size_rewrite_right_after_snapshot_is_seen(make_ws):
    ws = make_ws({"a.py": "aaa"})
    s0 = ws.snapshot()
    ws.files.write_text("a.py", "bbb")
    s1 = ws.snapshot()
    ws.files.write_text("a.py", "ccc")  # same size, likely the same coarse mtime tick
    assert ws.diff(s1)[1] == ["a.py"] and s1 != s0


def test_objects_are_deduplicated(make_ws, tmp_path):
    ws = make_ws({f"f{i}.txt": f"content {i}\n" for i in range(20)} | {"dup1": "same", "dup2": "same"})
    objects = lambda: sorted(p for p in (tmp_path / "session/objects").rglob("*") if p.is_file())  # noqa: E731
    first = objects()
    assert len(first) == 21  # 20 distinct + one for both duplicates
    ws.snapshot()
    ws.snapshot()
    assert objects() == first
    ws.files.write_text("f3.txt", "changed\n")
    ws.snapshot()
    assert len(objects()) == 22
    ws.files.write_text("f4.txt", "content 5\n")  # now equal to f5.txt: nothing new to store
    ws.snapshot()
    assert len(objects()) == 22


def test_unknown_snapshot_is_a_workspace_error(make_ws):
    ws = make_ws({"a": "a"})
    with pytest.raises(WorkspaceError, match="unknown snapshot"):
        ws.diff("nope")


@root_only
def test_close_leaves_a_plain_folder(make_ws, tmp_path):
    ws = make_ws({"a.py": "a", "d/b.py": "b"})
    assert fsquota.is_mounted(ws.path)
    ws.files.write_text("d/c.py", "c")
    os.symlink("a.py", ws.path / "link")
    ws.close()
    ws.close()
    assert not fsquota.is_mounted(ws.path) and ws.path.is_dir()
    assert (ws.path / "d/c.py").read_text() == "c" and os.readlink(ws.path / "link") == "a.py"
    assert os.lstat(ws.path / "d/c.py").st_uid == OWNER[0]
    assert not (tmp_path / "session/workspace.closing").exists()


@root_only
def test_open_reattaches_and_recaps(make_ws, tmp_path):
    ws = make_ws({"a.py": "a"})
    ws.files.write_text("a.py", "changed")
    sid = ws.snapshot()
    ws.close()
    again = Workspace.open(tmp_path / "session", tmp_path / "project")
    try:
        assert fsquota.is_mounted(again.path) and again.owner == OWNER
        assert again.files.read_text("a.py") == "changed"
        assert again.diff(again.baseline)[1] == ["a.py"] and again.snapshot() == sid
    finally:
        again.close()
    with pytest.raises(WorkspaceError):
        Workspace.open(tmp_path / "session", tmp_path / "elsewhere")


@root_only
def test_quota_enospc(make_ws):
    ws = make_ws({"a.py": "a"}, quota_mb=2)
    with pytest.raises(OSError) as info:
        with open(ws.path / "big", "wb") as f:
            for _ in range(3 * 16):
                f.write(b"\0" * 65536)
    assert info.value.errno == errno.ENOSPC
    os.unlink(ws.path / "big")
    with pytest.raises(WorkspaceError, match="full"):
        ws.files.write_text("big.txt", "x" * (3 << 20))


@root_only
def test_project_too_big_for_quota(tmp_path):
    write(tmp_path / "project", {"big.bin": os.urandom(2 << 20)})
    with pytest.raises(WorkspaceError, match="quota"):
        Workspace.create(tmp_path / "project", tmp_path / "session", quota_mb=1)
    assert not fsquota.is_mounted(tmp_path / "session/workspace")


def test_session_inside_project_is_not_copied(tmp_path):
    write(tmp_path / "project", {"a.py": "a"})
    ws = Workspace.create(tmp_path / "project", tmp_path / "project/sessions/s1", quota_mb=16)
    try:
        assert ws.files.list_files() == ["a.py"]
        ws.files.write_text("a.py", "b")
        assert ws.deploy() == ["a.py"]
    finally:
        ws.close()


def test_restore_never_writes_through_an_ignored_symlinked_folder(make_ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = make_ws({"src/a.py": "a", ".gitignore": "*.log\n"})
    s0 = ws.snapshot()
    os.unlink(ws.path / "src/a.py")
    os.rmdir(ws.path / "src")
    os.symlink(str(outside), ws.path / "src")
    ws.files.write_text(".gitignore", "src\n")  # hide the swap from the scan
    ws.restore(s0)
    assert list(outside.iterdir()) == []
    assert not os.path.islink(ws.path / "src") and ws.files.read_text("src/a.py") == "a"
    assert ws.files.read_text(".gitignore") == "*.log\n"


def test_fork_starts_a_new_session_at_a_snapshot(make_ws, tmp_path):
    ws = make_ws({"a.py": "a", "d/b.py": "b"})
    ws.files.write_text("a.py", "one")
    s1 = ws.snapshot()
    ws.files.write_text("a.py", "two")
    ws.snapshot()
    fork = ws.fork(tmp_path / "forked", s1)
    try:
        assert fork.files.read_text("a.py") == "one" and fork.files.read_text("d/b.py") == "b"
        assert fork.snapshot() == s1 and fork.baseline == ws.baseline
        assert fork.diff(fork.baseline)[1] == ["a.py"]
        fork.files.write_text("a.py", "forked")
        assert ws.files.read_text("a.py") == "two"
        assert fork.deploy() == ["a.py"] and (tmp_path / "project/a.py").read_text() == "forked"
    finally:
        fork.close()


def test_write_text_refuses_special_files_without_blocking(make_ws):
    ws = make_ws({"a.py": "a"})
    os.mkfifo(ws.path / "pipe")
    with pytest.raises(WorkspaceError):
        ws.files.write_text("pipe", "x")  # no reader: must fail, not hang
    with pytest.raises(WorkspaceError):
        ws.files.read_text("pipe")
    with pytest.raises(WorkspaceError):
        ws.files.write_text("a.py/inner", "x")


def test_snapshot_with_diff_is_snapshot_plus_diff(make_ws):
    ws = make_ws({"a.py": "a\n"})
    s0 = ws.snapshot()
    ws.files.write_text("a.py", "b\n")
    sid, text, paths = ws.snapshot_with_diff(s0)
    assert paths == ["a.py"] and "-a\n+b\n" in text and sid == ws.snapshot()
    assert ws.snapshot_with_diff(sid) == (sid, "", [])


def test_python_caches_are_ignored_without_a_gitignore(make_ws):
    ws = make_ws({"a.py": "a", "__pycache__/a.cpython-311.pyc": b"\x00", "pkg/b.pyc": b"\x00", ".pytest_cache/x": "x"})
    assert ws.files.list_files() == ["a.py"]
    s0 = ws.snapshot()
    write(ws.path, {"__pycache__/a.cpython-311.pyc": b"\x01", "t/__pycache__/t.pyc": b"\x02"})
    assert ws.diff(s0) == ("", [])
