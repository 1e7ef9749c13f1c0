"""A run's environment step: found in the cache or built before the baseline check; the agent's edits of its inputs."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tui_agent.config import ConfigError, Settings
from tui_agent.environments import outputs
from tui_agent.environments.build import Environment
from tui_agent.environments.detect import Recipe, detect
from tui_agent.environments.docker_store import Entry
from tui_agent.events import EnvDetected, EnvOutdated, EnvReady, Event
from tui_agent.sandbox.base import Limits, SandboxSpec
from tui_agent.sandbox.docker.engine import Engine


@dataclass
class EnvironmentStep:
    """`spec()` before the sandbox starts; `prepare(emit)` in the loop, before its first check."""

    environment: Environment | None
    found: Entry | None = None  # the cached environment, when there is one
    sandbox: object | None = None  # the run's sandbox, started by prepare() when the environment had to be built

    @property
    def ready(self) -> bool:
        return self.environment is None or self.found is not None

    def spec(self, spec: SandboxSpec) -> SandboxSpec:
        return self.environment.sandbox_spec(spec, self.found) if self.environment and self.found else spec

    async def prepare(self, emit: Callable[[Event], None], workspace=None) -> None:
        """`workspace` (the run's): gets the extension modules the build compiled (environments/outputs.py)."""
        env = self.environment
        if env is None:
            return
        recipe = env.recipe
        emit(EnvDetected(recipe.kind, recipe.describe(), recipe.inputs, env.backend, env.key(), self.found is not None,
                         recipe.notes))
        if self.found is not None:
            emit(EnvReady(env.key(), self.found.name, True, 0.0, round(self.found.size_bytes / 1e6, 1)))
        else:
            self.found = await env.build(emit)
            if self.sandbox is not None:
                self.sandbox.spec = env.sandbox_spec(self.sandbox.spec, self.found)
                await self.sandbox.start()
        if workspace is not None:
            await asyncio.to_thread(outputs.place, env.outputs(), workspace.path, workspace.ignore, workspace.owner)

    def outdated(self, files) -> Event | None:
        """The agent changed files the environment was built from: say so; nothing is rebuilt with network."""
        if self.environment is None:
            return None
        touched = tuple(f for f in files if f in self.environment.recipe.inputs)
        if not touched:
            return None
        return EnvOutdated(touched, f"the agent changed {', '.join(touched)}; the environment still holds what it was "
                                    "built from (a rebuild reaches the network, so only you start it: resume to go "
                                    "on with it, or stop, deploy and run `tui-agent env build`)")


def recipe_for(settings: Settings, project: Path, backend: str) -> Recipe | None:
    return detect(project, settings.env, settings.setup, backend, trusted=settings.project_trusted,
                  check=settings.check)


async def for_run(settings: Settings, project: Path, backend: str, limits: Limits,
                  engine: Engine | None = None, to_build: bool = True) -> EnvironmentStep:
    """Detect (bad input raises ConfigError: exit 2) and look in the cache of the run's own engine (`engine`, else
    the backend's default: DOCKER_HOST's Docker, the local Podman service); nothing is built here."""
    recipe = recipe_for(settings, project, backend)
    if recipe is None:
        return EnvironmentStep(None)
    env = Environment(project, recipe, backend, Path(settings.env_root), limits, settings.image, engine=engine)
    check_root(env)
    found = await asyncio.to_thread(env.find)
    if found is None and to_build and (problem := env.remote_problem()):
        raise ConfigError(problem)  # before the sandbox starts: one line, exit 2
    return EnvironmentStep(env, found)


def check_root(env: Environment) -> None:
    """bwrap binds the environment as the sandbox user: its folder must be reachable by that user."""
    if env.backend != "bwrap" or os.geteuid() != 0:
        return
    from tui_agent.sandbox.bwrap.setup import reachable

    root = env.root
    while not root.exists():
        root = root.parent
    if not reachable(root, env.limits.uid, env.limits.gid):
        raise ConfigError(f"env_root {env.root} is not reachable by the sandbox user (uid {env.limits.uid}): "
                          "choose a folder whose parents are world-searchable (e.g. /var/cache/tui-agent/envs)")
