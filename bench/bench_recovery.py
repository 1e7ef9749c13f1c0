"""What the next start pays for a killed run: a real headless run is killed (`kill -9`) while its check sleeps
in the sandbox, then recovery removes its containers and unmounts its workspace, each step timed; and the same
recovery with nothing to do, as the floor. Per backend (docker, podman), --runs times."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_faults import killed_run  # noqa: E402


def timed_recovery() -> tuple[float, float, list[str], int]:
    from tui_agent.maintenance import recovery

    t0 = time.perf_counter()
    containers = recovery.recover_containers()
    t1 = time.perf_counter()
    mounts = recovery.recover_workspaces()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, containers, len(mounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("backends", nargs="*", default=["docker", "podman"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as top:
        os.environ["XDG_STATE_HOME"] = f"{top}/state"  # records of this benchmark's runs only
        for backend in args.backends:
            rows = []
            for i in range(args.runs):
                killed_run(Path(top) / f"{backend}{i}", backend)
                rows.append(timed_recovery())
            idle = [timed_recovery()[:2] for _ in range(args.runs)]
            med = [statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)]
            floor = statistics.median(a + b for a, b in idle)
            print(f"{backend:7} killed run, median of {args.runs}: containers removed in {med[0]:.2f} s, workspace "
                  f"unmounted in {med[1] * 1000:.0f} ms; nothing to recover: {floor * 1000:.1f} ms")
            print(f"        the last recovery said: {'; '.join(rows[-1][2]) or 'nothing'}")


if __name__ == "__main__":
    main()
