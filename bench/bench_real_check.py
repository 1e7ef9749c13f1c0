"""A real test suite with dependencies (a few hundred pytest tests), median of 10: sandbox / host (target <= 1.15).

The host side runs the same interpreter as the sandbox (Debian's /usr/bin/python3) with the same environment:
the packages of the sandbox's environment installed by uv into a host venv from the same loopback index."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from env_fixtures import IndexServer, index_env, package, pytest_wheels, reachable_dir  # noqa: E402
from tui_agent.config import Settings  # noqa: E402
from tui_agent.environments.build import uv_binary  # noqa: E402
from tui_agent.environments.session import for_run  # noqa: E402
from tui_agent.sandbox import Limits, SandboxSpec, create, probe  # noqa: E402

CHECK = "python -m pytest -q -p no:cacheprovider"
SUITE = '''import pytest
from packaging.version import Version
from pygments import highlight
from pygments.formatters import NullFormatter
from pygments.lexers import PythonLexer

import shop


@pytest.mark.parametrize("n", range(150))
def test_price(n):
    assert shop.price(n) == round(n * 1.2, 2)


@pytest.mark.parametrize("n", range(100))
def test_versions(n):
    assert Version(f"1.{n}") > Version("1.0") or n == 0


@pytest.mark.parametrize("n", range(50))
def test_highlight(n):
    assert "def" in highlight(f"def f{n}(): pass", PythonLexer(), NullFormatter())
'''


def project(root: Path) -> Path:
    folder = root / "proj"
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("pytest\nbenchtax\n")
    (folder / "shop.py").write_text("from benchtax import RATE\n\n\ndef price(n):\n    return round(n * RATE, 2)\n")
    (folder / "test_shop.py").write_text(SUITE)
    for path in [folder, *folder.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder


def host_venv(root: Path, url: str) -> Path:
    venv = root / "host-venv"
    env = {**os.environ, **index_env(url), "UV_CACHE_DIR": str(root / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("UV_FIND_LINKS", None)
    for argv in (["venv", "--python", "/usr/bin/python3", str(venv)],
                 ["pip", "install", "--python", str(venv / "bin/python"), "--compile-bytecode", "pytest", "benchtax"]):
        subprocess.run([str(uv_binary()), *argv], env=env, check=True, capture_output=True)
    return venv


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def on_host(venv: Path, folder: Path) -> float:
    env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"}
    started = time.perf_counter()
    done = subprocess.run(["/bin/sh", "-c", CHECK], cwd=folder, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    assert done.returncode == 0 and "300 passed" in done.stdout, done.stdout[-500:] + done.stderr[-500:]
    return took


async def beside_host(backend: str, folder: Path, root: Path, n: int, host: Callable[[], float]
                      ) -> tuple[list[float], list[float]]:
    """The check in the sandbox and on the host, interleaved run by run (a change of load hits both alike); the
    first run of each writes the project's own bytecode and is not counted."""
    limits = Limits(uid=1000, gid=1000, timeout_s=300) if os.geteuid() == 0 else Limits(uid=os.getuid(),
                                                                                        gid=os.getgid())
    settings = Settings(project=folder, sandbox=backend, env_root=root / "envs")
    step = await for_run(settings, folder, backend, limits)
    assert step.environment is not None, "the bench project declares an environment"
    if step.found is None:
        step.found = await step.environment.build(lambda event: None)
    workspace = root / f"workspace-{backend}"
    shutil.copytree(folder, workspace)
    if os.geteuid() == 0:
        for path in [workspace, *workspace.rglob("*")]:
            os.chown(path, limits.uid, limits.gid)
    sandbox = create(backend, step.spec(SandboxSpec(workspace, limits)))
    await sandbox.start()
    out: list[str] = []
    on_host_s, boxed = [], []
    try:
        for _ in range(n + 1):
            if hasattr(sandbox, "ready"):
                await sandbox.ready()  # a warm container, as between two iterations of a run
            await asyncio.sleep(0.2)  # the next sandbox is pre-started between checks (not timed)
            on_host_s.append(host())
            await asyncio.sleep(0.2)
            out.clear()
            started = time.perf_counter()
            result = await sandbox.run(CHECK, lambda stream, text: out.append(text))
            boxed.append(time.perf_counter() - started)
            assert result.exit_code == 0 and "300 passed" in "".join(out), "".join(out)[-800:]
    finally:
        await sandbox.close()
    return on_host_s[1:], boxed[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--backend", action="append", choices=["docker", "bwrap"])
    args = parser.parse_args()
    root = reachable_dir("tui-agent-bench-check-")
    wheels = root / "wheels"
    pytest_wheels(wheels)
    package(wheels, "benchtax", code="RATE = 1.2\n")
    server = IndexServer(wheels)
    os.environ.update(index_env(server.url))
    try:
        folder = project(root)
        venv = host_venv(root, server.url)
        print(f"{CHECK}: 300 tests, median of {args.n}, each backend interleaved with the host run by run;")
        print("host = Debian's /usr/bin/python3 with the same packages")
        for backend in args.backend or ["docker", "bwrap"]:
            if reason := probe(backend):
                print(f"{backend:8} skipped: {reason}")
                continue
            host, took = (median(t) for t in asyncio.run(beside_host(backend, folder, root, args.n,
                                                                      lambda: on_host(venv, folder))))
            ratio = took / host
            print(f"{backend:8} {took * 1000:8.0f} ms   host {host * 1000:6.0f} ms   {ratio:.2f}x host   "
                  f"target <= 1.15: {'ok' if ratio <= 1.15 else 'MISSED'}")
    finally:
        server.close()
        from tui_agent.environments import docker_store

        if probe("docker") is None:
            for entry in docker_store.entries():
                if entry.project == str(root / "proj"):
                    docker_store.remove(entry)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
