"""The tasks of a batch: one JSON object per line of TASKS.jsonl (project, goal, check, model, options)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from tui_agent.config import ConfigError, Criteria, Settings

KEYS = {"id", "project", "goal", "check", "model", "options"}
# the batch decides these itself: runs are headless, never paused, and placed on a host by free capacity
NOT_OPTIONS = {"project", "headless", "step", "sandbox_host", "sandbox_hosts", "session_root", "breakpoints"}
OPTIONS = ({f.name for f in dataclasses.fields(Settings)} | {f.name for f in dataclasses.fields(Criteria)}) \
    - {"criteria"} - NOT_OPTIONS


@dataclass(frozen=True)
class Task:
    id: str
    project: Path
    flags: dict  # settings flags: goal, check, model and the options


def _model(spec: str, base: Path) -> str:
    """scripted:FILE and replay:FILE are relative to the tasks file's folder."""
    kind, sep, rest = spec.partition(":")
    if sep and kind in ("scripted", "replay") and rest and not Path(rest).is_absolute():
        return f"{kind}:{(base / rest).resolve()}"
    return spec


def _task(item: object, where: str, base: Path, number: int) -> Task:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a task is a JSON object, got {type(item).__name__}")
    unknown = set(item) - KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    if not isinstance(item.get("project"), str) or not item["project"]:
        raise ConfigError(f"{where}: \"project\" (a folder) is required")
    project = (base / item["project"]).resolve()
    if not project.is_dir():
        raise ConfigError(f"{where}: project folder not found: {project}")
    options = item.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: \"options\" is an object of settings")
    bad = set(options) - OPTIONS
    if bad:
        raise ConfigError(f"{where}: option(s) {', '.join(sorted(bad))} cannot be set per task")
    flags = {k: item[k] for k in ("goal", "check", "model") if item.get(k) is not None}
    for key, value in flags.items():
        if not isinstance(value, str):
            raise ConfigError(f"{where}: \"{key}\" is a string")
    if "model" in flags:
        flags["model"] = _model(flags["model"], base)
    task_id = item.get("id") or f"{number:03d}-{project.name}"
    if not isinstance(task_id, str) or "/" in task_id or task_id.startswith("."):
        raise ConfigError(f"{where}: \"id\" is a plain name, got {task_id!r}")
    return Task(task_id, project, {**options, **flags})


def load(path: Path) -> list[Task]:
    """Every task of the file, checked before any starts; ConfigError (exit 2) names the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    tasks, base = [], Path(path).resolve().parent
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{where}: not JSON ({exc})") from None
        tasks.append(_task(item, where, base, len(tasks) + 1))
    if not tasks:
        raise ConfigError(f"{path}: no tasks (one JSON object per line)")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: task ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return tasks
