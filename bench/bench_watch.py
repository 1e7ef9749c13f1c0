"""Benchmark: watch mode's save → check-start latency (vs watchfiles' own), and syncing one file of 10,000 (vs a bare copy).

    python bench/bench_watch.py [--sandbox bwrap|docker] [--saves 20] [--files 10000]

Part 1 saves a file ~20 times into a watched project whose check is `date +%s.%N`: the time from the
write to the CheckStarted event, and to the first instruction of the check inside the sandbox (the
kernel clock is the same inside). Baseline: watchfiles alone (same step/debounce), write → yielded batch.
Part 2 changes one file of a 10,000-file project and times ProjectSync.sync_paths for it, against a bare
copy of that file into the workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_agent import config  # noqa: E402
from tui_agent.events import CheckStarted, OutputChunk  # noqa: E402
from tui_agent.agent.gate import NOBODY  # noqa: E402
from tui_agent.runner import prepare  # noqa: E402
from tui_agent.watch.sync import ProjectSync  # noqa: E402
from tui_agent.watch.watcher import DEBOUNCE_MS, STEP_MS, Watcher  # noqa: E402
from tui_agent.workspace.workspace import Workspace  # noqa: E402


def ms(values: list[float]) -> str:
    values = sorted(values)
    return f"median {statistics.median(values) * 1000:7.1f} ms   p90 {values[int(len(values) * 0.9) - 1] * 1000:7.1f} ms"


def watchfiles_baseline(root: Path, saves: int) -> list[float]:
    """watchfiles alone: from a write to the batch that holds it."""
    from watchfiles._rust_notify import RustNotify

    halt = threading.Event()
    out = []
    with RustNotify([str(root)], False, False, 300, True, True) as notify:
        for i in range(saves):
            target = root / "base.txt"
            t0 = time.time()
            target.write_text(f"{i}\n")
            raw = notify.watch(DEBOUNCE_MS, STEP_MS, 5000, halt)
            if isinstance(raw, set):
                out.append(time.time() - t0)
            time.sleep(0.05)
    return out


async def save_to_check(root: Path, tmp: Path, sandbox: str, saves: int) -> tuple[list[float], list[float]]:
    model = tmp / "model.json"  # auto-fix is off: the model is never called
    model.write_text('{"turns": [{"text": "unused"}]}')
    settings = config.load(root, check="date +%s.%N; exit 0", model=f"scripted:{model}", sandbox=sandbox,
                           session_root=tmp / "sessions")
    run = await prepare(settings, who=NOBODY)
    watcher = Watcher(run, auto_fix=False)
    started: dict[int, float] = {}
    inside: dict[int, float] = {}

    def sink(event) -> None:
        n = watcher.checks + 1
        if isinstance(event, CheckStarted):
            started[n] = time.time()
        elif isinstance(event, OutputChunk) and n not in inside:
            try:
                inside[n] = float(event.text.split()[0])
            except (ValueError, IndexError):
                pass

    watcher.subscribe(sink)
    task = asyncio.ensure_future(watcher.run_until_stopped())
    while watcher.phase != "idle":
        await asyncio.sleep(0.01)
    to_event, to_inside = [], []
    try:
        for i in range(saves):
            n = watcher.checks + 1
            t0 = time.time()
            (root / "app.py").write_text(f"VALUE = {i + 1}\n")
            deadline = time.monotonic() + 10
            while watcher.checks < n or watcher.phase != "idle":
                if time.monotonic() > deadline:
                    raise SystemExit(f"save {i}: no check within 10 s")
                await asyncio.sleep(0.002)
            to_event.append(started[n] - t0)
            to_inside.append(inside[n] - t0)
            await asyncio.sleep(0.5)  # a person's saves, not a burst
    finally:
        watcher.stop("bench over")
        await task
        await run.close()
    return to_event, to_inside


def sync_one(tmp: Path, files: int, rounds: int) -> tuple[list[float], list[float], float, float]:
    project = tmp / "big"
    rels = []
    for i in range(files):
        rel = f"pkg{i % 20:02d}/mod{(i // 20) % 25:02d}/file{i:05d}.py"
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# file {i}\n" + "".join(f"def f{j}(x):\n    return x + {j}\n" for j in range(20)))
        rels.append(rel)
    ws = Workspace.create(project, tmp / "big-session", owner=(1000, 1000), quota_mb=512)
    try:
        t = time.perf_counter()
        sync = ProjectSync(ws)
        sync.sync_paths([])  # loads the two manifests once (kept in memory while watching)
        load_s = time.perf_counter() - t
        synced, bare = [], []
        for k in range(rounds):
            rel = rels[(k * 7919) % len(rels)]
            (project / rel).write_text(f"# changed {k}\n")
            t = time.perf_counter()
            result = sync.sync_paths([rel])
            synced.append(time.perf_counter() - t)
            assert result.files == [rel], result
            (project / rel).write_text(f"# changed again {k}\n")
            t = time.perf_counter()
            shutil.copyfile(project / rel, ws.path / rel)
            bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        sync.flush()
        flush_s = time.perf_counter() - t
    finally:
        ws.close()
    return synced, bare, load_s, flush_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker"])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "proj"
        root.mkdir()
        (root / "app.py").write_text("VALUE = 0\n")
        base = watchfiles_baseline(root, args.saves)
        to_event, to_inside = asyncio.run(save_to_check(root, tmp, args.sandbox, args.saves))
        print(f"save → check start, {args.saves} saves, sandbox {args.sandbox} (watchfiles step {STEP_MS} ms, "
              f"debounce {DEBOUNCE_MS} ms)")
        print(f"  baseline: watchfiles write → batch       {ms(base)}")
        print(f"  watch: write → CheckStarted event         {ms(to_event)}")
        print(f"  watch: write → check running in sandbox   {ms(to_inside)}   (target < 150 ms)")
        synced, bare, load_s, flush_s = sync_one(tmp, args.files, args.rounds)
        print(f"sync one changed file of {args.files} ({args.rounds} rounds)")
        print(f"  baseline: bare copy of the file           {ms(bare)}")
        print(f"  ProjectSync.sync_paths([file])           {ms(synced)}   (target < 20 ms)")
        print(f"  once per watch: manifests loaded in {load_s * 1000:.1f} ms; "
              f"written (before a diff/deploy) in {flush_s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
