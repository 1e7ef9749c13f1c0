"""Per-check overhead of each engine against local Docker (runc), in one run: a remote engine (a private dockerd
over loopback TLS, the workspace shipped), Podman, and gVisor (runsc) on Docker and on Podman; for each,
`python3 -c pass` and a check right after a one-file edit (which the incremental shipping must keep cheap).
Variants are measured round-robin, one check each per round, so that a change of load hits them alike."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from private_engine import PrivateEngine, usable_reason  # noqa: E402
from tui_agent.sandbox import Limits, SandboxSpec, create, probe  # noqa: E402
from tui_agent.sandbox.docker.engine import Engine  # noqa: E402

COMMAND = "python3 -c pass"
EDITED = "python3 -c 'import app'"  # the edited module is imported: its new content must be there


def project(folder: Path, files: int) -> None:
    """A small project: `files` modules of ~2 KB and app.py, owned by the sandbox user."""
    folder.mkdir()
    for i in range(files):
        (folder / f"mod{i}.py").write_text(f"VALUE_{i} = {i}\n" + "# padding\n" * 200)
    (folder / "app.py").write_text("X = 0\n")
    for path in [folder, *folder.iterdir()]:
        os.chown(path, 1000, 1000)


async def measure(boxes: dict, rounds: int, edit: bool) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in boxes}
    for k in range(rounds + 1):  # round 0 warms up
        for name, (box, workspace) in boxes.items():
            # every pool full and every teardown done (not timed): the checks of one engine do not pay for
            # another's background work, and each finds a warm container as between two checks of the loop
            await asyncio.gather(*(other.ready(30) for other, _ in boxes.values()))
            if edit:
                (workspace / "app.py").write_text(f"X = {k}\n")
            started = time.perf_counter()
            result = await box.run(EDITED if edit else COMMAND, lambda *_: None, 60)
            if k:
                times[name].append(time.perf_counter() - started)
            assert result.exit_code == 0, (name, result)
    return times


async def run(args, private: PrivateEngine | None, tmp: Path) -> None:
    Variant = tuple[str, Engine | None, str | None]
    variants: dict[str, Variant] = {"docker (local, runc)": ("docker", None, None),
                                    "podman (runc)": ("podman", None, None),
                                    "podman + runsc (gVisor)": ("podman", None, "runsc")}
    if private is not None:
        variants["docker remote (TLS, shipped)"] = ("docker", private.engine, None)
        variants["docker + runsc (gVisor)"] = ("docker", Engine(url=private.local_url), "runsc")
    boxes = {}
    for i, (name, (backend, engine, runtime)) in enumerate(variants.items()):
        workspace = tmp / f"ws{i}"
        project(workspace, args.files)
        spec = SandboxSpec(workspace, Limits(timeout_s=60), engine=engine, runtime=runtime)
        reason = probe(backend, spec)
        if reason:
            print(f"{name}: skipped ({reason})")
            continue
        box = create(backend, spec)
        await box.start()
        boxes[name] = (box, workspace)
    try:
        plain = await measure(boxes, args.n, edit=False)
        edited = await measure(boxes, args.n, edit=True)
    finally:
        for box, _ in boxes.values():
            await box.close()
    base = statistics.median(plain["docker (local, runc)"]) if "docker (local, runc)" in plain else None
    print(f"per check, median of {args.n} rounds; project of {args.files + 1} files; ratio against local docker:")
    print(f"  {'engine':<30} {'python3 -c pass':>16} {'ratio':>6} {'after a 1-file edit':>20} {'ratio':>6}")
    for name in boxes:
        a, b = statistics.median(plain[name]) * 1000, statistics.median(edited[name]) * 1000
        ra = f"{a / (base * 1000):.2f}x" if base else "-"
        rb = f"{b / (base * 1000):.2f}x" if base else "-"
        print(f"  {name:<30} {a:13.1f} ms {ra:>6} {b:17.1f} ms {rb:>6}")
    remote = "docker remote (TLS, shipped)"
    if remote in plain:
        a, b = statistics.median(plain[remote]), statistics.median(edited[remote])
        print(f"remote: a check after a one-file edit costs {b / a:.2f}x a check without one "
              f"(+{(b - a) * 1000:.1f} ms: the edit shipped, the changes brought back)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=15, help="rounds per measurement (default 15)")
    parser.add_argument("--files", type=int, default=50, help="modules in the test project (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engines-bench-") as tmp:
        reason, private = usable_reason(), None
        if reason:
            print(f"remote and docker+runsc: skipped ({reason})")
        else:
            private = PrivateEngine(Path(tmp) / "engine", name="bench-remote")
            private.start()
            private.load_image()
        try:
            asyncio.run(run(args, private, Path(tmp)))
        finally:
            if private is not None:
                private.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
