"""The `tui-agent` command: run, resume, watch, demo, sandbox build, doctor, env, mcp serve/list/call."""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
from pathlib import Path

from tui_agent import __version__, config
from tui_agent.cli.commands import add_session_commands
from tui_agent.cli.live import add_live_commands
from tui_agent.cli.mcp_parser import add_mcp_commands
from tui_agent.cli.run_options import SANDBOXES, mode_option, run_options
from tui_agent.cli.trust_gate import checked_settings
from tui_agent.sanitize import one_line
from tui_agent.tui.keeper import fork_keeper

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO = "calculator"

EPILOG = """examples:
  tui-agent                                        the session browser: replay, resume or fork a session
  tui-agent demo                                   the TUI on a bundled example, offline
  tui-agent run ./proj --goal "fix the tests" --check "python -m pytest -q"
  tui-agent run ./proj --check "python app.py" --model scripted:fix.json --headless
  tui-agent resume ~/.local/share/tui-agent/sessions/NAME
  tui-agent watch ./proj --check "python -m pytest -q"   re-check on every save, propose fixes
exit codes: 0 goal met, 1 stopped without meeting it, 2 bad input."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, exit 2
        self.exit(2, f"tui-agent: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tui-agent", description="Run a self-correcting coding agent safely and watch it work.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tui-agent {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)  # none: the session browser

    run = sub.add_parser("run", help="run the agent on a project folder")
    run.add_argument("path", type=Path, help="the project folder (never modified without your approval)")
    run_options(run)

    resume = sub.add_parser("resume", help="continue a session from its last whole iteration")
    resume.add_argument("session", help="a session folder, its events.jsonl, or its name")
    resume.add_argument("--fork-at", type=int, dest="fork_at", metavar="K",
                        help="fork: a new session from the files and conversation of iteration K")
    run_options(resume, with_task=False)

    watch = sub.add_parser("watch", help="watch a folder: re-run the check on every change, propose fixes")
    watch.add_argument("path", type=Path, help="the project folder (changed only when you approve a fix)")
    watch.add_argument("--no-auto-fix", action="store_false", dest="auto_fix",
                       help="only re-run the check; do not ask the agent for a fix when it fails")
    run_options(watch)

    replay = sub.add_parser("replay", help="play a recorded session again (no model is called, nothing runs)")
    replay.add_argument("session", help="a session folder, its events.jsonl, or its name")
    replay.add_argument("--speed", type=float, default=1.0, help="pace multiplier; 0 shows everything at once")
    replay.add_argument("--step", action="store_true", help="start paused; step one iteration at a time")
    replay.add_argument("--headless", action="store_true", help="print the recorded events as JSON lines")
    replay.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")

    review = sub.add_parser("review", help="look at a finished session (e.g. a batch task) and deploy it if its "
                                           "goal was met")
    review.add_argument("session", help="a session folder, its events.jsonl, or its name")
    review.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")

    demo = sub.add_parser("demo", help="the TUI on a bundled example with the scripted model, offline")
    demo.add_argument("example", nargs="?", default=DEMO, help=f"which example (default {DEMO})")
    demo.add_argument("--sandbox", choices=SANDBOXES)
    demo.add_argument("--headless", action="store_true")
    demo.add_argument("--step", action="store_true", default=None)
    mode_option(demo)

    batch = sub.add_parser("batch", help="run many tasks headless at once over the sandbox hosts; nothing deploys")
    batch.add_argument("tasks", type=Path, help="TASKS.jsonl: one JSON object per line (project, goal, check, "
                                                "model, options)")
    batch.add_argument("--jobs", type=int, default=2, metavar="N", help="runs at once (default 2)")
    batch.add_argument("--out", type=Path, metavar="DIR", help="where the summaries and diffs go "
                                                               "(default ./batch-DATE-TIME)")
    batch.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")

    box = sub.add_parser("sandbox", help="manage the sandbox image")
    box_sub = box.add_subparsers(dest="action", required=True, parser_class=Parser)
    build = box_sub.add_parser("build", help="build the sandbox image")
    build.add_argument("--offline", action="store_true", help="from a debootstrap root file system, no registry")
    build.add_argument("--image", default="tui-agent-sandbox:latest")
    build.add_argument("--force", action="store_true", help="rebuild even if the image is there")

    doctor = sub.add_parser("doctor", help="say which sandboxes work here (and their cost per check), what to do "
                                           "about the others")
    doctor.add_argument("--quick", action="store_true", help="do not measure the cost per check")

    env = sub.add_parser("env", help="the project's environment: what was detected, its state and size; build; prune",
                         description="tui-agent env [PATH] | env build [PATH] [--force] | env prune")
    env.add_argument("words", nargs="*", metavar="[build|prune] [PATH]", help="an action, then the project folder")
    env.add_argument("--force", action="store_true", help="build again even when the environment is cached")
    env.add_argument("--sandbox", choices=SANDBOXES, help="which backend's environment")
    env.add_argument("--sandbox-host", dest="sandbox_host", metavar="NAME",
                     help="the environment on this [[sandbox_hosts]] entry's engine")

    add_session_commands(sub)
    add_mcp_commands(sub, Parser, SANDBOXES)
    add_live_commands(sub, Parser)
    return parser


def _flags(args: argparse.Namespace) -> dict:
    names = ("goal", "check", "model", "sandbox", "max_iterations", "budget_usd", "wall_time_s", "no_progress",
             "pass_pattern", "timeout_s", "step", "session_root", "breakpoints", "sandbox_host", "sandbox_runtime",
             "trust_project", "mode")
    flags = {name: getattr(args, name, None) for name in names}
    rules = {a: getattr(args, f"rule_{a}") for a in ("allow", "ask", "deny") if getattr(args, f"rule_{a}", None)}
    return {**flags, "permissions": rules or None}


def _example(name: str) -> Path:
    source = EXAMPLES / name
    if not (source / "example.toml").is_file():
        known = ", ".join(sorted(p.name for p in EXAMPLES.glob("*") if (p / "example.toml").is_file()))
        raise config.ConfigError(f"no example {name!r} (known: {known or 'none; examples/ is missing'})")
    return source


async def _start(args: argparse.Namespace) -> int | list[str]:
    resume_dir = None  # the runner is imported by the screen after its first paint (or below, headless)
    if args.command == "resume":
        from tui_agent.runner import settings_of_session
        from tui_agent.sessions.recorder import find_session

        root = config.load(Path.cwd()).session_root if args.session_root is None else args.session_root
        resume_dir = find_session(args.session, root)
        recorded = settings_of_session(resume_dir)
        flags = {**recorded, **{k: v for k, v in _flags(args).items() if v is not None}}
        project = flags.pop("project")
    elif args.command == "demo":
        source = _example(args.example)
        project = Path(tempfile.gettempdir()) / "tui-agent-demo" / args.example
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
        from tui_agent.cli.examples import example_flags

        flags = {**example_flags(source), "sandbox": args.sandbox, "step": args.step, "mode": args.mode}
    else:
        project, flags = args.path, _flags(args)
    headless = bool(getattr(args, "headless", False))
    settings = await checked_settings(project, flags, headless, resume_dir, getattr(args, "fork_at", None))
    if settings is None:
        return 1
    try:
        if not headless:
            from tui_agent.tui.launch import run_tui

            return await run_tui(settings, resume_dir=resume_dir, fork_at=getattr(args, "fork_at", None))
        from tui_agent.agent.gate import NOBODY
        from tui_agent.cli.headless import run_headless
        from tui_agent.runner import prepare

        run = await prepare(settings, who=NOBODY, resume_dir=resume_dir, fork_at=getattr(args, "fork_at", None))
        return await run_headless(run)
    finally:
        from tui_agent.cli.commands import cap_sessions

        await asyncio.to_thread(cap_sessions, settings)


async def _replay(args: argparse.Namespace) -> int | list[str]:
    from tui_agent.agent.gate import NOBODY, PERSON
    from tui_agent.replay_run import ReplayRun
    from tui_agent.review import ReviewRun
    from tui_agent.sessions.recorder import find_session

    if not (math.isfinite(speed := getattr(args, "speed", 1.0)) and speed >= 0):
        raise config.ConfigError(f"--speed: expected 0 (all at once) or more, got {speed}")
    root = args.session_root or config.load(Path.cwd()).session_root
    run: ReplayRun
    if args.command == "review":
        run = ReviewRun(find_session(args.session, root))
    else:
        who = NOBODY if args.headless else PERSON
        run = ReplayRun(find_session(args.session, root), who=who, speed=args.speed, step=args.step)
    if getattr(args, "headless", False):
        from tui_agent.cli.headless import run_headless

        return await run_headless(run)
    from tui_agent.tui.launch import run_tui

    return await run_tui(run.settings, run=run)


def _recover() -> None:
    """Put right what a killed tui-agent left (a half-done deploy, a mounted workspace), and say what was done."""
    from tui_agent.maintenance.recovery import recover

    try:
        for line in recover():
            print(f"tui-agent: {one_line(line)}", file=sys.stderr)
    except Exception as exc:  # never in the way of the command itself
        print(f"tui-agent: warning: recovery at start failed: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)


def _then(outcome: int | list[str]) -> int:
    """An exit code, or the command line chosen in the app's session browser: run now that the app is gone."""
    return main(outcome) if isinstance(outcome, list) else outcome


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "env" and not any(word.startswith("-") for word in extra):
        args.words += extra  # `env build --force PATH`: argparse ends the words at the first option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _recover()
    from tui_agent.models.base import BadModelSpec
    from tui_agent.sandbox.base import SandboxUnavailable
    from tui_agent.workspace.files import WorkspaceError

    try:
        if args.command in (None, "attach", "serve", "stop"):  # the session browser; windows on a live run
            from tui_agent.cli import live

            if args.command is None:
                chosen = live.browse(args)
                return main(chosen) if chosen else 0
            return {"attach": live.attach, "serve": live.serve, "stop": live.stop}[args.command](args)
        if args.command in ("run", "resume", "demo"):
            if not getattr(args, "headless", False):
                fork_keeper()  # the run may outlive its window: a keeper gives the shell its prompt back
            return _then(asyncio.run(_start(args)))
        if args.command in ("replay", "review"):
            return _then(asyncio.run(_replay(args)))
        if args.command == "batch":
            from tui_agent.cli.batch import start_batch

            if args.jobs < 1:
                raise config.ConfigError("--jobs must be at least 1")
            return asyncio.run(start_batch(args))
        if args.command == "watch":
            from tui_agent.cli.watch import start_watch

            settings = asyncio.run(checked_settings(args.path, _flags(args), args.headless))
            if settings is None:
                return 1
            return asyncio.run(start_watch(settings, headless=args.headless, auto_fix=args.auto_fix))
        if args.command == "env":
            from tui_agent.cli.env import env

            return env(args)
        from tui_agent.cli import commands

        return getattr(commands, args.command)(args)
    except (config.ConfigError, BadModelSpec, SandboxUnavailable, WorkspaceError) as exc:
        print(f"tui-agent: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 1


if __name__ == "__main__":
    sys.exit(main())
