"""The small subcommands: sandbox build, doctor, mcp serve."""

from __future__ import annotations

import argparse
import sys


def sandbox(args: argparse.Namespace) -> int:
    from tui_agent.sandbox.docker.image import ImageBuildError, build_image

    try:
        build_image(offline=args.offline, name=args.image, force=args.force)
    except ImageBuildError as exc:
        print(f"tui-agent: error: {exc}", file=sys.stderr)
        return 1
    return 0


def doctor(args: argparse.Namespace) -> int:
    """Which sandboxes, runtimes and hosts can run here (and their cost per check); what to do about the others."""
    from pathlib import Path

    from tui_agent import config
    from tui_agent.cli.doctor import lines
    from tui_agent.sandbox.docker.image import doctor_lines

    usable, said = [], set()
    for what, ok, detail in lines(config.load(Path.cwd()), measure=not args.quick):
        if ok and what.startswith("sandbox "):
            usable.append(what.split()[1])
        said.add(detail)
        print(f"[{'ok' if ok else '!!'}] {what}: {detail}")
    for what, ok, detail in doctor_lines():
        if detail not in said and (ok or what != "docker engine"):  # a silent engine: the docker line said why
            print(f"[{'ok' if ok else '!!'}] {what}: {detail}")
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
    print(table(list_sessions(root)))
    return 0


def mcp(args: argparse.Namespace) -> int:
    from tui_agent.mcp_server import serve

    serve(args.path, sandbox=args.sandbox, transport="http" if args.http else "stdio", port=args.port)
    return 0
