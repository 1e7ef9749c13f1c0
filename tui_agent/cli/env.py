"""`tui-agent env [PATH]`, `env build [PATH] [--force]`, `env prune`: a project's environment from the command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from tui_agent import config
from tui_agent.config import ConfigError
from tui_agent.events import EnvFailed, EnvOutput, EnvReady, EnvStep, Event
from tui_agent.sanitize import sanitize, visible

ACTIONS = ("build", "prune")
SANDBOX_UID = 1000  # the sandbox user when tui-agent runs as root (runner.SANDBOX_UID)


def _say(line: str, flush: bool = False) -> None:
    """Print a line that quotes the project's files: hidden characters shown."""
    print(visible(line), flush=flush)


def env(args: argparse.Namespace) -> int:
    words = list(args.words)
    action = words.pop(0) if words and words[0] in ACTIONS else "show"
    if len(words) > 1:
        raise ConfigError(f"env {action}: expected at most one project folder, got {' '.join(words)}")
    path = Path(words[0]) if words else Path(".")
    if action == "prune":
        return prune(config.load(Path.cwd()).env_root)
    settings = config.load(path, sandbox=args.sandbox, sandbox_host=getattr(args, "sandbox_host", None))
    step, backend = asyncio.run(_step(settings, to_build=action == "build"))
    if action == "show":
        return show(step, backend, Path(settings.project))
    return asyncio.run(build(step, args.force))


async def _step(settings, to_build: bool):
    # not tui_agent.runner: it loads the agent and the MCP SDK (1.5 s here), which this command never uses
    from tui_agent import sandbox as sandboxes
    from tui_agent.environments.session import for_run
    from tui_agent.sandbox import hosts

    project = config.check_project(Path(settings.project))
    owner = (SANDBOX_UID, SANDBOX_UID) if os.geteuid() == 0 else (os.getuid(), os.getgid())  # as runner._limits
    limits = sandboxes.Limits(timeout_s=settings.timeout_s, memory_mb=settings.memory_mb, uid=owner[0], gid=owner[1])
    choice, engine, runtime = hosts.placement(settings)  # the run's own engine: a sandbox host's, or the default
    spec = sandboxes.SandboxSpec(project, limits, settings.image, engine=engine, runtime=runtime)
    if choice == "auto":
        backend = sandboxes.default_backend(spec)
    elif reason := sandboxes.probe(choice, spec):
        raise sandboxes.SandboxUnavailable(f"sandbox {choice} is not available: {reason}")
    else:
        backend = choice
    return await for_run(settings, project, backend, limits, engine, to_build), backend


def show(step, backend: str, project: Path) -> int:
    env = step.environment
    _say(f"project: {project}")
    _say(f"sandbox: {backend}" + (f" ({env.engine.name}: {env.engine.url})" if env and env.engine else ""))
    if env is None:
        _say("environment: none (nothing declared: checks run in the sandbox image as it is)")
        return 0
    recipe = env.recipe
    _say(f"environment: {recipe.describe()}")
    _say(f"inputs: {', '.join(recipe.inputs) or '-'}")
    if recipe.install:
        _say(f"install: {recipe.install}")
    if recipe.setup:
        _say(f"setup: {recipe.setup}")
    if recipe.python:
        _say(f"python: {recipe.python} ({recipe.python_from})")
    summary = env.indexes.summary()
    _say(f"package index: {summary['index'] or 'none'}" + "".join(f" + {u}" for u in summary["extra"])
         + (f" (uv index strategy: {summary['strategy']})" if summary.get("strategy") else ""))
    if summary["find_links"]:
        _say(f"find links: {' '.join(summary['find_links'])}")
    for note in recipe.notes:
        _say(f"note: {note}")
    if step.found:
        _say(f"state: built ({step.found.name}, {step.found.size_bytes / 1e6:.1f} MB)")
    elif problem := env.remote_problem():
        _say(f"state: not built; {problem}")
    else:
        _say("state: not built (the next run builds it, or `tui-agent env build`)")
    _say(f"key: {env.key()}")
    return 0


def _printer(event: Event) -> None:
    if isinstance(event, EnvOutput):
        print(visible(sanitize(event.text, keep_colour=False)), flush=True)
    elif isinstance(event, EnvStep):
        _say(f"── {event.step}", flush=True)
    elif isinstance(event, EnvReady):
        _say(f"ready: {event.name} ({event.size_mb:.1f} MB) in {event.duration_s:.1f} s", flush=True)
    elif isinstance(event, EnvFailed):
        _say(f"failed at step {event.step}; full log: {event.log}", flush=True)


async def build(step, force: bool) -> int:
    env = step.environment
    if env is None:
        _say("this project declares no environment: nothing to build")
        return 0
    if step.found and not force:
        _say(f"already built: {step.found.name} ({step.found.size_bytes / 1e6:.1f} MB); --force builds it again")
        return 0
    await env.build(_printer)  # EnvironmentFailed is a ConfigError: one line on stderr, exit 2
    return 0


def prune(root: Path) -> int:
    """Remove every cached environment (they are rebuilt when needed), their build logs and leftovers."""
    from tui_agent.environments import bwrap_store, docker_store
    from tui_agent.environments.build import discard
    from tui_agent.sandbox.docker.engine import local_podman, socket_listens
    from tui_agent.sandbox.docker.image import engine_problem

    removed, kept = 0, []
    stores = [(bwrap_store.entries(root), bwrap_store.remove)]
    if engine_problem() is None:
        stores.append((docker_store.entries(), docker_store.remove))
    podman = local_podman()
    if socket_listens(podman.url):  # a Podman service that is not running keeps its images until it is
        stores.append((docker_store.entries(podman), lambda entry: docker_store.remove(entry, podman)))
    for entries, remove in stores:
        for entry in entries:
            problem = remove(entry)
            if problem:
                kept.append(f"{entry.name}: {problem}")
            else:
                removed += 1
    for leftover in (root / "logs", root / "tools", root / "outputs", *(root / "builds").glob("*")):
        young = 3600 if leftover.parent.name == "builds" else 0
        if leftover.exists() and time.time() - leftover.stat().st_mtime > young:
            discard(leftover)  # a build folder younger than an hour may belong to a build under way
    _say(f"removed {removed} environment(s) from {root} and the container engines")
    for line in kept:
        _say(f"kept {line}")
    return 0 if not kept else 1
