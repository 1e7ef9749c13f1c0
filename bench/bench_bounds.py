"""Time, memory and bytes echoed for the model's biggest inputs: a 2 MB run_command, a 200 MB write_file, a read
of a sparse file. The real AgentLoop, session recorder and audit log, an instant in-process check; each case in a
fresh process (its peak RSS is its own). Compare a checkout before and after the bounds:

    PYTHONPATH=/work/main python bench/bench_bounds.py        # before
    PYTHONPATH=$PWD python bench/bench_bounds.py              # after
    BENCH_WRITE_MB=200 BENCH_SPARSE_MB=256 BENCH_TIMEOUT_S=120 (the defaults; a large sparse read before the
    bounds costs about twice its size in memory)
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tui_agent import config
from tui_agent.agent.control import Controller
from tui_agent.agent.gate import NOBODY
from tui_agent.agent.loop import AgentLoop
from tui_agent.agent.setup import LoopConfig, LoopParts
from tui_agent.models.scripted import ScriptedModel
from tui_agent.sandbox.base import RunResult
from tui_agent.sessions.recorder import SessionRecorder
from tui_agent.tools.permissions.policy import AuditLog, Policy
from tui_agent.workspace.workspace import Workspace

Audit: type[AuditLog] = AuditLog
try:  # after the bounds, the runner records the audit through this
    from tui_agent.agent.bounds import BoundedAudit as Audit
except ImportError:
    pass

CASES = ("command_2mb", "write_big", "read_sparse")


class InstantSandbox:
    """Not a sandbox: answers at once, so only the loop's own handling is measured."""

    name = "instant"

    async def start(self) -> None: ...

    async def run(self, command, on_output, timeout_s=None) -> RunResult:
        return RunResult(1, 0.0)

    async def close(self) -> None: ...


def _call(case: str) -> dict:
    if case == "command_2mb":
        return {"name": "run_command", "arguments": {"command": "echo " + "a;" * 1_000_000}}
    if case == "write_big":
        mb = int(os.environ.get("BENCH_WRITE_MB", "200"))
        return {"name": "write_file", "arguments": {"path": "big.txt", "content": "y" * (mb * 1_000_000)}}
    return {"name": "read_file", "arguments": {"path": "sparse.bin"}}


async def one(case: str, root: Path) -> dict:
    project = root / "project"
    project.mkdir()
    (project / "app.py").write_text("VALUE = 0\n")
    session = root / "session"
    workspace = Workspace.create(project, session)
    if case == "read_sparse":
        with open(workspace.path / "sparse.bin", "wb") as f:
            f.truncate(int(os.environ.get("BENCH_SPARSE_MB", "256")) * 1024 * 1024)
    model = ScriptedModel([{"tool_calls": [_call(case)]}, {"text": "done"}])
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    audit = Audit(root / "audit.jsonl", session_id="bench")
    policy = Policy(allow=["run_command(*)", "write_file", "read_file", "edit_file"], audit=audit)
    loop = AgentLoop(LoopConfig("bench", "true", config.Criteria(max_iterations=1, no_progress=0), "instant"),
                     LoopParts(model, InstantSandbox(), workspace), Controller(who=NOBODY, policy=policy))
    recorder = SessionRecorder(session)
    loop.subscribe(recorder.write)
    stdout, stamps = [0], {}

    def headless(event) -> None:  # what --headless would print, counted, not kept
        stdout[0] += len(json.dumps(event.to_dict(), ensure_ascii=True, default=str)) + 1
        if event.type in ("tool_call_requested", "tool_call_finished"):
            stamps[event.type] = time.perf_counter()

    loop.subscribe(headless)
    await loop.run()
    loop_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    recorder.close()
    workspace.close()
    session_bytes = sum(p.stat().st_size for p in session.rglob("*.jsonl"))
    return {"case": case, "answered_s": round(stamps["tool_call_finished"] - stamps["tool_call_requested"], 3),
            "peak_rss_mb": round(loop_kb / 1024, 1),
            "after_close_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_before_loop_mb": round(before_kb / 1024, 1), "session_mb": round(session_bytes / 1e6, 2),
            "audit_mb": round((root / "audit.jsonl").stat().st_size / 1e6, 2) if (root / "audit.jsonl").exists()
            else 0.0, "stdout_mb": round(stdout[0] / 1e6, 2)}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(asyncio.run(one(sys.argv[2], Path(tmp)))))
        return
    limit = float(os.environ.get("BENCH_TIMEOUT_S", "120"))
    print(f"code under test: {Path(config.__file__).parent}")
    for case in CASES:
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, __file__, "--one", case], capture_output=True, text=True,
                                  timeout=limit)
        except subprocess.TimeoutExpired:
            print(f"{case:<12} not answered within {limit:.0f} s (killed)")
            continue
        if done.returncode != 0:
            print(f"{case:<12} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{case:<12} answered in {r['answered_s']:7.3f} s | peak RSS {r['peak_rss_mb']:7.1f} MB (before the "
              f"loop {r['rss_before_loop_mb']:.1f}, after the workspace closed {r['after_close_mb']:.1f}) | "
              f"written: session {r['session_mb']:.2f} MB, audit "
              f"{r['audit_mb']:.2f} MB, headless stdout {r['stdout_mb']:.2f} MB | "
              f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
