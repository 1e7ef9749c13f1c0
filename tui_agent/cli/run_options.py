"""The options of a run (run, demo, resume, watch): the task, the model, the sandbox, the criteria, the rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui_agent import config

SANDBOXES = ["auto", "docker", "podman", "bwrap"]


def run_options(p: argparse.ArgumentParser, with_task: bool = True) -> None:
    if with_task:
        p.add_argument("--goal", help="what the agent should achieve (default: make the check pass)")
        p.add_argument("--check", help="shell command that passes when the goal is met, run in the sandbox "
                                        "(default: python -m pytest -q)")
    p.add_argument("--model", help="anthropic:MODEL (default), replay:SESSION.jsonl or scripted:FILE")
    p.add_argument("--sandbox", choices=SANDBOXES, help="where checks run (default: auto)")
    p.add_argument("--sandbox-host", dest="sandbox_host", metavar="NAME",
                   help="run the checks on this [[sandbox_hosts]] entry of the config (a remote engine)")
    p.add_argument("--sandbox-runtime", dest="sandbox_runtime", metavar="RUNTIME",
                   help="OCI runtime for docker/podman sandboxes, e.g. runsc (gVisor)")
    p.add_argument("--max-iterations", type=int, dest="max_iterations", metavar="N",
                   help="stop after N iterations (default 10)")
    p.add_argument("--budget-usd", type=float, dest="budget_usd", metavar="X", help="stop when spend reaches X")
    p.add_argument("--wall-time", type=float, dest="wall_time_s", metavar="SECONDS", help="stop after this long in all")
    p.add_argument("--no-progress", type=int, dest="no_progress", metavar="N",
                   help="stop (or ask) after N iterations in a row leave the same failure (default 3)")
    p.add_argument("--pass-pattern", dest="pass_pattern", metavar="REGEX", help="the check output must match too")
    p.add_argument("--timeout", type=float, dest="timeout_s", metavar="SECONDS", help="per check run (default 120)")
    p.add_argument("--step", action="store_true", default=None, help="start paused; step one iteration at a time")
    p.add_argument("--headless", action="store_true", help="print one JSON event per line; never ask, never deploy")
    p.add_argument("--break-on", action="append", dest="breakpoints", metavar="WHERE",
                   help="pause at: tool, tool:RULE, check, failure, spend:USD, iteration:N (repeatable)")
    for action, text in (("allow", "run without asking"), ("ask", "always ask first"), ("deny", "never run")):
        p.add_argument(f"--{action}", action="append", dest=f"rule_{action}", metavar="RULE",
                       help=f"permission rule, repeatable: tool calls to {text}, "
                            "e.g. 'edit_file' or 'run_command(pytest *)'")
    p.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")
    p.add_argument("--trust-project", action="store_true", default=None, dest="trust_project",
                   help="trust the project's own .mcp.json, config and permissions for this run")
    mode_option(p)


def mode_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", choices=config.MODES, help="auto (default): reads, workspace edits and sandboxed commands "
                   "run without asking, MCP tools ask; ask: every call asks; plan: read-only. Rules apply on top")
