"""`tui-agent attach`, `serve`, `stop`, and `tui-agent` alone (the session browser): windows on runs."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tui_agent import config
from tui_agent.attach.wire import AttachError, live, socket_path
from tui_agent.sanitize import one_line


def add_live_commands(sub: argparse._SubParsersAction, parser_class: type) -> None:
    attach = sub.add_parser("attach", help="another window on a live run: the same events, the same controls "
                                           "(closing it never stops the run)")
    attach.add_argument("session", nargs="?", help="a session folder or name (default: the newest live run)")
    attach.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")
    serve = sub.add_parser("serve", help="`attach` in a browser: every browser window attaches to the live run")
    serve.add_argument("session", nargs="?", help="a session folder or name (default: the newest live run)")
    serve.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")
    serve.add_argument("--host", default="127.0.0.1", help="the interface to listen on (default 127.0.0.1 only)")
    serve.add_argument("--port", type=int, default=0, help="default: a free port")
    serve.add_argument("--public-url", dest="public_url", metavar="URL",
                       help="the address browsers use, e.g. http://myhost:8000 behind --host 0.0.0.0: the page's "
                            "links and the Origin the websocket must come from (default http://HOST:PORT)")
    stop = sub.add_parser("stop", help="stop a live run (e.g. one whose window was closed: it went on)")
    stop.add_argument("session", nargs="?", help="a session folder or name (default: the newest live run)")
    stop.add_argument("--sessions", type=Path, dest="session_root", metavar="DIR", help="where sessions are kept")


def _root(args: argparse.Namespace) -> Path:
    return Path(args.session_root) if args.session_root else config.load(Path.cwd()).session_root


def live_session(spec: str | None, root: Path) -> Path:
    """The session named, or the newest one with a live run's socket; ConfigError (exit 2) when there is none."""
    from tui_agent.sessions.catalog import list_sessions
    from tui_agent.sessions.recorder import find_session

    if spec:
        found = find_session(spec, root)
        if not _socket(found).exists():
            raise config.ConfigError(f"the session {found.name} has no live run to attach to")
        return found
    for summary in list_sessions(root):
        if live(summary.path):  # not a socket a killed run left
            return summary.path
    raise config.ConfigError(f"no live run to attach to under {root}")


def _socket(session_dir: Path) -> Path:
    try:
        return socket_path(session_dir)
    except AttachError as exc:
        raise config.ConfigError(str(exc)) from exc


def attach(args: argparse.Namespace) -> int:
    from tui_agent.tui.attach_app import run_attached

    try:
        return asyncio.run(run_attached(live_session(args.session, _root(args))))
    except AttachError as exc:
        raise config.ConfigError(str(exc)) from exc


def stop(args: argparse.Namespace) -> int:
    """Send the run Stop, as the x key does, and wait for it to finish; 0 once it has."""
    from tui_agent.attach.client import AttachedRun
    from tui_agent.commands import Stop

    async def stopped(session_dir: Path) -> str:
        run = await AttachedRun(session_dir).connect()
        try:
            run.send(Stop("stopped with tui-agent stop"))
            finished = await run.execute()
        finally:
            await run.close()
        return f"{finished.outcome}: {finished.reason}"

    try:
        found = live_session(args.session, _root(args))
        said = asyncio.run(stopped(found))
    except AttachError as exc:
        raise config.ConfigError(str(exc)) from exc
    print(f"tui-agent: {found.name} {one_line(said)}")
    return 0


def serve(args: argparse.Namespace) -> int:
    from tui_agent.tui.serve import check_public_url, serve_attach

    try:
        public_url = check_public_url(args.public_url) if args.public_url else None
    except ValueError as exc:
        raise config.ConfigError(str(exc)) from exc
    return serve_attach(live_session(args.session, _root(args)), args.host, args.port, public_url)


def browse(args: argparse.Namespace) -> list[str] | None:
    """The session browser; the command line of what the person chose (None: nothing)."""
    from tui_agent.tui.sessions_app import SessionsApp

    root = config.load(Path.cwd()).session_root
    choice = SessionsApp(root, folder=Path.cwd()).run()
    return None if choice is None else choice.argv()


def command_line(action: str, session: Path, iteration: int | None = None) -> list[str]:
    """The `tui-agent` arguments that replay, attach to, resume or fork (from `iteration`) this session."""
    from tui_agent.tui.sessions_app import Choice

    return Choice(action, session, iteration).argv()
