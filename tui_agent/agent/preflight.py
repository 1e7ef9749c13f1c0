"""Every bad input found without the sandbox, before any screen: one line on stderr and exit 2, nothing drawn.

`preflight` raises ConfigError or BadModelSpec as `runner.prepare` would, but builds nothing and loads neither the
model's SDK, the MCP client nor the sandbox engine's client: it runs before the first paint of the TUI, so what a
run does not use (rules, breakpoints, sandbox hosts, a session's records) is not even imported."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

from tui_agent.config import ConfigError, Settings, check_project
from tui_agent.environments.detect import detect
from tui_agent.models import check_model
from tui_agent.tools.mcp import config as mcp_config

PERMISSIONS_FILE = Path(".tui-agent") / "permissions.json"  # tools.permissions.policy's (a test holds them equal)

POSITIVE = ("budget_usd", "wall_time_s")  # of the criteria, when set
AT_LEAST = {"max_iterations": 1, "no_progress": 0}  # 0: never stop for no progress


def preflight(settings: Settings, *, resume_dir: Path | None = None, fork_at: int | None = None) -> None:
    """Raise on the first bad input of a run of these settings (resumed from `resume_dir`, forked at `fork_at`)."""
    project = check_project(Path(settings.project))
    check_numbers(settings)
    if not settings.check.strip():
        raise ConfigError("--check: the check command is empty (e.g. --check 'python -m pytest -q')")
    if settings.criteria.pass_pattern is not None:
        try:
            re.compile(settings.criteria.pass_pattern)
        except re.error as exc:
            raise ConfigError(f"--pass-pattern {settings.criteria.pass_pattern!r}: not a regular expression: "
                              f"{exc}") from None
    if settings.breakpoints:
        from tui_agent.agent.breakpoints import Breakpoints

        Breakpoints.parse(list(settings.breakpoints))
    placed = replace(settings, project=project)
    mcp_config.servers_for(placed)  # a malformed .mcp.json (the project's only when it is trusted)
    backend = settings.sandbox
    if settings.sandbox_host or settings.sandbox_hosts or settings.sandbox_runtime:
        from tui_agent.sandbox.hosts import placement

        backend = placement(settings)[0]  # an unknown --sandbox-host, a runtime bwrap cannot use
    detect(project, settings.env, settings.setup, "docker" if backend == "auto" else backend,
           trusted=settings.project_trusted)
    if settings.permissions or (project / PERMISSIONS_FILE).exists():
        from tui_agent.tools.permissions.policy import Policy, PolicyError

        try:
            Policy.load(project, settings.permissions, trusted=mcp_config.trusted_now(placed), mode=settings.mode)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None
    check_model(str(settings.model), prices=settings.prices or None)
    if resume_dir is not None:
        from tui_agent.sessions.resume import resumed_from

        resumed_from(resume_dir, fork_at)


def check_numbers(settings: Settings) -> None:
    """Limits that cannot mean anything: a negative budget, no iteration at all, a timeout of 0, NaN..."""
    criteria = settings.criteria
    for name in POSITIVE:
        value = getattr(criteria, name)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"setting {name!r}: expected a number above 0, got {value!r}")
    for name, least in AT_LEAST.items():
        if getattr(criteria, name) < least:
            raise ConfigError(f"setting {name!r}: expected a whole number of at least {least}, "
                              f"got {getattr(criteria, name)!r}")
    for name in ("timeout_s", "memory_mb", "max_turns", "context_tokens"):
        value = getattr(settings, name)
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"setting {name!r}: expected a number above 0, got {value!r}")
