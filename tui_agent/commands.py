"""The small subcommands: sandbox build, doctor, mcp serve."""

from __future__ import annotations

import argparse


def sandbox(args: argparse.Namespace) -> int:
    from tui_agent.sandbox.image import build_image

    build_image(offline=args.offline, name=args.image)
    return 0


def doctor(args: argparse.Namespace) -> int:
    from tui_agent import sandbox as sandboxes

    ok = False
    for name in sandboxes.BACKENDS:
        reason = sandboxes.probe(name)
        ok = ok or reason is None
        print(f"{'ok ' if reason is None else 'no '} {name:7} {reason or 'ready'}")
    return 0 if ok else 1


def sessions(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tui_agent import config
    from tui_agent.sessions import list_sessions, table

    root = args.session_root or config.load(Path.cwd()).session_root
    print(table(list_sessions(root)))
    return 0


def mcp(args: argparse.Namespace) -> int:
    from tui_agent.mcp_server import serve

    serve(args.path, sandbox=args.sandbox, transport="http" if args.http else "stdio", port=args.port)
    return 0
