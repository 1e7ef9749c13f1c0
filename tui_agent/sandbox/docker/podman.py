"""PodmanSandbox: the Docker sandbox on Podman's Docker-compatible API, with the same hardening and pool."""

from __future__ import annotations

from tui_agent.sandbox.docker import engine as engines
from tui_agent.sandbox.docker.sandbox import DockerSandbox


class PodmanSandbox(DockerSandbox):
    """Rootful Podman, or rootless where cgroup v2 delegates the limits (refused otherwise, with the reason)."""

    name = "podman"

    @staticmethod
    def default_engine(runtime: str | None = None) -> engines.Engine:
        return engines.local_podman(runtime)
