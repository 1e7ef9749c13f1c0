"""Run a batch: up to N headless loops at once, spread over the hosts; one summary per task; nothing deploys."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tui_agent import config
from tui_agent.batch.hosts import Host, Hosts
from tui_agent.batch.tasks import Task
from tui_agent.maintenance.prune import pin_session
from tui_agent.commands import Stop
from tui_agent.events import ModelResponded
from tui_agent.models.base import BadModelSpec
from tui_agent.sandbox.base import SandboxUnavailable


@dataclass
class Progress:
    """What the progress table shows: counts, the cost so far, each running task's host."""

    total: int
    met: int = 0
    failed: int = 0  # stopped, error or invalid: not met
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    running: dict[str, str] = field(default_factory=dict)  # task id -> host name

    @property
    def queued(self) -> int:
        return self.total - self.met - self.failed - len(self.running)


class HostLost(Exception):
    """The task could not start on its host; if the host is gone, the task goes to another one."""


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def failure(task: Task, host: Host | None, reason: str, outcome: str = "error") -> dict:
    return {"task": task.id, "project": str(task.project), "host": host.name if host else None,
            "outcome": outcome, "reason": reason, "iterations": 0, "cost_usd": 0.0}


async def _stop_on(halt: asyncio.Event, run) -> None:
    await halt.wait()
    run.send(Stop("the batch was interrupted"))


async def run_task(task: Task, host: Host, base: dict, out_dir: Path, progress: Progress,
                   halt: asyncio.Event) -> dict:
    """One headless run of `task` on `host`; its summary (the diff is written beside it)."""
    from tui_agent.agent.gate import NOBODY
    from tui_agent.runner import prepare

    flags = {**task.flags, **base, "sandbox_host": host.name if host.engine else None}
    try:
        settings = config.load(task.project, **flags)
        run = await prepare(settings, who=NOBODY)  # headless: never asks, never deploys
    except (config.ConfigError, BadModelSpec) as exc:
        return failure(task, host, str(exc), outcome="invalid")
    except SandboxUnavailable as exc:
        raise HostLost(str(exc)) from None

    def count(event) -> None:
        if isinstance(event, ModelResponded):
            progress.cost_usd += event.cost_usd

    run.subscribe(count)
    stopper = asyncio.ensure_future(_stop_on(halt, run))
    try:
        finished = await run.execute()
        diff, files = run.workspace.diff(run.workspace.baseline)  # every change against the project
    finally:
        stopper.cancel()
        await run.close()
    diff_path = out_dir / f"{task.id}.diff"
    _write(diff_path, diff)
    pin_session(run.session_dir, "batch", f"batch result {task.id}, kept for review ({diff_path})")
    return {"task": task.id, "project": str(task.project), "goal": settings.goal, "host": host.name,
            "outcome": finished.outcome, "reason": finished.reason, "iterations": finished.iterations,
            "cost_usd": finished.cost_usd, "elapsed_s": finished.elapsed_s, "session": str(run.session_dir),
            "workspace": str(run.workspace.path), "files": files, "diff": str(diff_path),
            "review": f"tui-agent review {run.session_dir}"}


async def run_batch(tasks: list[Task], hosts: Hosts, jobs: int, base: dict, out_dir: Path,
                    on_summary: Callable[[dict], None], on_change: Callable[[Progress], None],
                    halt: asyncio.Event | None = None) -> list[dict]:
    """Run every task; a host that dies fails its running tasks and gets no more; the rest go on.

    Setting `halt` (Ctrl-C) stops the running loops and starts no more."""
    out_dir.mkdir(parents=True, exist_ok=True)
    progress, queue, summaries = Progress(len(tasks)), deque(tasks), []
    halt = halt or asyncio.Event()

    def finish(summary: dict) -> None:
        progress.met += summary["outcome"] == "met"
        progress.failed += summary["outcome"] != "met"
        _write(out_dir / f"{summary['task']}.json", json.dumps(summary, indent=2) + "\n")
        summaries.append(summary)
        on_summary(summary)
        on_change(progress)

    async def worker() -> None:
        while queue:
            task = queue.popleft()
            if halt.is_set():
                finish(failure(task, None, "the batch was interrupted before it started", outcome="stopped"))
                continue
            host = await hosts.acquire()
            if host is None:
                reasons = "; ".join(f"{h.name}: {h.reason}" for h in hosts.hosts)
                finish(failure(task, None, f"no sandbox host answers ({reasons})"))
                continue
            progress.running[task.id] = host.name
            on_change(progress)
            try:
                summary = await run_task(task, host, base, out_dir, progress, halt)
            except HostLost as exc:
                if not await hosts.still_up(host):
                    progress.running.pop(task.id)
                    await hosts.release(host, failed=False)
                    queue.appendleft(task)  # it never started: another host takes it
                    continue
                summary = failure(task, host, str(exc))
            except Exception as exc:  # a bug must not take the other runs down with it
                summary = failure(task, host, f"{type(exc).__name__}: {exc}")
            if summary["outcome"] == "error" and not await hosts.still_up(host):
                summary["reason"] = f"host {host.name} died mid-run: {summary['reason']}"
            progress.running.pop(task.id)
            await hosts.release(host, failed=summary["outcome"] != "met")
            finish(summary)

    await asyncio.gather(*(worker() for _ in range(max(1, jobs))))
    return summaries
