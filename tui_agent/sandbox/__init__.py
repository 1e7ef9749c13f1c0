"""Sandbox backends by name: `create("docker", spec)`, `probe(name)` and the default choice."""

from __future__ import annotations

import importlib

from tui_agent.sandbox.base import Limits, RunResult, Sandbox, SandboxSpec, SandboxUnavailable

# name -> "module:Class"; each class takes a SandboxSpec and has a static probe(spec) -> str | None
BACKENDS = {
    "docker": "tui_agent.sandbox.docker.sandbox:DockerSandbox",
    "podman": "tui_agent.sandbox.docker.podman:PodmanSandbox",
    "bwrap": "tui_agent.sandbox.bwrap.sandbox:BwrapSandbox",
}
AUTO_ORDER = ("docker", "podman", "bwrap")  # containers first: the seed's rule

__all__ = ["BACKENDS", "Limits", "RunResult", "Sandbox", "SandboxSpec", "SandboxUnavailable", "backend_class",
           "create", "probe", "default_backend"]


def backend_class(name: str) -> type:
    if name not in BACKENDS:
        raise SandboxUnavailable(f"unknown sandbox {name!r} (choose from {', '.join(BACKENDS)})")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def probe(name: str, spec: SandboxSpec | None = None) -> str | None:
    """None when backend `name` can run here, else a one-line reason with what to do about it."""
    try:
        return backend_class(name).probe(spec)
    except SandboxUnavailable as exc:
        return str(exc)
    except ImportError as exc:  # a backend still missing its module
        return f"{name} backend is not installed ({exc})"


def default_backend(spec: SandboxSpec | None = None) -> str:
    """docker when an engine answers and the image is there, else podman, else bwrap; raise when none works."""
    reasons = []
    for name in AUTO_ORDER:
        if spec is not None and spec.runtime and name == "bwrap":
            continue  # a runtime was asked for (e.g. gVisor): never fall back to a sandbox without it
        reason = probe(name, spec)
        if reason is None:
            return name
        reasons.append(f"{name}: {reason}")
    raise SandboxUnavailable("no sandbox available (" + "; ".join(reasons) + "); run `tui-agent doctor`")


def create(name: str, spec: SandboxSpec) -> Sandbox:
    return backend_class(name)(spec)
