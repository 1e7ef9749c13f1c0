"""Per-run cgroups for the bwrap sandbox: memory, pids and cpu limits, kill-everything, removal."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

GROUP = "tui-agent-bwrap"  # our folder under each hierarchy; one child per run, named run-<pid>-<n>
_counter = itertools.count()


@dataclass(frozen=True)
class Hierarchy:
    controller: str  # "memory", "pids", "cpu", or "unified" for a cgroup2 tree with all three
    parent: Path  # where run cgroups are created


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fstype, options) of every cgroup filesystem."""
    found = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if rfields and rfields[0] in ("cgroup", "cgroup2"):
                found.append((fields[3], fields[4], rfields[0], set(rfields[2].split(",")) | set(fields[5].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """controller -> our cgroup path ("" key for the cgroup2 tree), from /proc/self/cgroup."""
    paths = {}
    with open("/proc/self/cgroup") as own:
        for line in own:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _usable(parent: Path, probe_file: str) -> bool:
    """Create `parent` if needed and check we can make and remove a run cgroup with `probe_file` in it."""
    try:
        parent.mkdir(exist_ok=True)
        test = parent / f"probe-{os.getpid()}-{next(_counter)}"
        test.mkdir()
        try:
            return (test / probe_file).exists() and os.access(test / "cgroup.procs", os.W_OK)
        finally:
            test.rmdir()
    except OSError:
        return False


def _v2_parent(mount_point: str, own: str) -> Path | None:
    """A cgroup2 folder where memory, pids and cpu can be delegated to run cgroups (the root, else our own)."""
    for base in (Path(mount_point), Path(mount_point + own)):
        parent = base / GROUP
        try:
            enabled = set((base / "cgroup.subtree_control").read_text().split())
            if not {"memory", "pids"} <= enabled:
                (base / "cgroup.subtree_control").write_text("+memory +pids")
            parent.mkdir(exist_ok=True)
            available = set((parent / "cgroup.controllers").read_text().split())
            wanted = " ".join(f"+{c}" for c in ("memory", "pids", "cpu") if c in available)
            (parent / "cgroup.subtree_control").write_text(wanted)
            if _usable(parent, "memory.max"):
                return parent
        except OSError:
            continue
    return None


@cache
def hierarchies() -> tuple[Hierarchy, ...]:
    """The cgroup controllers we can use here (empty when none: the caller falls back to rlimits)."""
    if os.name != "posix" or not Path("/proc/self/cgroup").exists():
        return ()
    try:
        mounts, own = _mounts(), _own_paths()
    except OSError:
        return ()
    found: list[Hierarchy] = []
    v1 = (("memory", "memory.limit_in_bytes"), ("pids", "pids.max"), ("cpu", "cpu.cfs_quota_us"))
    for controller, probe_file in v1:
        for _, point, fstype, options in mounts:
            if fstype == "cgroup" and controller in options:
                # at the top of the hierarchy we can see, like container engines do, not inside our own cgroup:
                # a folder left there would keep whoever manages our cgroup from removing it
                parent = Path(point) / GROUP
                if _usable(parent, probe_file):
                    found.append(Hierarchy(controller, parent))
                break
    if not any(h.controller in ("memory", "pids") for h in found):
        for root, point, fstype, _ in mounts:
            if fstype == "cgroup2" and "" in own:
                parent = _v2_parent(point, own[""] if root == "/" else own[""].removeprefix(root))
                if parent:
                    return (Hierarchy("unified", parent),)
    return tuple(found)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


@dataclass
class RunCgroup:
    """The cgroups of one run: the launcher writes its pid into `procs_files` before exec'ing bwrap."""

    dirs: list[Path] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # controllers actually limited: memory, pids, cpu

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    @classmethod
    def create(cls, memory_mb: int, pids: int, cpus: float) -> RunCgroup:
        run = cls()
        name = f"run-{os.getpid()}-{next(_counter)}"
        mem = str(memory_mb * 1024 * 1024)
        for h in hierarchies():
            path = h.parent / name
            try:
                path.mkdir()
            except OSError:
                continue
            run.dirs.append(path)
            if h.controller == "memory":
                if _write(path / "memory.limit_in_bytes", mem):
                    _write(path / "memory.memsw.limit_in_bytes", mem)  # no swap on top (absent without swapaccount)
                    run.kinds.add("memory")
            elif h.controller == "pids":
                if _write(path / "pids.max", str(pids)):
                    run.kinds.add("pids")
            elif h.controller == "cpu":
                if _write(path / "cpu.cfs_quota_us", str(max(1000, int(cpus * 100_000)))):
                    run.kinds.add("cpu")
            else:  # cgroup2
                if _write(path / "memory.max", mem):
                    _write(path / "memory.swap.max", "0")
                    run.kinds.add("memory")
                if _write(path / "pids.max", str(pids)):
                    run.kinds.add("pids")
                if _write(path / "cpu.max", f"{max(1000, int(cpus * 100_000))} 100000"):
                    run.kinds.add("cpu")
        return run

    def pids(self) -> set[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill_all(self) -> bool:
        """SIGKILL every process in the run's cgroups; True when none was left to kill."""
        for d in self.dirs:
            if (d / "cgroup.kill").exists():  # cgroup2: the kernel kills all, forks included
                _write(d / "cgroup.kill", "1")
        left = self.pids()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return not left

    def notes(self, memory_mb: int, pids: int) -> list[str]:
        """Human lines about limits that were hit (read before `destroy`)."""
        lines = []
        for d in self.dirs:
            for fname, key, text in (
                ("memory.oom_control", "oom_kill", f"memory limit ({memory_mb} MB) hit: a process was killed"),
                ("memory.events", "oom_kill", f"memory limit ({memory_mb} MB) hit: a process was killed"),
                ("pids.events", "max", f"process limit ({pids}) hit: a fork failed"),
            ):
                try:
                    values = dict(line.split() for line in (d / fname).read_text().splitlines() if " " in line)
                except (OSError, ValueError):
                    continue
                if int(values.get(key, "0")) > 0 and text not in lines:
                    lines.append(text)
        return lines

    def _rmdir(self) -> None:
        for d in list(self.dirs):
            try:
                d.rmdir()
                self.dirs.remove(d)
            except FileNotFoundError:
                self.dirs.remove(d)
            except OSError:
                pass

    async def destroy(self, timeout_s: float = 5.0) -> bool:
        """Kill everything in the run's cgroups; True once no process is listed in them.

        The folders are removed now, or (while the kernel finishes tearing down exited tasks, which keeps
        them busy for a moment) by a background task a few milliseconds later.
        """
        deadline = time.monotonic() + timeout_s
        while not self.kill_all():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.0005)
        self._rmdir()
        if self.dirs:
            task = asyncio.get_running_loop().create_task(self._remove_later(deadline))
            _pending.add(task)
            task.add_done_callback(_pending.discard)
        return True

    async def _remove_later(self, deadline: float) -> None:
        while self.dirs and time.monotonic() < deadline + 5.0:
            await asyncio.sleep(0.001)
            self.kill_all()
            self._rmdir()


_pending: set[asyncio.Task] = set()


async def wait_removed() -> None:
    """Wait for the background removals of run cgroups started by `destroy`."""
    while _pending:
        await asyncio.gather(*list(_pending), return_exceptions=True)


async def remove_stale() -> None:
    """Remove run cgroups left by a crashed process (their owner pid is gone), killing what is still in them."""
    stale = RunCgroup()
    for h in hierarchies():
        for path in h.parent.glob("run-*"):
            try:
                owner = int(path.name.split("-")[1])
            except (IndexError, ValueError):
                continue
            if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
                stale.dirs.append(path)
    if stale.dirs:
        await stale.destroy(timeout_s=2.0)
