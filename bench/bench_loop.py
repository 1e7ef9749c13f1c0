"""Loop overhead per iteration with the scripted model and no sandbox time (target: under 20 ms).

Runs the real AgentLoop (workspace snapshots and diffs, session recorder with fsync, conversation,
policy, tools) on a small project for N iterations, each iteration one edit and one check. The check
runs in an instant in-process "sandbox" so that only the loop's own work is timed. The baseline, measured
in the same run, is the bare work every loop must do: the scripted model's turns and the file edits.

    python bench/bench_loop.py [ITERATIONS]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_agent import config
from tui_agent.agent.control import Controller
from tui_agent.agent.gate import NOBODY
from tui_agent.agent.loop import AgentLoop
from tui_agent.agent.setup import LoopConfig, LoopParts
from tui_agent.models.base import ModelRequest
from tui_agent.models.scripted import ScriptedModel
from tui_agent.sandbox.base import RunResult
from tui_agent.sessions.recorder import SessionRecorder
from tui_agent.tools.permissions.policy import Policy
from tui_agent.workspace.workspace import Workspace


class InstantSandbox:
    """Not a sandbox: answers at once with a failing exit code, so that no sandbox time is measured."""

    name = "instant"

    async def start(self) -> None: ...

    async def run(self, command, on_output, timeout_s=None) -> RunResult:
        on_output("stderr", "AssertionError: still failing\n")
        return RunResult(1, 0.0)

    async def close(self) -> None: ...


def _script(path: Path, n: int) -> Path:
    turns = []
    for i in range(n):
        turns.append({"text": f"edit {i}", "tool_calls": [{"name": "edit_file", "arguments": {
            "path": "app.py", "old_string": f"VALUE = {i}\n", "new_string": f"VALUE = {i + 1}\n"}}]})
        turns.append({"text": "done"})
    path.write_text(json.dumps({"turns": turns}))
    return path


def _project(root: Path) -> Path:
    project = root / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "app.py").write_text("VALUE = 0\n")
    for i in range(50):
        (project / "pkg" / f"m{i}.py").write_text(f"def f{i}():\n    return {i}\n" * 20)
    return project


async def bench_loop(root: Path, n: int) -> list[float]:
    project, session = _project(root), root / "session"
    workspace = Workspace.create(project, session)
    control = Controller(who=NOBODY, policy=Policy(allow=["edit_file"]))
    criteria = config.Criteria(max_iterations=n, no_progress=0)
    model = ScriptedModel(_script(root / "m.json", n))
    loop = AgentLoop(LoopConfig("bench", "true", criteria, "instant"), LoopParts(model, InstantSandbox(), workspace),
                     control)
    recorder = SessionRecorder(session)
    loop.subscribe(recorder.write)
    stamps: list[float] = []
    loop.subscribe(lambda e: stamps.append(time.perf_counter()) if e.type == "iteration_finished" else None)
    await loop.run()
    recorder.close()
    workspace.close()
    return [b - a for a, b in zip(stamps, stamps[1:])]


async def bench_baseline(root: Path, n: int) -> list[float]:
    """The same model turns and edits, with no loop around them."""
    project = _project(root)
    model = ScriptedModel(_script(root / "m2.json", n))
    request = ModelRequest("bench", [{"role": "user", "content": "go"}], [])
    times = []
    for _ in range(n):
        start = time.perf_counter()
        turn = await model.complete(request, lambda t: None)
        for call in turn.tool_calls:
            path = project / call.arguments["path"]
            path.write_text(path.read_text().replace(call.arguments["old_string"], call.arguments["new_string"]))
        await model.complete(request, lambda t: None)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp:
        loop_times = asyncio.run(bench_loop(Path(tmp) / "a", n))
        base_times = asyncio.run(bench_baseline(Path(tmp) / "b", n))
    loop_ms, base_ms = statistics.median(loop_times) * 1000, statistics.median(base_times) * 1000
    print(f"iterations: {n} (51-file project, one edit per iteration, instant check)")
    print(f"loop, per iteration (median):        {loop_ms:7.2f} ms   (p90 {sorted(loop_times)[int(.9 * len(loop_times))] * 1000:.2f} ms)")
    print(f"baseline: model turns + edit alone:  {base_ms:7.2f} ms")
    print(f"loop overhead over the baseline:     {loop_ms - base_ms:7.2f} ms   (target: under 20 ms) "
          f"{'OK' if loop_ms - base_ms < 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
