"""`tui-agent doctor`: each backend, gVisor, the configured hosts; whether each works and its cost per check."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from tui_agent import sandbox as sandboxes
from tui_agent.sandbox import hosts as sandbox_hosts
from tui_agent.sandbox.docker import engine as engines

GVISOR = "runsc"
COMMAND = "python3 -c pass"


async def cost_ms(backend: str, spec: sandboxes.SandboxSpec, runs: int = 3) -> float:
    """Median wall time of `python3 -c pass` in a started sandbox (one warm-up run first)."""
    box = sandboxes.create(backend, spec)
    await box.start()
    try:
        times = []
        for i in range(runs + 1):
            if hasattr(box, "ready"):
                await box.ready(10)  # a full pool, as a person waiting between checks would have
            started = time.perf_counter()
            result = await box.run(COMMAND, lambda *_: None, 30)
            if not result.ok:
                raise RuntimeError(result.error or f"exit {result.exit_code}")
            if i:
                times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000
    finally:
        await box.close()


def _line(backend: str, spec: sandboxes.SandboxSpec, measure: bool) -> tuple[bool, str]:
    reason = sandboxes.probe(backend, spec)
    if reason:
        return False, reason
    if not measure:
        return True, "ready"
    try:
        return True, f"ready, {asyncio.run(cost_ms(backend, spec)):.0f} ms per check ({COMMAND}, median of 3)"
    except Exception as exc:  # it probed fine but could not run: say so
        return False, f"probed fine but a check failed: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}"


def lines(settings, measure: bool = True) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for every backend, gVisor on docker and podman, and each configured host."""
    out = []
    with tempfile.TemporaryDirectory(prefix="tui-agent-doctor-") as tmp:
        os.chmod(tmp, 0o755)  # the sandbox user starts in it
        spec = sandboxes.SandboxSpec(Path(tmp), image=settings.image)
        for name in sandboxes.BACKENDS:
            ok, detail = _line(name, spec, measure)
            if name == "docker" and ok:
                engine = engines.from_env()
                where = "workspace shipped through the API" if engine.ships else "workspace bind-mounted"
                detail += f" ({engine.url}, {where})"
            out.append((f"sandbox {name}", ok, detail))
            if name == "bwrap" and ok:
                from tui_agent.sandbox.bwrap.setup import pytest_status

                out.append(("bwrap pytest", *pytest_status()))
        runtime = settings.sandbox_runtime or GVISOR
        ready = {what.split()[1] for what, ok, _ in out if ok}
        for name in ("docker", "podman"):
            what = f"{name} + {runtime}" + (" (gVisor)" if runtime == GVISOR else "")
            if name not in ready:
                out.append((what, False, f"needs the {name} sandbox itself (see above)"))
                continue
            out.append((what, *_line(name, replace(spec, runtime=runtime), measure)))
        try:
            hosts = sandbox_hosts.parse(settings.sandbox_hosts)
        except Exception as exc:
            return out + [("sandbox hosts", False, str(exc))]
        for host in hosts:
            host_spec = replace(spec, engine=host, runtime=host.runtime or settings.sandbox_runtime)
            how = "workspace shipped" if host.ships else "workspace bind-mounted"
            kind = f"{host.kind} + {host_spec.runtime}" if host_spec.runtime else host.kind
            ok, detail = _line(host.kind, host_spec, measure)
            out.append((f"host {host.name} ({host.url}, {kind}, {how})", ok, detail))
    return out
