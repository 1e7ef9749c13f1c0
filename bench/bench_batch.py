"""Batch throughput on this machine: the bundled examples (scripted model) run as a batch with 1, 2 and 4 jobs
on the local engine; tasks per minute and the speed-up against one job, measured in the same run."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_agent.batch.hosts import Host, Hosts  # noqa: E402
from tui_agent.batch.run import run_batch  # noqa: E402
from tui_agent.batch.tasks import load  # noqa: E402
from tui_agent.sandbox import default_backend  # noqa: E402

EXAMPLES = ROOT / "examples"


def tasks_file(folder: Path, copies: int) -> Path:
    lines = []
    for n in range(copies):
        for example in sorted(p for p in EXAMPLES.iterdir() if (p / "example.toml").is_file()):
            meta = tomllib.loads((example / "example.toml").read_text())
            target = folder / f"{example.name}-{n}"
            shutil.copytree(example, target, ignore=shutil.ignore_patterns("example.toml", "model.json"))
            options = {"permissions": {"allow": ["edit_file", "write_file"]}}
            if "pass_pattern" in meta:
                options["pass_pattern"] = meta["pass_pattern"]
            lines.append({"project": target.name, "goal": meta["goal"], "check": meta["check"],
                          "model": f"scripted:{example / meta['model']}", "options": options})
    path = folder / "tasks.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


async def one(tasks, jobs: int, tmp: Path) -> float:
    hosts = Hosts([Host("local", None, capacity=jobs)])
    started = time.perf_counter()
    done = await run_batch(tasks, hosts, jobs, {"session_root": tmp / f"sessions-{jobs}"}, tmp / f"out-{jobs}",
                           on_summary=lambda s: None, on_change=lambda p: None)
    elapsed = time.perf_counter() - started
    assert all(s["outcome"] == "met" for s in done), [s for s in done if s["outcome"] != "met"]
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=4, help="copies of each example (default 4: 12 tasks)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    print(f"sandbox: {default_backend()}")
    with tempfile.TemporaryDirectory(prefix="tui-agent-bench-batch-") as tmp:
        tasks = load(tasks_file(Path(tmp), args.copies))
        results = {jobs: asyncio.run(one(tasks, jobs, Path(tmp))) for jobs in args.jobs}
    base = len(tasks) / results[args.jobs[0]] * 60
    print(f"{len(tasks)} tasks (scripted model), wall time and throughput:")
    for jobs, elapsed in results.items():
        rate = len(tasks) / elapsed * 60
        print(f"  --jobs {jobs}: {elapsed:6.1f} s  {rate:6.1f} tasks/min  {rate / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
