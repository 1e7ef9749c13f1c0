"""The session list: goal, outcome, iterations, cost and date of every recorded session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tui_agent.sessions.recorder import EVENTS, read_records


@dataclass(frozen=True)
class SessionSummary:
    name: str
    path: Path
    started: float
    project: str
    goal: str
    outcome: str  # met | stopped | error | invalid | running-or-killed
    iterations: int
    cost_usd: float
    parent: str | None


def summarise(folder: Path) -> SessionSummary | None:
    try:
        records = read_records(folder / EVENTS)
    except (OSError, ValueError):
        return None
    start = next((r for r in records if r.get("type") == "session_started"), None)
    if start is None:
        return None
    finished = [r for r in records if r.get("type") == "finished"]
    iterations = [r["iteration"] for r in records if r.get("type") == "iteration_finished"]
    cost = sum(r.get("cost_usd", 0.0) for r in records if r.get("type") == "model_responded")
    return SessionSummary(
        folder.name, folder, start.get("ts", 0.0), start.get("project", ""), start.get("goal", ""),
        finished[-1]["outcome"] if finished else "unfinished", max(iterations, default=0), round(cost, 4),
        start.get("parent"),
    )


def list_sessions(root: Path) -> list[SessionSummary]:
    root = Path(root).expanduser()
    found = [summarise(p) for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    return sorted((s for s in found if s), key=lambda s: s.started, reverse=True)


def table(summaries: list[SessionSummary]) -> str:
    if not summaries:
        return "no sessions yet"
    rows = [("DATE", "OUTCOME", "ITER", "COST", "GOAL", "SESSION")]
    for s in summaries:
        goal = s.goal if len(s.goal) <= 40 else s.goal[:39] + "…"
        fork = f" (fork of {s.parent})" if s.parent else ""
        rows.append((time.strftime("%Y-%m-%d %H:%M", time.localtime(s.started)), s.outcome, str(s.iterations),
                     f"${s.cost_usd:.2f}", goal, s.name + fork))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows)
