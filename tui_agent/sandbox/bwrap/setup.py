"""What the bwrap sandbox needs from the host: tools, a probe, the staged /etc files and bwrap's options."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tui_agent.sandbox.base import GIT_IDENTITY, Limits, SandboxUnavailable

# read-only from the host: what dynamic linking, python3 and common tools need, nothing with secrets
ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "mime.types"]
SYSTEM_DIRS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]
STAGE_PREFIX = "tui-agent-bwrap-"  # stage folders are <prefix><pid>-<random>
STAGED = ("passwd", "group", "hosts", "nsswitch.conf")  # files made for the sandbox's /etc
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp",  # see docker/pool
       **GIT_IDENTITY}
SHIMS = "/opt/tui-agent/shims"  # last on PATH: `python`, `pytest` where the host has only python3 (read-only)
PYTEST_SHIM = '#!/bin/sh\nexec python3 -m pytest "$@"\n'
SHIM_NAMES = ("python", "pytest", "py.test")


@dataclass(frozen=True)
class Host:
    bwrap: str
    prlimit: str
    setpriv: str  # "" when absent (then only allowed when not root: there is no uid to drop)
    root: bool


def _probe_args(host: Host) -> list[str]:
    args = [host.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr", *_system_dirs(),
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro", "/", "/bin/true"]
    if host.root:
        nobody = Limits()
        return [host.setpriv, f"--reuid={nobody.uid}", f"--regid={nobody.gid}", "--clear-groups",
                "--no-new-privs", "--", *args]
    return args


@cache
def host_tools() -> Host | str:
    """The tools found, after a real trial run; else a one-line reason with what to do."""
    if os.name != "posix" or not Path("/proc/self/ns/user").exists():
        return "bwrap needs Linux with user namespaces"
    bwrap, prlimit, setpriv = shutil.which("bwrap"), shutil.which("prlimit"), shutil.which("setpriv")
    if not bwrap:
        return "bwrap not found: apt-get install bubblewrap"
    if not prlimit or (os.geteuid() == 0 and not setpriv):
        return "prlimit/setpriv not found: apt-get install util-linux"
    host = Host(bwrap, prlimit, setpriv or "", os.geteuid() == 0)
    try:
        done = subprocess.run(_probe_args(host), capture_output=True, text=True, timeout=20, env={}, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not run: {exc}"
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return (f"bwrap cannot create its namespaces here ({why}): enable unprivileged user namespaces, "
                "e.g. sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces=10000")
    return host


def _system_dirs() -> list[str]:
    args = []
    for name in SYSTEM_DIRS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def missing_commands() -> tuple[str, ...]:
    """Which of python, pytest, py.test the sandbox's PATH (the host's /usr and /bin) lacks."""
    dirs = ENV["PATH"].split(":")
    return tuple(name for name in SHIM_NAMES if not any(os.access(f"{d}/{name}", os.X_OK) for d in dirs))


def pytest_status() -> tuple[bool, str]:
    """Whether `python -m pytest` and `pytest` run in the sandbox (its python3 is the host's), for the doctor."""
    python = shutil.which("python3", path=ENV["PATH"])
    if python is None:
        return False, "no python3 in /usr/local/bin, /usr/bin or /bin: apt-get install python3 python3-pytest"
    try:
        done = subprocess.run([python, "-I", "-c", "import pytest; print(pytest.__version__)"], capture_output=True,
                              text=True, timeout=30, env={"PATH": ENV["PATH"], "HOME": "/tmp"}, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{python} did not run: {exc}"
    if done.returncode != 0:
        return False, (f"{python} has no pytest, so `python -m pytest` fails in the bwrap sandbox for a project "
                       "without an environment: apt-get install python3-pytest")
    shims = missing_commands()
    how = f" ({', '.join(shims)} from tui-agent's shims)" if shims else ""
    return True, f"pytest {done.stdout.strip()} with {python}: python, python3, pytest resolve{how}"


def write_shims(folder: Path, names: tuple[str, ...]) -> None:
    """python -> python3 (a link: the interpreter itself runs), pytest/py.test -> `python3 -m pytest`: the
    python3 first on the sandbox's PATH, so an environment's own interpreter where one is bound."""
    folder.mkdir(mode=0o755)
    for name in names:
        if name == "python":
            os.symlink("/usr/bin/python3", folder / name)
        else:
            (folder / name).write_text(PYTEST_SHIM)
            (folder / name).chmod(0o755)


def reachable(path: Path, uid: int, gid: int) -> bool:
    """Can uid/gid (without supplementary groups) traverse every folder down to and into `path`?"""
    for folder in [*reversed(path.parents), path]:
        st = folder.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


@dataclass
class Stage:
    """A host folder per sandbox: /etc/passwd, group, hosts, nsswitch.conf and, if needed, the workspace."""

    root: Path
    source: Path  # the workspace folder
    mounted: bool = False  # bound at root/workspace because limits.uid cannot reach `source`
    shims: tuple[str, ...] = ()  # the commands in root/shims, bound at SHIMS

    @property
    def workspace(self) -> Path:
        """What bwrap binds at /workspace."""
        return self.root / "workspace" if self.mounted else self.source

    @classmethod
    def create(cls, host: Host, workspace: Path, limits: Limits) -> Stage:
        base = Path("/run/tui-agent") if host.root and Path("/run").is_dir() else Path(tempfile.gettempdir())
        base.mkdir(mode=0o755, exist_ok=True)
        cls.remove_stale(base)
        root = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=base))
        root.chmod(0o755)
        files = {  # the names are STAGED
            "passwd": f"sandbox:x:{limits.uid}:{limits.gid}:sandbox:/tmp:/bin/sh\n"
                      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
            "group": f"sandbox:x:{limits.gid}:\nnogroup:x:65534:\n",
            "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
            "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
        }
        for name, text in files.items():
            (root / name).write_text(text)
            (root / name).chmod(0o644)
        stage = cls(root, workspace, shims=missing_commands())
        if stage.shims:
            write_shims(root / "shims", stage.shims)
        if host.root and not reachable(workspace, limits.uid, limits.gid):
            # bwrap runs as limits.uid and could not reach the folder: bind it where it can
            (root / "workspace").mkdir()
            stage.mounted = True
            try:
                stage.refresh()
            except SandboxUnavailable:
                stage.remove()
                raise
        return stage

    def refresh(self) -> None:
        """Keep the staged bind on the folder now at the workspace path (it may have been swapped)."""
        if not self.mounted:
            return
        target = self.root / "workspace"
        try:
            here, there = os.stat(self.source), os.stat(target)
            if (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino):
                return
        except OSError:
            pass
        _unmount(target)
        done = subprocess.run(["mount", "--bind", str(self.source), str(target)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxUnavailable(f"cannot expose workspace {self.source} to the sandbox user: "
                                     f"{done.stderr.strip()}; put it under a world-traversable folder")

    def remove(self) -> None:
        _remove_stage(self.root)

    @staticmethod
    def remove_stale(base: Path) -> None:
        """Stages of crashed processes (<prefix><pid>-*, pid gone): unmount their workspace and delete them."""
        for old in base.glob(f"{STAGE_PREFIX}*-*"):
            try:
                pid = int(old.name[len(STAGE_PREFIX):].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                _remove_stage(old)


def _mounted(path: Path) -> bool:
    """Is something mounted on `path`? (os.path.ismount misses a bind mount within one filesystem)"""
    with open("/proc/self/mountinfo") as info:
        return any(line.split()[4] == str(path) for line in info)


def _unmount(path: Path) -> None:
    for _ in range(8):  # binds may be stacked
        if not _mounted(path):
            return
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _remove_stage(root: Path) -> None:
    """Unmount the staged workspace and delete the stage with unlink/rmdir only: never recurse into a
    workspace that might still be mounted there."""
    _unmount(root / "workspace")
    for name in SHIM_NAMES:
        try:
            (root / "shims" / name).unlink()
        except OSError:
            pass
    for name in (*STAGED, "workspace", "shims", ""):
        try:
            (root / name).rmdir() if name in ("workspace", "shims", "") else (root / name).unlink()
        except OSError:
            pass


def sandbox_args(host: Host, stage: Stage, limits: Limits, env: tuple = (), binds: tuple = ()) -> list[str]:
    """bwrap's options, up to (not including) --json-status-fd and the command; env and binds as in SandboxSpec."""
    args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--clearenv", "--hostname", "sandbox"]
    variables = {**ENV, **dict(env)}
    if stage.shims and SHIMS not in variables.get("PATH", "").split(":"):
        variables["PATH"] = f"{variables.get('PATH') or ENV['PATH']}:{SHIMS}"
    for key, value in variables.items():
        args += ["--setenv", key, value]
    if not host.root:
        args += ["--uid", str(limits.uid), "--gid", str(limits.gid)]
    args += ["--ro-bind", "/usr", "/usr", *_system_dirs()]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for etc in sorted(Path("/etc").glob("python3*")):
        args += ["--ro-bind", str(etc), str(etc)]
    for name in STAGED:
        args += ["--ro-bind", str(stage.root / name), f"/etc/{name}"]
    tmp = str(limits.tmpfs_mb * 1024 * 1024)
    # /proc/1 is bwrap's init, which reports the exit code: as the sandbox's uid and dumpable, it would be
    # open to /proc/1/mem writes (ptrace and process_vm_writev are refused by the seccomp filter)
    args += ["--proc", "/proc", "--size", "4096", "--perms", "0555", "--tmpfs", "/proc/1",
             "--remount-ro", "/proc/1", "--dev", "/dev",
             "--size", tmp, "--perms", "1777", "--tmpfs", "/tmp",
             "--size", tmp, "--perms", "1777", "--tmpfs", "/dev/shm",
             "--bind", str(stage.workspace), "/workspace", "--chdir", "/workspace"]
    if stage.shims:
        args += ["--ro-bind", str(stage.root / "shims"), SHIMS]
    for host_path, inside, mode in binds:
        args += ["--ro-bind" if mode == "ro" else "--bind", str(host_path), inside]
    args += ["--remount-ro", "/"]
    return args
