"""The small subcommands: sandbox build, doctor, sessions (list, prune), undo, mcp serve, list, call."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui_agent.sanitize import one_line, visible


def add_session_commands(sub: argparse._SubParsersAction) -> None:
    undo = sub.add_parser("undo", help="put your folder back as it was before the last deploy (an undo undoes too)")
    undo.add_argument("session", nargs="?", help="a session folder or name (default: this folder's last deploy)")
    undo.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")
    sessions = sub.add_parser("sessions", help="list recorded sessions: goal, outcome, iterations, cost, date; prune")
    sessions.add_argument("action", nargs="?", choices=["prune"], help="prune: remove old finished sessions and "
                          "content nothing references (never a running one, nor an interrupted one unless asked)")
    sessions.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")
    sessions.add_argument("--older-than", type=float, dest="older_than", metavar="DAYS",
                          help="prune: finished sessions untouched for this long")
    sessions.add_argument("--max-size", dest="max_size", metavar="SIZE",
                          help="prune: the oldest finished sessions first until all fit in SIZE (e.g. 500M, 2G)")
    sessions.add_argument("--include-resumable", action="store_true", dest="include_resumable",
                          help="prune: interrupted sessions too (they could still be resumed)")
    sessions.add_argument("--force", action="store_true", help="prune: pinned sessions (kept batch results, the "
                          "newest deploy's undo data) and interrupted or stopped ones too; never a running one")
    sessions.add_argument("--dry-run", action="store_true", dest="dry_run", help="prune: only say what would go")


def sandbox(args: argparse.Namespace) -> int:
    from tui_agent.sandbox.docker.image import ImageBuildError, build_image

    try:
        build_image(offline=args.offline, name=args.image, force=args.force)
    except ImageBuildError as exc:
        print(f"tui-agent: error: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0


def doctor(args: argparse.Namespace) -> int:
    """Which sandboxes, runtimes and hosts can run here (and their cost per check); what to do about the others."""
    from pathlib import Path

    from tui_agent import config
    from tui_agent.cli.doctor import lines
    from tui_agent.sandbox.docker.image_doctor import doctor_lines

    usable, said = [], set()
    for what, ok, detail in lines(config.load(Path.cwd()), measure=not args.quick):
        if ok and what.startswith("sandbox "):
            usable.append(what.split()[1])
        said.add(detail)
        print(visible(f"[{'ok' if ok else '!!'}] {what}: {detail}"))
    for what, ok, detail in doctor_lines():
        if detail not in said and (ok or what != "docker engine"):  # a silent engine: the docker line said why
            print(visible(f"[{'ok' if ok else '!!'}] {what}: {detail}"))
    if usable:
        print(f"checks will run in: {usable[0]} (choose with --sandbox)")
        return 0
    print("no sandbox can run here: agent code is never run unsandboxed; fix one of the above")
    return 1


def sessions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tui_agent import config
    from tui_agent.sessions.catalog import list_sessions, table

    root = args.session_root or config.load(Path.cwd()).session_root
    if args.action == "prune":
        return _prune(root, args)
    print(visible(table(list_sessions(root))))
    return 0


def undo(args: argparse.Namespace) -> int:
    """`tui-agent undo [SESSION]`: 0 undone; 1 refused (the folder changed since: what changed is said); 2 bad input."""
    from pathlib import Path

    from tui_agent import config
    from tui_agent.sessions.recorder import find_session
    from tui_agent.workspace.deploy_plan import DeployError
    from tui_agent.workspace.deploy_subset import undo_deploy
    from tui_agent.workspace.undo import last_for
    from tui_agent.workspace.workspace import Workspace

    root = args.session_root or config.load(Path.cwd()).session_root
    session = find_session(args.session, root) if args.session else last_for(Path(root).expanduser(), Path.cwd())
    if session is None:
        raise config.ConfigError(f"no deploy of {Path.cwd()} to undo in {root} (name a session)")
    ws = Workspace.open(session)
    try:
        of, files = undo_deploy(ws)
    except DeployError as exc:
        print(f"tui-agent: {one_line(exc)}", file=sys.stderr)
        return 2 if "has no deploy to undo" in str(exc) else 1
    finally:
        ws.close()
    print(one_line(f"undid the {of} of session {session.name}: {len(files)} file(s) back in {ws.project}"))
    return 0


def _prune(root, args: argparse.Namespace) -> int:
    from tui_agent import config
    from tui_agent.maintenance.prune import prune

    if args.older_than is None and args.max_size is None:
        raise config.ConfigError("sessions prune needs --older-than DAYS and/or --max-size SIZE")
    gone = prune(root, older_than_s=None if args.older_than is None else args.older_than * 86400,
                 max_bytes=None if args.max_size is None else config.parse_size(args.max_size, "--max-size"),
                 include_resumable=args.include_resumable or args.force, force=args.force, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for item in gone:
        print(one_line(f"{verb} {item.name} ({item.bytes / 1e6:.1f} MB): {item.why}"))
    print(f"{verb} {len(gone)} session(s), {sum(i.bytes for i in gone) / 1e6:.1f} MB")
    return 0


def cap_sessions(settings) -> None:
    """After a run: the person's `sessions_max_size` (their own config or TUI_AGENT_SESSIONS_MAX_SIZE, never the
    project's) prunes the oldest finished sessions until all fit; said on stderr."""
    if settings is None or settings.sessions_max_size is None:
        return
    from tui_agent.maintenance.prune import prune

    try:
        gone = prune(settings.session_root, max_bytes=settings.sessions_max_size)
    except OSError as exc:
        print(f"tui-agent: warning: sessions_max_size: {one_line(exc)}", file=sys.stderr)
        return
    if gone:
        names = ", ".join(item.name for item in gone)
        print(one_line(f"tui-agent: sessions_max_size: removed {len(gone)} finished session(s), "
                       f"{sum(i.bytes for i in gone) / 1e6:.1f} MB: {names}"), file=sys.stderr)


def mcp(args: argparse.Namespace) -> int:
    from tui_agent.cli.mcp_client import mcp_call, mcp_list
    from tui_agent.mcp_server import serve

    if args.action == "list":
        return mcp_list(args)
    if args.action == "call":
        return mcp_call(args)
    if args.action == "login":
        from tui_agent.cli.mcp_login import mcp_login

        return mcp_login(args)

    serve(args.path, sandbox=args.sandbox, transport="http" if args.http else "stdio", port=args.port)
    return 0
