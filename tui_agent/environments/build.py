"""A project's environment on one backend: its cache key, its state, and its build (network through the proxy only)."""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import os
import secrets
import shlex
import shutil
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from tui_agent.config import ConfigError
from tui_agent.environments import bwrap_store, docker_store, indexes, outputs
from tui_agent.environments.detect import Recipe
from tui_agent.environments.docker_store import BuildError, Entry
from tui_agent.environments.proxy import IndexProxy
from tui_agent.environments.buildlog import Log
from tui_agent.environments.script import RUN, SOCKET, build_env, check_env, script
from tui_agent.events import EnvFailed, EnvReady, Event
from tui_agent.sandbox.base import Limits, SandboxSpec
from tui_agent.sandbox.docker.engine import Engine, from_env, local_podman
from tui_agent.workspace.gitignore import DEFAULT_IGNORE, Ignore, RuleSet
from tui_agent.workspace.safefs import copy_project, remove

RECIPE_VERSION = "1"  # bump when the build script changes what an environment contains


class EnvironmentFailed(ConfigError):
    """The environment could not be built: one line naming the step and where the full log is."""


def uv_binary() -> Path:
    try:
        import uv

        found = uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
    if not found:
        raise ConfigError("uv is needed to build project environments and is not installed: pip install uv")
    return Path(os.path.realpath(found))


def staged_uv(root: Path) -> Path:
    """A copy of uv where the sandbox user can read it (the installed one may sit in a private home)."""
    source = uv_binary()
    st = source.stat()
    target = root / "tools" / f"uv-{st.st_size}-{st.st_mtime_ns}"
    if not target.exists():
        _mkdir(target.parent)
        partial = target.with_name(target.name + f".{secrets.token_hex(4)}")
        shutil.copyfile(source, partial)
        os.chmod(partial, 0o755)
        os.replace(partial, target)
    return target


def _mkdir(path: Path, owner: tuple[int, int] | None = None, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if owner and os.geteuid() == 0:
        os.chown(path, *owner)
    return path


@dataclass
class Environment:
    """One project's environment as `backend` builds it; `sandbox_spec()` puts it into a check's sandbox."""

    project: Path
    recipe: Recipe
    backend: str  # docker | podman | bwrap
    root: Path
    limits: Limits  # of the checks: the build takes their uid and larger caps
    image: str  # the sandbox image the environment is built on
    indexes: indexes.Indexes | None = None
    engine: Engine | None = None  # docker, podman: the run's engine, where the image is built and kept
    _key: str | None = None

    def __post_init__(self) -> None:
        self.indexes = self.indexes or indexes.read()
        if self.containers and self.engine is None:
            self.engine = local_podman() if self.backend == "podman" else from_env()

    @property
    def containers(self) -> bool:
        """An image per environment on a container engine (Docker or Podman), not a bwrap prefix."""
        return self.backend != "bwrap"

    @property
    def log_path(self) -> Path:
        return self.root / "logs" / f"{self.key()}.log"

    def base_identity(self) -> str:
        if self.containers:
            base = self.recipe.image or self.image
            return docker_store.image_id(base, self.engine)
        python = Path(os.path.realpath("/usr/bin/python3"))
        st = python.stat() if python.exists() else None
        return f"{python}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}"

    def key(self) -> str:
        """The hash of everything the environment is made of; unchanged inputs find it again."""
        if self._key is None:
            digest = hashlib.sha256()
            inputs = {}
            for rel in self.recipe.inputs:
                path = self.project / rel
                inputs[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            uv = uv_binary().stat()
            digest.update(json.dumps({
                "version": RECIPE_VERSION, "backend": self.backend, "recipe": _keyed(self.recipe),
                "inputs": inputs, "base": self.base_identity(), "indexes": self.indexes.summary(),
                "uv": [uv.st_size, uv.st_mtime_ns], "uid": [self.limits.uid, self.limits.gid],
            }, sort_keys=True, default=list).encode())
            self._key = digest.hexdigest()[:24]
        return self._key

    def outputs(self) -> Path:
        """Where the build keeps the extension modules it compiled into its copy of the project (outputs.py)."""
        return self.root / "outputs" / self.key()

    def find(self) -> Entry | None:
        if self.containers:
            return docker_store.find(self.key(), self.engine)
        return bwrap_store.find(self.root, self.key())

    def sandbox_spec(self, spec: SandboxSpec, built: Entry) -> SandboxSpec:
        env = tuple((check_env() | dict(self.recipe.env)).items())
        if self.containers:
            return replace(spec, image=built.name, env=spec.env + env)
        return replace(spec, env=spec.env + env, binds=spec.binds + ((built.name, "/opt/tui-agent/env", "ro"),))

    def build_limits(self) -> Limits:
        lim = self.limits
        return replace(lim, timeout_s=max(lim.timeout_s, 900.0), memory_mb=max(lim.memory_mb, 2048),
                       pids=max(lim.pids, 1024), cpus=max(lim.cpus, 2.0), tmpfs_mb=max(lim.tmpfs_mb, 1024),
                       workspace_mb=max(lim.workspace_mb, 4096), output_bytes=max(lim.output_bytes, 64_000_000))

    def remote_problem(self) -> str | None:
        """Why this environment cannot be built where the run's sandboxes are (None: it can)."""
        if self.engine is None or not self.engine.ships:
            return None
        return (f"the {self.recipe.kind} environment cannot be built on {self.engine.label}: an environment build "
                "bind-mounts its sources and the index proxy, which a remote engine cannot see; build it on a local "
                "engine and copy the image over, or run on a local sandbox")

    async def build(self, emit: Callable[[Event], None]) -> Entry:
        """Build it now (the caller looked in the cache): live log as events, EnvReady or EnvFailed at the end."""
        if problem := self.remote_problem():
            raise EnvironmentFailed(problem)
        started = time.monotonic()
        key = await asyncio.to_thread(self.key)
        _mkdir(self.root)
        _mkdir(self.root / "logs", mode=0o700)
        work = _mkdir(self.root / "builds" / f"{key}-{secrets.token_hex(4)}")
        owner = (self.limits.uid, self.limits.gid)
        log = Log(self.log_path, emit)
        proxy = IndexProxy(self.indexes.allowed, self.indexes.ca, log.line)
        try:
            source = _mkdir(work / "project", owner)
            await asyncio.to_thread(_copy, self.project, source, owner)
            cache = _mkdir(work / "cache", owner)
            sock_dir = _mkdir(work / "proxy", mode=0o750 if os.geteuid() == 0 else 0o700)
            await proxy.start(sock_dir / "proxy.sock")
            os.chmod(sock_dir / "proxy.sock", 0o660)
            for path in (sock_dir, sock_dir / "proxy.sock"):  # the sandbox user reaches it through its group
                if os.geteuid() == 0:
                    os.chown(path, 0, owner[1])
            binds = [(str(staged_uv(self.root)), f"{RUN}/bin/uv", "ro"), (str(sock_dir), os.path.dirname(SOCKET), "ro"),
                     (str(cache), f"{RUN}/cache", "rw")]
            binds += [(str(p), str(p), "ro") for p in self.indexes.binds if p.exists()]
            if self.indexes.ca:
                binds.append((str(self.indexes.ca), indexes.INSIDE_CA, "ro"))
            exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in
                              build_env(self.recipe, self.indexes.sandbox_env()).items())
            text = exports + script(self.recipe)
            where = self.engine.label if self.engine else self.backend
            log.line(f"[tui-agent] building the {self.recipe.kind} environment {key} on {where}")
            built = await self._run(key, work, source, binds, text, log)
            await asyncio.to_thread(outputs.save, source, self.project, self.outputs())
        except Exception as exc:  # the build's own failure, or the engine's or the file system's along the way
            step = getattr(exc, "step", "") or log.step
            if not isinstance(exc, BuildError):
                exc = BuildError(step, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
            message = (f"the environment build failed at step {step!r} ({exc}"
                       f"{': ' + log.last if log.last else ''}); full log: {self.log_path}")
            if step == "python" and self.recipe.python:
                message = (f"the project needs Python {self.recipe.python} ({self.recipe.python_from}) and the "
                           f"sandbox has {log.python or 'no such interpreter'}: build on an image that has it (a "
                           "devcontainer.json `image`, or a Dockerfile in the `env` setting; Docker only), "
                           f"or change {self.recipe.python_from}; full log: {self.log_path}")
            log.line(f"[tui-agent] {message}")
            log.close()
            emit(EnvFailed(step, message, str(self.log_path)))
            raise EnvironmentFailed(message) from None
        finally:
            await proxy.close()
            await asyncio.to_thread(discard, work)
        log.line(f"[tui-agent] environment ready: {built.name} ({built.size_bytes / 1e6:.1f} MB)")
        log.close()
        emit(EnvReady(key, built.name, False, round(time.monotonic() - started, 3), round(built.size_bytes / 1e6, 1)))
        return built

    async def _run(self, key: str, work: Path, source: Path, binds: list, text: str, log: Log) -> Entry:
        limits = self.build_limits()
        project = str(self.project)
        if self.backend == "bwrap":
            prefix = _mkdir(work / "prefix", (self.limits.uid, self.limits.gid))
            return await bwrap_store.build(self.root, key, project, source, prefix, text, binds, limits,
                                           lambda _stream, chunk: log.text(chunk))
        base = self.recipe.image or self.image
        if self.recipe.dockerfile:
            log.step_started("dockerfile")
            context = source / (self.recipe.context or ".")
            dockerfile = os.path.relpath(source / self.recipe.dockerfile, context)
            base = await asyncio.to_thread(docker_store.build_base, context, dockerfile,
                                           f"{docker_store.REPOSITORY}-base:{key}", log.threadsafe_line(), self.engine)
        binds = [(str(source), "/workspace", "rw"), *binds]
        cancelled = threading.Event()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        feed = log.threadsafe_text()
        try:
            return await asyncio.to_thread(docker_store.build, base, key, project, text, binds, limits,
                                           lambda chunk: feed(decoder.decode(chunk)), cancelled, self.engine)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finally:
            if self.recipe.dockerfile:
                await asyncio.to_thread(docker_store.untag, f"{docker_store.REPOSITORY}-base:{key}", self.engine)


def _keyed(recipe: Recipe) -> dict:
    """The recipe as the key sees it: notes never, build variables only when there are any (older keys hold)."""
    fields = recipe.__dict__ | {"notes": ()}
    if not recipe.build_vars:
        del fields["build_vars"]
    return fields


def _copy(project: Path, dest: Path, owner: tuple[int, int]) -> None:
    """The person's folder as it is now (ignored files left out), writable by the sandbox user, for the build."""
    ignore = Ignore().push("", RuleSet.parse(DEFAULT_IGNORE))
    copy_project(project, dest, ignore, frozenset(), lambda data, sha: None, owner if os.geteuid() == 0 else None)


def discard(work: Path) -> None:
    try:
        remove(work)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
