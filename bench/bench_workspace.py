"""Benchmark: workspace snapshot + diff with one file changed in a 10,000-file project, against a bare walk."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_agent.workspace.workspace import Workspace  # noqa: E402

FILES = int(os.environ.get("BENCH_FILES", "10000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "21"))


def make_project(root: Path, n: int) -> list[str]:
    rels = []
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\nbuild/\n")
    for i in range(n):
        rel = f"pkg{i % 20:02d}/mod{(i // 20) % 25:02d}/file{i:05d}.py"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"# file {i}\n" + "".join(f"def f{j}(x):\n    return x + {j}\n" for j in range(20)))
        rels.append(rel)
    return rels


def bare_walk(root: Path) -> int:
    count = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            os.lstat(os.path.join(dirpath, name))
            count += 1
    return count


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        project = tmp / "project"
        project.mkdir()
        rels = make_project(project, FILES)
        t = time.perf_counter()
        ws = Workspace.create(project, tmp / "session", owner=(1000, 1000), quota_mb=512)
        create_s = time.perf_counter() - t
        try:
            prev = ws.snapshot()
            time.sleep(0.1)  # let the freshly copied files leave the racy window
            prev = ws.snapshot()
            ours, bare, loop = [], [], []
            for k in range(ROUNDS):
                rel = rels[(k * 7919) % len(rels)]
                ws.files.write_text(rel, ws.files.read_text(rel).replace("return x", f"return x * {k + 2} +", 1))
                t = time.perf_counter()
                sid = ws.snapshot()
                text, paths = ws.diff(prev, sid)
                ours.append(time.perf_counter() - t)
                assert paths == [rel], paths
                assert f"+++ b/{rel}" in text
                prev = sid
                t = time.perf_counter()
                bare_walk(ws.path)
                bare.append(time.perf_counter() - t)
                ws.files.write_text(rel, ws.files.read_text(rel) + "# again\n")
                t = time.perf_counter()
                text, paths = ws.diff(prev)  # the loop's order: diff against the files now, then snapshot
                prev = ws.snapshot()
                loop.append(time.perf_counter() - t)
                assert paths == [rel], paths
            o, b = statistics.median(ours) * 1000, statistics.median(bare) * 1000
            print(f"files: {FILES}  create: {create_s * 1000:.0f} ms  tmpfs: {ws.path.is_mount()}")
            print(f"snapshot+diff, one file changed: median {o:.1f} ms "
                  f"(max {max(ours) * 1000:.1f} ms, {ROUNDS} rounds)")
            print(f"diff(prev) then snapshot() (two scans): median {statistics.median(loop) * 1000:.1f} ms")
            print(f"baseline os.walk+lstat of the same tree: median {b:.1f} ms")
            print(f"ratio: {o / b:.2f}x the bare walk; budget 100 ms: {'OK' if o < 100 else 'OVER'}")
        finally:
            ws.close()


if __name__ == "__main__":
    main()
