"""Sandbox latency: medians of `python3 -c pass` on the host, docker run, docker exec, our pool, bwrap."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_agent.sandbox import Limits, SandboxSpec, create, probe  # noqa: E402
from tui_agent.sandbox.docker import ours  # noqa: E402
from tui_agent.sandbox.docker import pool as docker_pool  # noqa: E402

COMMAND = "python3 -c pass"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_host(n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(["/bin/sh", "-c", COMMAND], check=True, env=docker_pool.ENV)  # the sandboxes' PATH
        times.append(time.perf_counter() - t)
    return times


def _hardened(spec: SandboxSpec, command: list[str]) -> dict:
    config = docker_pool.container_config(spec)
    config.update(entrypoint=command, command=[], stdin_open=False, labels={ours.LABEL: "1",
                                                              ours.OWNER_LABEL: ours.owner_id()})
    return config


def bench_docker_cold(client, spec: SandboxSpec, n: int) -> list[float]:
    """create + start + wait for exit, same hardening (removal is left off the clock: favours docker run)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        container = client.containers.create(**_hardened(spec, ["/bin/sh", "-c", COMMAND]))
        container.start()
        assert container.wait()["StatusCode"] == 0
        times.append(time.perf_counter() - t)
        container.remove(force=True)
    return times


def bench_docker_exec(client, spec: SandboxSpec, n: int) -> list[float]:
    container = client.containers.create(**_hardened(spec, ["sleep", "infinity"]))
    container.start()
    try:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            code, _ = container.exec_run(["/bin/sh", "-c", COMMAND], workdir="/workspace")
            times.append(time.perf_counter() - t)
            assert code == 0
        return times
    finally:
        container.remove(force=True)


async def bench_beside_host(name: str, spec: SandboxSpec, n: int) -> tuple[list[float], list[float]]:
    """A backend and the bare host, interleaved run by run so that a change of load hits both alike."""
    sandbox = create(name, spec)
    await sandbox.start()
    host, boxed = [], []
    try:
        for _ in range(n):
            if hasattr(sandbox, "ready"):
                await sandbox.ready()  # a warm pool, as between two checks of the loop (not timed)
            await asyncio.sleep(0.05)  # the next sandbox is pre-started between checks (not timed)
            host += bench_host(1)
            await asyncio.sleep(0.05)
            t = time.perf_counter()
            result = await sandbox.run(COMMAND, lambda *_: None)
            boxed.append(time.perf_counter() - t)
            assert result.exit_code == 0, result
        return host, boxed
    finally:
        await sandbox.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="runs per measurement (default 20)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    n = args.n
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="tui-agent-bench-") as tmp:
        workspace = Path(tmp)
        os.chown(workspace, 1000, 1000)
        spec = SandboxSpec(workspace, Limits(timeout_s=30))
        results["host"] = median_ms(bench_host(n))
        reason = probe("docker", spec)
        if reason is None:
            import docker

            client = docker.from_env(timeout=60)
            results["docker run (cold)"] = median_ms(bench_docker_cold(client, spec, n))
            results["docker exec (warm)"] = median_ms(bench_docker_exec(client, spec, n))
            client.close()
            host, boxed = asyncio.run(bench_beside_host("docker", spec, n))
            results["host (beside docker)"] = median_ms(host)
            results["DockerSandbox (pooled)"] = median_ms(boxed)
        else:
            print(f"docker: skipped ({reason})")
        reason = probe("bwrap", spec)
        if reason is None:
            host, boxed = asyncio.run(bench_beside_host("bwrap", spec, n))
            results["host (beside bwrap)"] = median_ms(host)
            results["BwrapSandbox"] = median_ms(boxed)
        else:
            print(f"bwrap: skipped ({reason})")
    print(f"`{COMMAND}`, median of {n} runs each (each sandbox interleaved with the host, run by run):")
    for label, ms in results.items():
        print(f"  {label:<24} {ms:8.1f} ms")
    checks = []
    pooled, cold = results.get("DockerSandbox (pooled)"), results.get("docker run (cold)")
    if pooled:
        ratio = pooled / results["host (beside docker)"]
        checks.append((f"pooled docker within 1.3x of the host: {ratio:.2f}x", ratio <= 1.3))
    if pooled and cold:
        checks.append((f"pooled docker at least 3x faster than docker run: {cold / pooled:.1f}x", cold >= 3 * pooled))
    if "BwrapSandbox" in results:
        extra = results["BwrapSandbox"] - results["host (beside bwrap)"]
        checks.append((f"bwrap within 5 ms of the host: {extra:+.1f} ms", extra <= 5))
    for text, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")
    return 1 if args.strict and not all(ok for _, ok in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
