"""Soak: 4 sessions at once, 200 iterations each (an edit and a real sandboxed check per iteration), on each
backend; RSS, open file descriptors, sandbox containers and workspace mounts at the start and at the end must
be flat (no leak) and nothing may be left after.

    python bench/soak.py [ITERATIONS] [--backends docker,bwrap]

Start: before any run exists. Warm: every run has done its first iteration (pools, imports, caches made).
End: all runs finished and closed. The RSS ratio that matters is end / warm (the start has nothing loaded).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tui_agent import config
from tui_agent.events import IterationFinished
from tui_agent.agent.gate import NOBODY
from tui_agent.runner import prepare
from tui_agent.sandbox import probe

SESSIONS = 4
CHECK = "python3 -c 'raise SystemExit(1)'"  # fails, so the loop goes on for every iteration


def figures(tag: str) -> dict:
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    with open("/proc/mounts") as mounts:
        mounted = sum(line.split()[0] == "tui-agent-ws" and tag in line for line in mounts)
    return {"rss_mb": round(rss, 1), "fds": len(os.listdir("/proc/self/fd")), "containers": containers(tag),
            "mounts": mounted}


def containers(tag: str) -> int:
    try:
        import docker

        client = docker.from_env(timeout=30)
        try:
            found = client.api.containers(all=True, filters={"label": "tui-agent=1"})
        finally:
            client.close()
    except Exception:
        return 0
    return sum(tag in (c.get("Labels") or {}).get("tui-agent.workspace", "") for c in found)


def script(folder: Path, iterations: int) -> str:
    turns = []
    for i in range(iterations):
        turns.append({"text": f"note {i}", "tool_calls": [
            {"name": "write_file", "arguments": {"path": "notes.txt", "content": f"iteration {i}\n" * 50}}]})
        turns.append({"text": "checking"})
    path = folder / "model.json"
    path.write_text(json.dumps({"turns": turns}))
    return f"scripted:{path}"


async def soak(backend: str, iterations: int, root: Path) -> dict:
    tag = str(root)
    shown: dict = {"start": figures(tag)}
    runs = []
    for n in range(SESSIONS):
        project = root / f"project{n}"
        project.mkdir()
        (project / "app.py").write_text("VALUE = 1\n")
        settings = config.load(project, check=CHECK, model=script(root / f"project{n}", iterations), sandbox=backend,
                               max_iterations=iterations, no_progress=0, session_root=root / "sessions",
                               permissions={"allow": ["write_file"]})
        runs.append(await prepare(settings, who=NOBODY))
    done = [0] * SESSIONS
    warm = asyncio.Event()

    def counter(n: int):
        def sink(event) -> None:
            if isinstance(event, IterationFinished):
                done[n] = event.iteration
                if min(done) >= 1:
                    warm.set()
        return sink

    for n, run in enumerate(runs):
        run.subscribe(counter(n))
    started = time.monotonic()
    tasks = [asyncio.ensure_future(run.execute()) for run in runs]
    await warm.wait()
    shown["warm"] = figures(tag)
    finished = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    for run in runs:
        await run.close()
    shown["end"] = figures(tag)
    shown["iterations"] = [f.iterations for f in finished]
    shown["seconds"] = round(elapsed, 1)
    return shown


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    iterations = int(args[0]) if args else 200
    backends = ["docker", "bwrap"]
    for i, a in enumerate(sys.argv):
        if a == "--backends":
            backends = sys.argv[i + 1].split(",")
    failed = False
    for backend in backends:
        if reason := probe(backend):
            print(f"{backend}: skipped ({reason})")
            continue
        with tempfile.TemporaryDirectory(prefix=f"soak-{backend}-") as tmp:
            shown = asyncio.run(soak(backend, iterations, Path(tmp)))
        start, warm, end = shown["start"], shown["warm"], shown["end"]
        print(f"{backend}: {SESSIONS} sessions x {shown['iterations']} iterations in {shown['seconds']} s")
        for key in ("rss_mb", "fds", "containers", "mounts"):
            print(f"  {key:<10} start {start[key]:>8}  warm {warm[key]:>8}  end {end[key]:>8}")
        ratio = end["rss_mb"] / warm["rss_mb"]
        print(f"  rss end/warm {ratio:.2f}; fds end-start {end['fds'] - start['fds']}; left: "
              f"{end['containers']} container(s), {end['mounts']} mount(s)")
        failed |= (ratio > 1.5 or end["fds"] > start["fds"] or end["containers"] or end["mounts"]
                   or shown["iterations"] != [iterations] * SESSIONS)
    print("FLAT, NOTHING LEFT" if not failed else "LEAK OR LEFTOVER (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
