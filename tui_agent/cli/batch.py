"""`tui-agent batch TASKS.jsonl --jobs N`: a live progress table on stderr, one summary JSON per task on stdout."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

from tui_agent import config
from tui_agent.batch.hosts import Host, Hosts, capacity_of
from tui_agent.batch.run import Progress, run_batch
from tui_agent.batch.tasks import load
from tui_agent.sandbox import hosts as sandbox_hosts
from tui_agent.sanitize import one_line


async def batch_hosts(settings: config.Settings) -> list[Host]:
    """The configured sandbox hosts (each with its capacity, or down with the reason), else this machine."""
    engines = sandbox_hosts.parse(settings.sandbox_hosts)
    if not engines:
        return [Host("this machine", None, capacity_of(None)[0])]
    found = await asyncio.gather(*(asyncio.to_thread(capacity_of, e) for e in engines))
    pairs = zip(engines, found, strict=True)
    return [Host(e.name, e, capacity, alive=not reason, reason=reason) for e, (capacity, reason) in pairs]


def _one_line(text: str) -> str:
    return one_line(" ".join(text.split()))


class Table:
    """The progress table: redrawn in place on a terminal; otherwise (a log, CI) a line per task state change."""

    def __init__(self, hosts: list[Host], jobs: int, stream=None):
        self.hosts, self.jobs, self.out = hosts, jobs, stream or sys.stderr
        self.tty = self.out.isatty()
        self.drawn = 0
        self.running: dict[str, str] = {}  # what the last line said runs where (off a terminal)

    def lines(self, p: Progress) -> list[str]:
        head = (f"batch: {p.total} tasks, {self.jobs} jobs | done {p.met}  running {len(p.running)}  "
                f"failed {p.failed}  queued {p.queued} | cost ${p.cost_usd:.4f} | {time.monotonic() - p.started:.1f}s")
        rows = [head, f"  {'host':<16} {'state':<6} {'room':>4} {'running':>7} {'done':>5} {'failed':>6}"]
        for h in self.hosts:
            why = f"  {_one_line(h.reason)[:100]}" if h.reason else ""
            name = _one_line(h.name)[:16]
            rows.append(f"  {name:<16} {'up' if h.alive else 'down':<6} {h.capacity:>4} {h.running:>7} "
                        f"{h.done:>5} {h.failed:>6}{why}")
        return rows

    def draw(self, p: Progress) -> None:
        if not self.tty:
            for task, host in p.running.items():
                if self.running.get(task) != host:
                    self.out.write(f"[{p.met + p.failed}/{p.total}] {_one_line(task)}: running on "
                                   f"{_one_line(host)} ({len(p.running)} running, {p.queued} queued)\n")
                    self.out.flush()
            self.running = dict(p.running)
            return
        rows = self.lines(p)
        up = f"\x1b[{self.drawn}F" if self.drawn else ""
        self.out.write(up + "".join(f"\x1b[2K{row}\n" for row in rows))
        self.out.flush()
        self.drawn = len(rows)

    def finished(self, s: dict, p: Progress) -> None:
        if self.tty:
            self.draw(p)
            return
        done = p.met + p.failed
        self.out.write(f"[{done}/{p.total}] {_one_line(str(s['task']))}: {s['outcome']} on {s.get('host') or '-'} "
                       f"({s.get('iterations', 0)} iterations, ${s.get('cost_usd', 0):.4f}) "
                       f"{_one_line(str(s.get('reason', '')))[:160]}\n")
        self.out.flush()


async def start_batch(args) -> int:
    tasks = load(args.tasks)
    settings = config.load(Path.cwd())
    hosts = await batch_hosts(settings)
    out_dir = args.out or Path.cwd() / f"batch-{time.strftime('%Y%m%d-%H%M%S')}"
    base = {"sandbox_hosts": settings.sandbox_hosts,
            "session_root": Path(args.session_root or settings.session_root).resolve()}
    table, halt = Table(hosts, args.jobs), asyncio.Event()

    def summary(s: dict) -> None:
        sys.stdout.write(json.dumps(s, ensure_ascii=True) + "\n")
        sys.stdout.flush()

    async def ticker(progress_ref: list) -> None:
        while True:
            await asyncio.sleep(1)
            if progress_ref:
                table.draw(progress_ref[0])

    loop, seen = asyncio.get_running_loop(), []
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, halt.set)
    tick = asyncio.ensure_future(ticker(seen))

    def changed(p: Progress) -> None:
        seen[:] = [p]
        table.draw(p)

    try:
        summaries = await run_batch(tasks, Hosts(hosts), args.jobs, base, out_dir,
                                    on_summary=lambda s: (summary(s), table.finished(s, seen[0])), on_change=changed,
                                    halt=halt)
    finally:
        tick.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    met = sum(s["outcome"] == "met" for s in summaries)
    sys.stderr.write(f"batch: {met} of {len(tasks)} met; summaries and diffs in {out_dir} "
                     "(nothing was deployed: `tui-agent review SESSION` to look and deploy; each result's session "
                     "is kept from pruning until `tui-agent sessions prune --force`)\n")
    from tui_agent.cli.commands import cap_sessions

    cap_sessions(dataclasses.replace(settings, session_root=base["session_root"]))
    return 0 if met == len(tasks) else 1
