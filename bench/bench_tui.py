"""TUI benchmark: a check printing 100,000 lines/s for 10 s, key latency, memory, first paint of the real command.

    python bench/bench_tui.py [--seconds 10] [--rate 100000] [--no-paint | --no-flood] [--runs 5]

The flood is fed as the sandbox would feed it (OutputChunk events of ~250 lines on the app's own event loop)
into the real AgentApp, headless at 160x48. Floors are measured in the same run with bench/bare_tui.py (a bare
Textual app of four bordered panels): the same focus keys, and its first paint in tmux launched the same way by
the same interpreter as `tui-agent demo`. Targets (issue 17): first paint <= 1.5x the floor; keys painted p50
<= 33 ms idle and <= 50 ms during the flood, p95 <= 150 ms during the flood.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from textual import events  # noqa: E402

from tui_agent.commands import Reply  # noqa: E402
from tui_agent.config import Settings  # noqa: E402
from tui_agent.events import CheckFinished, CheckStarted, Finished, OutputChunk, SessionStarted  # noqa: E402
from tui_agent.tui.app import AgentApp  # noqa: E402

from bare_tui import BareApp  # noqa: E402

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
        self.sinks: list = []
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


async def key_latencies(app: AgentApp | BareApp, count: int, every_s: float) -> list[tuple[float, float]]:
    """Send focus keys; (handled, painted) latency in ms for each."""
    results, original = [], app.main.action_focus_panel

    for i in range(count):
        done = asyncio.get_running_loop().create_future()
        sent = time.perf_counter()

        def handled(panel: str, sent=sent, done=done) -> None:
            original(panel)
            at = time.perf_counter()
            app.call_after_refresh(lambda: done.done() or done.set_result((at - sent, time.perf_counter() - sent)))

        app.main.action_focus_panel = handled  # type: ignore[method-assign]
        app.post_message(events.Key("2" if i % 2 else "3", None))
        handled_s, painted_s = await asyncio.wait_for(done, 5)
        results.append((handled_s * 1000, painted_s * 1000))
        await asyncio.sleep(every_s)
    app.main.action_focus_panel = original  # type: ignore[method-assign]
    return results


def q(xs: list[float], f: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * f))]


def painted(samples: list[tuple[float, float]]) -> list[float]:
    return [p for _, p in samples]


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


async def bare_keys() -> tuple[list[tuple[float, float]], float]:
    """The floor: the same focus keys in the bare four-panel app; its memory when idle."""
    app = BareApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        samples = await key_latencies(app, 20, 0.05)
        return samples, rss_mb()


def summary(name: str, samples: list[tuple[float, float]]) -> str:
    handled = [h for h, _ in samples]
    painted = [p for _, p in samples]
    return (f"{name}: handled median {statistics.median(handled):.1f} ms, p95 {q(handled, .95):.1f} ms; "
            f"painted median {statistics.median(painted):.1f} ms, p95 {q(painted, .95):.1f} ms ({len(samples)} keys)")


async def flood(rate: int, seconds: float) -> None:
    bare, bare_mb = await bare_keys()
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
    floor = statistics.median(painted(bare))
    print(summary("keys in the bare four-panel app (floor)", bare))
    print(summary("keys while idle", idle))
    print(summary("keys during the flood", samples))
    p50_idle, p50_flood, p95_flood = statistics.median(painted(idle)), statistics.median(painted(samples)), \
        q(painted(samples), .95)
    print(f"keys painted vs the floor ({floor:.1f} ms): idle p50 {p50_idle:.1f} ms = {p50_idle / floor:.2f}x "
          f"[<= 33 ms: {verdict(p50_idle <= 33)}]; flood p50 {p50_flood:.1f} ms = {p50_flood / floor:.2f}x "
          f"[<= 50 ms: {verdict(p50_flood <= 50)}], p95 {p95_flood:.1f} ms [<= 150 ms: {verdict(p95_flood <= 150)}]")
    print(f"memory: {idle_mb:.0f} MB idle (the bare app, same process before: {bare_mb:.0f} MB), "
          f"peak {peak_mb:.0f} MB during the flood")


def paint_time(command: list[str], name: str) -> float | None:
    """Seconds from starting `command` in a 160x48 tmux window to the four panel titles on screen; quits it."""
    t = time.perf_counter()
    opened = subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "48", "-c", str(REPO),
                             shlex.join(command)], capture_output=True, text=True)
    if opened.returncode != 0:  # a busy tmux server: this run is left out (the count says so)
        print(f"first paint: tmux could not open a window: {opened.stderr.strip()}", file=sys.stderr)
        return None
    try:
        while time.perf_counter() - t < 15:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                                    text=True).stdout
            if "1 Plan" in screen and "4 Permissions" in screen:
                return time.perf_counter() - t
            time.sleep(0.005)
        return None
    finally:
        subprocess.run(["tmux", "send-keys", "-t", name, "C-q"])
        time.sleep(1.0)
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def first_paint(runs: int = 5) -> None:
    """`tui-agent demo` (this checkout's code) in tmux vs the bare four-panel app launched the same way, alternated.

    Both load from bytecode: Textual's was written when it was installed, and so is an installed tui-agent's; a
    checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module of tui_agent on every start."""
    if not shutil.which("tmux"):
        print("first paint: skipped (needs tmux)")
        return
    compileall.compile_dir(REPO / "tui_agent", quiet=1)
    demo = [sys.executable, "-m", "tui_agent.cli.main", "demo", "--step"]
    bare = [sys.executable, str(REPO / "bench" / "bare_tui.py")]
    times: dict[str, list[float]] = {"demo": [], "bare": []}
    for i in range(runs):
        for kind, command in (("bare", bare), ("demo", demo)):
            took = paint_time(command, f"tui-bench-{os.getpid()}-{kind}-{i}")
            if took is not None:
                times[kind].append(took)
    if not times["demo"] or not times["bare"]:
        print(f"first paint: the panels never showed (demo {len(times['demo'])}, bare {len(times['bare'])} of {runs})")
        return
    d, b = statistics.median(times["demo"]), statistics.median(times["bare"])
    runs_of = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    print(f"first paint ({len(times['demo'])}, {len(times['bare'])} of {runs} runs): "
          f"`tui-agent demo` median {d * 1000:.0f} ms (runs {runs_of(times['demo'])}) vs the bare "
          f"four-panel app {b * 1000:.0f} ms (runs {runs_of(times['bare'])}) = {d / b:.2f}x "
          f"[<= 1.5x: {verdict(d / b <= 1.5)}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100_000)
    parser.add_argument("--no-paint", action="store_true", help="skip the first-paint measurement")
    parser.add_argument("--runs", type=int, default=5, help="first-paint runs of each app (alternated)")
    parser.add_argument("--no-flood", action="store_true", help="only the first-paint measurement")
    args = parser.parse_args()
    if not args.no_flood:
        asyncio.run(flood(args.rate, args.seconds))
    if not args.no_paint:
        first_paint(args.runs)


if __name__ == "__main__":
    main()
