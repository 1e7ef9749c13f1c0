"""Deploy: the safe, all-or-nothing copy-back from the workspace into the person's folder."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tui_agent.workspace.workspace import DeployError, Workspace

OWNER = (1000, 1000)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())


def tree(root: Path) -> dict[str, tuple]:
    """Everything under root (no symlink followed): type+mode, content hash or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[str(p.relative_to(root))] = (st.st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                out[str(p.relative_to(root))] = (st.st_mode, os.readlink(p))
            else:
                out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode),)
    return out


@pytest.fixture
def env(tmp_path):
    """A project, an 'outside' folder next to it, and a factory for workspaces (closed at the end)."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    write(outside, {"secret.txt": "keep me"})
    write(project, {
        ".gitignore": "build/\n*.log\n", "a.py": "a = 1\n", "pkg/b.py": "b = 2\n", "pkg/old/gone.py": "x\n",
        "build/artifact.o": "binary", "debug.log": "log", ".git/config": "[core]\n", "z/locked.txt": "lock\n",
    })
    made = []

    def make(**kw) -> Workspace:
        kw.setdefault("owner", OWNER)
        kw.setdefault("quota_mb", 64)
        ws = Workspace.create(project, tmp_path / "session", **kw)
        made.append(ws)
        return ws

    state = {"project": project, "outside": outside, "make": make,
             "passwd": hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()}
    yield state
    for ws in made:
        ws.close()
    subprocess.run(["chattr", "-R", "-i", str(project)], capture_output=True)


def assert_nothing_outside_written(env, before_outside):
    assert tree(env["outside"]) == before_outside
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == env["passwd"]
    assert not any(p.name.startswith(".tui-agent-staging-") for p in env["project"].iterdir())


def test_deploy_happy_path(env):
    ws = env["make"]()
    ws.files.write_text("a.py", "a = 10\n")
    ws.files.write_text("pkg/new/c.py", "c = 3\n")
    os.unlink(ws.path / "pkg/old/gone.py")
    os.rmdir(ws.path / "pkg/old")
    os.chmod(ws.path / "pkg/b.py", 0o755)
    assert ws.plan_deploy().paths == ["a.py", "pkg/b.py", "pkg/new/c.py", "pkg/old/gone.py"]
    done = ws.deploy()
    assert done == ["a.py", "pkg/b.py", "pkg/new/c.py", "pkg/old/gone.py"]
    p = env["project"]
    assert (p / "a.py").read_text() == "a = 10\n" and (p / "pkg/new/c.py").read_text() == "c = 3\n"
    assert not (p / "pkg/old").exists()
    assert stat.S_IMODE(os.lstat(p / "pkg/b.py").st_mode) == 0o755
    assert (p / "build/artifact.o").read_text() == "binary" and (p / "debug.log").exists()
    assert (p / ".git/config").read_text() == "[core]\n"
    assert not any(x.name.startswith(".tui-agent-staging-") for x in p.iterdir())
    # the baseline moved: a second round deploys only the new change
    ws.files.write_text("a.py", "a = 11\n")
    assert ws.deploy() == ["a.py"] and (p / "a.py").read_text() == "a = 11\n"
    assert ws.deploy() == []


def test_deploy_never_touches_project_git_nor_ignored(env):
    ws = env["make"]()
    write(ws.path, {".git/hooks/post-checkout": "#!/bin/sh\nrm -rf ~\n", "build/artifact.o": "evil", "x.log": "l"})
    before = tree(env["project"])
    assert ws.deploy() == []
    assert tree(env["project"]) == before


def test_deploy_refused_when_project_changed_underneath(env):
    ws = env["make"]()
    ws.files.write_text("a.py", "from the agent\n")
    p = env["project"]
    # changes in ignored files and .git/ do not count
    (p / "build/artifact.o").write_text("rebuilt")
    (p / ".git/config").write_text("[core]\nbare = false\n")
    (p / "a.py").write_text("the person edited this\n")
    (p / "notes.md").write_text("new file by the person\n")
    before = tree(p)
    with pytest.raises(DeployError, match="changed since") as info:
        ws.deploy()
    assert "a.py" in str(info.value) and "notes.md" in str(info.value)
    assert tree(p) == before


def test_planted_symlinks_are_never_followed(env):
    ws = env["make"]()
    before_outside, before = tree(env["outside"]), tree(env["project"])
    os.unlink(ws.path / "a.py")
    os.symlink("/etc/passwd", ws.path / "a.py")  # replaces a file
    os.symlink(str(env["outside"] / "secret.txt"), ws.path / "leak.txt")  # a new one
    os.symlink("a.py", ws.path / "inside_link")
    for f in (ws.path / "pkg").iterdir():
        if f.is_file():
            f.unlink()
    (ws.path / "pkg/old/gone.py").unlink()
    (ws.path / "pkg/old").rmdir()
    (ws.path / "pkg").rmdir()
    os.symlink(str(env["outside"]), ws.path / "pkg")  # a folder swapped for a symlink out
    assert ws.deploy() == []
    reasons = dict(ws.last_plan.skipped)
    assert "symlink" in reasons["a.py"] and "symlink" in reasons["leak.txt"] and "symlink" in reasons["pkg/b.py"]
    assert tree(env["project"]) == before
    assert_nothing_outside_written(env, before_outside)


def test_special_files_and_setuid(env):
    ws = env["make"]()
    before_outside = tree(env["outside"])
    os.mkfifo(ws.path / "fifo")
    os.unlink(ws.path / "a.py")
    os.mkfifo(ws.path / "a.py")  # a file replaced by a FIFO: must not block nor be deployed
    os.mknod(ws.path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    ws.files.write_text("tool.sh", "#!/bin/sh\n")
    os.chmod(ws.path / "tool.sh", 0o6755 | stat.S_ISVTX)
    assert ws.deploy() == ["tool.sh"]
    p = env["project"]
    assert stat.S_IMODE(os.lstat(p / "tool.sh").st_mode) == 0o755
    assert (p / "a.py").read_text() == "a = 1\n"
    assert not os.path.lexists(p / "fifo") and not os.path.lexists(p / "null")
    reasons = dict(ws.last_plan.skipped)
    assert "FIFO" in reasons["fifo"] and "FIFO" in reasons["a.py"] and "device" in reasons["null"]
    assert dict(ws.last_plan.notes)["tool.sh"].startswith("setuid")
    assert_nothing_outside_written(env, before_outside)


def test_oversize_deploy_refused(env):
    ws = env["make"](quota_mb=1)
    before = tree(env["project"])
    ws.files.write_text("small.txt", "ok")
    (ws.path / "big.bin").write_bytes(os.urandom(5000))
    with pytest.raises(DeployError, match="limit"):
        ws.deploy(max_bytes=4000)
    assert tree(env["project"]) == before
    ws.deploy(max_bytes=5002)  # small.txt + big.bin fit exactly
    assert (env["project"] / "big.bin").stat().st_size == 5000


def test_all_or_nothing_when_failing_midway(env):
    p = env["project"]
    ws = env["make"]()
    ws.files.write_text("a.py", "a = 99\n")  # written first (sorted order)
    ws.files.write_text("new/c.py", "c\n")
    os.unlink(ws.path / "pkg/old/gone.py")
    os.rmdir(ws.path / "pkg/old")  # the project's pkg/old is removed, then must come back
    ws.files.write_text("z/locked.txt", "changed\n")  # its folder is immutable in the project: this write fails
    if subprocess.run(["chattr", "+i", str(p / "z")], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    before = tree(p)
    with pytest.raises(DeployError, match="unchanged"):
        ws.deploy()
    assert tree(p) == before
    subprocess.run(["chattr", "-i", str(p / "z")], check=True)
    assert sorted(ws.deploy()) == ["a.py", "new/c.py", "pkg/old/gone.py", "z/locked.txt"]


def test_no_write_through_a_project_symlink(env):
    p = env["project"]
    os.symlink(str(env["outside"]), p / "docs")  # the person's own symlink, pointing out: not copied
    os.symlink("/etc/passwd", p / "data.txt")
    ws = env["make"]()
    before_outside, before = tree(env["outside"]), tree(p)
    ws.files.write_text("docs/new.md", "# hi\n")
    with pytest.raises(DeployError, match="symlink"):
        ws.deploy()
    assert tree(p) == before
    os.unlink(ws.path / "docs/new.md")
    os.rmdir(ws.path / "docs")
    ws.files.write_text("data.txt", "overwrite?")
    with pytest.raises(DeployError, match="never saw"):
        ws.deploy()
    assert tree(p) == before
    assert_nothing_outside_written(env, before_outside)


def test_file_replaced_by_folder_and_back(env):
    ws = env["make"]()
    os.unlink(ws.path / "a.py")
    ws.files.write_text("a.py/inner.py", "inner\n")
    for f in ["pkg/b.py", "pkg/old/gone.py"]:
        os.unlink(ws.path / f)
    os.rmdir(ws.path / "pkg/old")
    os.rmdir(ws.path / "pkg")
    ws.files.write_text("pkg", "now a file\n")
    assert ws.deploy() == ["a.py", "a.py/inner.py", "pkg", "pkg/b.py", "pkg/old/gone.py"]
    p = env["project"]
    assert (p / "a.py/inner.py").read_text() == "inner\n" and (p / "pkg").read_text() == "now a file\n"


def test_deployed_files_belong_to_the_project_owner(env):
    p = env["project"]
    os.chown(p, 1234, 1234)
    os.chown(p / "a.py", 1234, 1234)
    ws = env["make"]()
    ws.files.write_text("a.py", "mine\n")
    ws.files.write_text("sub/new.py", "new\n")
    assert os.lstat(ws.path / "a.py").st_uid == OWNER[0]
    ws.deploy()
    for rel in ["a.py", "sub", "sub/new.py"]:
        assert os.lstat(p / rel).st_uid == 1234, rel
