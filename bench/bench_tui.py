"""TUI benchmark: a check printing 100,000 lines/s for 10 s, key latency, memory, first paint of the real command.

    python bench/bench_tui.py [--seconds 10] [--rate 100000] [--no-paint]

The flood is fed as the sandbox would feed it (OutputChunk events of ~250 lines on the app's own event loop)
into the real AgentApp, headless at 160x48. Baselines are measured in the same run: key latency and memory
with the app idle, and start-up of `tui-agent --version` for the first paint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from textual import events  # noqa: E402

from tui_agent.config import Settings  # noqa: E402
from tui_agent.commands import Reply  # noqa: E402
from tui_agent.events import CheckFinished, CheckStarted, Finished, OutputChunk, SessionStarted  # noqa: E402
from tui_agent.tui.app import AgentApp  # noqa: E402

CHUNK_LINES = 250
TICK_S = 0.01


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class FloodRun:
    """A RunHandle whose check prints `rate` lines/s for `seconds` (as the sandbox delivers it); takes no command."""

    session_dir = Path("/bench")
    replay = False

    def __init__(self, rate: int, seconds: float) -> None:
        self.rate, self.seconds = rate, seconds
        self.sinks = []
        self.started = asyncio.Event()
        self.emitted = 0
        self.emit_wall = 0.0
        self.behind_max = 0.0

    def subscribe(self, sink) -> None:
        self.sinks.append(sink)

    def emit(self, event) -> None:
        for sink in self.sinks:
            sink(event)

    async def execute(self) -> Finished:
        self.emit(SessionStarted("bench", "/bench", "flood the output", "flood", "bench", "bench", "/bench", {}))
        await self.started.wait()
        self.emit(CheckStarted(0, "flood", "bench"))
        total, start, n = int(self.rate * self.seconds), time.perf_counter(), 0
        colour = ("\x1b[32mok\x1b[0m", "\x1b[31mFAIL\x1b[0m")
        while n < total:
            due = int(min(total, (time.perf_counter() - start) / self.seconds * total + self.rate * TICK_S))
            while n < due:
                k = min(CHUNK_LINES, due - n)
                text = "".join(f"test_{i:07d} (bench.Case.test_{i:07d}) ... {colour[i % 97 == 0]}\n"
                               for i in range(n, n + k))
                self.emit(OutputChunk(0, "stdout", text))
                n += k
            self.emitted = n
            target = start + (n / total) * self.seconds
            self.behind_max = max(self.behind_max, time.perf_counter() - target)
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        self.emit_wall = time.perf_counter() - start
        self.emit(CheckFinished(0, 0, True, self.emit_wall))
        self.emit(Finished("stopped", "bench over", 0, 0.0, self.emit_wall))
        return Finished("stopped", "bench over", 0, 0.0, self.emit_wall)

    def send(self, command) -> Reply:
        return Reply(False, "the benchmark takes no command")

    def history(self) -> list:
        return []

    def rules(self) -> dict:
        return {}

    def breakpoints(self) -> list:
        return []

    def servers(self) -> tuple:
        return ()

    def changes(self) -> str:
        return ""

    async def close(self) -> None:
        pass


async def key_latencies(app: AgentApp, count: int, every_s: float) -> list[tuple[float, float]]:
    """Send focus keys; (handled, painted) latency in ms for each."""
    results, original = [], app.action_focus_panel

    for i in range(count):
        done = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()

        def handled(panel: str, sent=sent, done=done) -> None:
            original(panel)
            at = time.perf_counter()
            app.call_after_refresh(lambda: done.done() or done.set_result((at - sent, time.perf_counter() - sent)))

        app.action_focus_panel = handled
        app.post_message(events.Key("2" if i % 2 else "3", None))
        handled_s, painted_s = await asyncio.wait_for(done, 5)
        results.append((handled_s * 1000, painted_s * 1000))
        await asyncio.sleep(every_s)
    app.action_focus_panel = original
    return results


def summary(name: str, samples: list[tuple[float, float]]) -> str:
    handled = [h for h, _ in samples]
    painted = [p for _, p in samples]
    q = lambda xs, f: sorted(xs)[min(len(xs) - 1, int(len(xs) * f))]  # noqa: E731
    return (f"{name}: handled median {statistics.median(handled):.1f} ms, p95 {q(handled, .95):.1f} ms; "
            f"painted median {statistics.median(painted):.1f} ms, p95 {q(painted, .95):.1f} ms ({len(samples)} keys)")


async def flood(rate: int, seconds: float) -> None:
    run = FloodRun(rate, seconds)

    async def start():
        return run

    app = AgentApp(Settings(project=Path("/bench")), start=start)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        idle_mb = rss_mb()
        idle = await key_latencies(app, 20, 0.05)
        began = time.perf_counter()
        run.started.set()
        keys = asyncio.ensure_future(key_latencies(app, int(seconds / 0.1) - 5, 0.1))
        while app.state.finished is None:  # folded in by the app's batch: what the person sees
            await asyncio.sleep(0.002)
        shown_after = time.perf_counter() - began - run.emit_wall
        samples = await keys
        log = app.main.output
        shown = log._first + log.line_count - 2  # minus the two headings (check started, check passed)
        peak_mb = rss_mb("VmHWM")
    print(f"flood: {run.emitted:,} lines in {run.emit_wall:.2f} s = {run.emitted / run.emit_wall:,.0f} lines/s "
          f"(target {rate:,}/s; the emitter was at most {run.behind_max * 1000:.0f} ms behind its schedule)")
    print(f"kept up: {shown:,} lines reached the Output panel; everything was on screen {shown_after * 1000:.0f} ms "
          f"after the last line; {log.line_count:,} lines kept (bounded)")
    print(summary("keys while idle (baseline)", idle))
    print(summary("keys during the flood", samples))
    print(f"memory: {idle_mb:.0f} MB idle (baseline), peak {peak_mb:.0f} MB during the flood")


def first_paint(runs: int = 3) -> None:
    """The real command in tmux: time until the panels show; baseline `tui-agent --version`."""
    if not shutil.which("tmux") or not shutil.which("tui-agent"):
        print("first paint: skipped (needs tmux and tui-agent)")
        return
    version = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(["tui-agent", "--version"], capture_output=True, check=True)
        version.append(time.perf_counter() - t)
    paints = []
    example = REPO / "examples" / "calculator"
    for i in range(runs):
        work = Path(tempfile.mkdtemp(prefix="tui-bench-"))
        shutil.copytree(example, work / "calc", ignore=shutil.ignore_patterns("example.toml", "model.json"))
        command = shlex.join(["tui-agent", "run", str(work / "calc"), "--check", "python3 -m unittest -v",
                              "--model", f"scripted:{example / 'model.json'}", "--sessions", str(work / "s"), "--step"])
        name = f"tui-bench-{os.getpid()}-{i}"
        t = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "48", command], check=True)
        try:
            while time.perf_counter() - t < 10:
                screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout
                if "1 Plan" in screen and "4 Permissions" in screen:
                    paints.append(time.perf_counter() - t)
                    break
                time.sleep(0.005)
            subprocess.run(["tmux", "send-keys", "-t", name, "C-q"])
            time.sleep(1.0)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)
    print(f"first paint: median {statistics.median(paints) * 1000:.0f} ms from the command to the four panels "
          f"(runs: {', '.join(f'{p * 1000:.0f}' for p in paints)} ms); baseline `tui-agent --version` "
          f"{statistics.median(version) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100_000)
    parser.add_argument("--no-paint", action="store_true", help="skip the first-paint measurement")
    args = parser.parse_args()
    asyncio.run(flood(args.rate, args.seconds))
    if not args.no_paint:
        first_paint()


if __name__ == "__main__":
    main()
