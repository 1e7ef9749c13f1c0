"""Engine variants for sandbox tests: Podman, a remote engine (the private dockerd over TLS), gVisor on each."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tui_agent.sandbox.docker.engine import PODMAN_ULIMITS, RUNTIME_FLAGS, Engine

IMAGE = "tui-agent-sandbox:latest"
_gvisor: dict[str, str | None] = {}


def gvisor_reason(kind: str, docker_url: str | None = None) -> str | None:
    """Why gVisor cannot run a container here (None when it can): tried once per engine, with `true`."""
    key = docker_url or kind
    if key not in _gvisor:
        if shutil.which("runsc") is None:
            _gvisor[key] = "runsc (gVisor) is not installed (Debian: apt-get install runsc)"
        else:
            flags = [a for f in RUNTIME_FLAGS["runsc"] for a in ("--runtime-flag", f)]
            limits = [a for n, v in PODMAN_ULIMITS for a in ("--ulimit", f"{n}={v}:{v}")]
            argv = (["podman", "--runtime", "runsc", *flags, "run", *limits] if kind == "podman"
                    else ["docker", "-H", docker_url, "run", "--runtime", "runsc"])
            done = subprocess.run([*argv, "--rm", "--network", "none", IMAGE, "true"], capture_output=True,
                                  text=True, timeout=120)
            said = (done.stderr.strip().splitlines() or ["?"])[-1][:200]
            _gvisor[key] = None if done.returncode == 0 else f"runsc cannot run a container here: {said}"
    return _gvisor[key]


def variant(request, name: str) -> tuple[str, Engine | None, str | None]:
    """(backend, engine, runtime) of a variant; gVisor variants skip, with the reason, where runsc cannot run."""
    if name in ("docker", "bwrap", "podman"):
        return name, None, None
    if name == "remote":
        return "docker", request.getfixturevalue("private_engine").engine, None
    if name == "podman+runsc":
        reason = gvisor_reason("podman")
        if reason:
            pytest.skip(f"gVisor on podman: {reason}")
        return "podman", None, "runsc"
    if name == "docker+runsc":  # the private engine registers runsc; reached on its unix socket (bind mounts)
        private = request.getfixturevalue("private_engine")
        reason = gvisor_reason("docker", private.local_url)
        if reason:
            pytest.skip(f"gVisor on docker: {reason}")
        return "docker", Engine(url=private.local_url, name="private-local"), "runsc"
    raise ValueError(name)
