"""Environment build of a project with about ten dependencies: cold (targets <= 30 s) and cached (<= 1 s).

The packages come from a loopback index this script serves (pytest and what it needs, repacked from this
machine's own installed copies, plus tiny generated packages), through the build's index proxy."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from env_fixtures import IndexServer, index_env, package, pytest_wheels, reachable_dir  # noqa: E402
from tui_agent.config import Settings  # noqa: E402
from tui_agent.environments.session import for_run  # noqa: E402
from tui_agent.sandbox import Limits, probe  # noqa: E402

TINY = [f"benchdep{i}" for i in range(5)]  # with pytest, iniconfig, packaging, pluggy, pygments, pip: 11


def project(root: Path) -> Path:
    folder = root / "proj"
    folder.mkdir()
    (folder / "requirements.txt").write_text("".join(f"{n}\n" for n in TINY) + "pytest\n")
    (folder / "test_it.py").write_text("def test_it():\n    assert True\n")
    os.chmod(folder, 0o755)
    return folder


async def measure(backend: str, folder: Path, root: Path, url: str) -> tuple[float, float, int]:
    os.environ.update(index_env(url))  # the host's index settings, as a person would have them
    settings = Settings(project=folder, sandbox=backend, env_root=root / "envs")
    limits = Limits(uid=1000, gid=1000) if os.geteuid() == 0 else Limits(uid=os.getuid(), gid=os.getgid())
    step = await for_run(settings, folder, backend, limits)
    assert step.environment is not None, "the bench project declares an environment"
    started = time.perf_counter()
    built = await step.environment.build(lambda event: None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = await for_run(settings, folder, backend, limits)  # what a run does before its first check
    cached = time.perf_counter() - started
    assert again.found is not None and again.found.key == built.key
    return cold, cached, built.size_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", action="append", choices=["docker", "bwrap"])
    args = parser.parse_args()
    root = reachable_dir("tui-agent-bench-env-")
    wheels = root / "wheels"
    pytest_wheels(wheels)
    for name in TINY:
        package(wheels, name)
    server = IndexServer(wheels)
    try:
        print(f"{'backend':8} {'cold build':>11} {'cached':>9} {'size':>9}   targets: cold <= 30 s, cached <= 1 s")
        for backend in args.backend or ["docker", "bwrap"]:
            if reason := probe(backend):
                print(f"{backend:8} skipped: {reason}")
                continue
            (root / backend).mkdir()
            folder = project(root / backend)
            cold, cached, size = asyncio.run(measure(backend, folder, root / backend, server.url))
            verdict = "ok" if cold <= 30 and cached <= 1 else "MISSED"
            print(f"{backend:8} {cold:10.2f}s {cached * 1000:7.0f}ms {size / 1e6:7.1f}MB   {verdict}")
            if backend == "docker":
                from tui_agent.environments import docker_store

                for entry in docker_store.entries():
                    if entry.project == str(folder):
                        docker_store.remove(entry)
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
