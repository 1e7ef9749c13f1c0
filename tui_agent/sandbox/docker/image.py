"""Build the sandbox image, from the Dockerfile (needs a registry) or offline with debootstrap."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from tui_agent.sandbox.base import SandboxUnavailable

DEFAULT_IMAGE = "tui-agent-sandbox:latest"
DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DOCKERFILE = Path(__file__).with_name("Dockerfile")
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# `python`, `python3`, `pytest` and venv resolve in the image: `python -m pytest -q` runs on a project without deps;
# and a C compiler with the Python headers: a project (or a dependency without a wheel) with a C extension builds
PACKAGES = ("python3", "python-is-python3", "python3-pytest", "python3-venv", "gcc", "libc6-dev", "python3-dev")
CHANGES = (f"ENV PATH={PATH_ENV}", "ENV LANG=C.UTF-8", "ENV HOME=/tmp", "WORKDIR /workspace", 'CMD ["python3"]')
PREPARE_VERSION = "1"  # bump when _prepare_rootfs changes what the image holds
LABEL = "tui-agent.recipe"  # the hash of the recipe an image was built from: another value means it is stale


class ImageBuildError(SandboxUnavailable):
    """Building the sandbox image failed; the message says why and what to try."""


def _client(timeout: int = 600):
    from tui_agent.sandbox.docker.engine import from_env  # the SDK is imported late: the doctor works without it

    return from_env().client(timeout=timeout)  # DOCKER_HOST over TLS too, whatever REQUESTS_CA_BUNDLE says


def engine_url() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def engine_problem() -> str | None:
    """None when a Docker engine answers, else a one-line reason with what to do."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return "the docker SDK is not installed: pip install docker"
    try:
        client = _client(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # docker.errors.DockerException, requests errors, PermissionError...
        hint = "start dockerd (e.g. `dockerd --bridge=none --iptables=false &`, or scripts/bootstrap.sh)"
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return f"no Docker engine answers at {engine_url()} ({detail}): {hint}"
    return None


def image_exists(name: str = DEFAULT_IMAGE) -> bool:
    import docker

    try:
        client = _client(timeout=10)
        try:
            client.images.get(name)
        finally:
            client.close()
        return True
    except docker.errors.ImageNotFound:
        return False


def recipe(offline: bool, suite: str = DEFAULT_SUITE) -> str:
    """The label value of an image built now (offline: suite, packages, changes; else the Dockerfile)."""
    if offline:
        text = json.dumps([suite, PACKAGES, CHANGES, PREPARE_VERSION])
    else:
        text = DOCKERFILE.read_text()
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def image_label(name: str = DEFAULT_IMAGE) -> str | None:
    """The image's recipe label ("" when it has none), or None when the image is missing."""
    import docker

    try:
        client = _client(timeout=10)
        try:
            labels = client.images.get(name).attrs.get("Config", {}).get("Labels") or {}
        finally:
            client.close()
    except docker.errors.ImageNotFound:
        return None
    return labels.get(LABEL, "")


def state_of(label: str | None) -> str:
    """missing | stale | current, for an image carrying `label` (None: no image)."""
    if label is None:
        return "missing"
    return "current" if label in (recipe(True), recipe(False)) else "stale"


def image_state(name: str = DEFAULT_IMAGE) -> str:
    return state_of(image_label(name))


def debian_mirror() -> str:
    """The Debian mirror apt uses on this host (sources.list or deb822 .sources), else deb.debian.org."""
    if os.environ.get("TUI_AGENT_DEBIAN_MIRROR"):
        return os.environ["TUI_AGENT_DEBIAN_MIRROR"]
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in files:
        if not path.is_file() or not (path.suffix in (".list", ".sources") or path.name == "sources.list"):
            continue
        for url in re.findall(r"(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+)", path.read_text(), re.M):
            if url.rstrip("/").endswith("/debian"):
                return url.rstrip("/")
    return DEFAULT_MIRROR


def _run(argv: list[str], on_line: Callable[[str], None], **kwargs) -> None:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-5:]
        on_line(line.rstrip())
    if proc.wait() != 0:
        raise ImageBuildError(f"{argv[0]} failed (exit {proc.returncode}): {' | '.join(tail)[-300:]}")


def _prepare_rootfs(root: Path) -> None:
    """Add the unprivileged sandbox user, /workspace, and drop caches the image does not need."""
    with open(root / "etc/passwd", "a") as f:
        f.write("sandbox:x:1000:1000:tui-agent sandbox:/tmp:/bin/sh\n")
    with open(root / "etc/group", "a") as f:
        f.write("sandbox:x:1000:\n")
    (root / "workspace").mkdir(exist_ok=True)
    os.chown(root / "workspace", 1000, 1000)
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"):
        target = root / junk
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


def build_offline(name: str, on_line: Callable[[str], None], suite: str = DEFAULT_SUITE) -> None:
    """debootstrap a minimal Debian with python3, then `docker import` it (no registry needed)."""
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is missing: apt-get install -y debootstrap")
    if shutil.which("docker") is None:
        raise ImageBuildError("the docker CLI is missing: apt-get install -y docker.io")
    if os.geteuid() != 0:
        raise ImageBuildError("an offline build runs debootstrap and needs root: "
                              "sudo tui-agent sandbox build --offline")
    mirror = debian_mirror()
    on_line(f"debootstrap {suite} from {mirror} (about a minute)")
    with tempfile.TemporaryDirectory(prefix="tui-agent-rootfs-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", suite, str(root), mirror],
             on_line)
        _prepare_rootfs(root)
        on_line(f"importing {root} as {name}")
        changes = [*CHANGES, f"LABEL {LABEL}={recipe(True, suite)}"]
        argv = ["docker", "import", *[a for c in changes for a in ("--change", c)], "-", name]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        try:
            _run(argv, on_line, stdin=tar.stdout)
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            if tar.wait() != 0:
                raise ImageBuildError(f"tar of the root filesystem failed (exit {tar.returncode})")


def build_from_dockerfile(name: str, on_line: Callable[[str], None]) -> None:
    """Build from tui_agent/sandbox/Dockerfile (python:3.12-slim); needs access to a registry."""
    client = _client()
    try:
        with open(DOCKERFILE, "rb") as dockerfile:
            for item in client.api.build(fileobj=dockerfile, tag=name, rm=True, forcerm=True, decode=True,
                                         labels={LABEL: recipe(False)}):
                if "error" in item:
                    raise ImageBuildError(f"docker build failed: {item['error'].strip()} "
                                          "(no registry? try `tui-agent sandbox build --offline`)")
                text = item.get("stream") or item.get("status")
                if text and text.strip():
                    on_line(text.rstrip())
    finally:
        client.close()


def build_image(offline: bool, name: str = DEFAULT_IMAGE, on_line: Callable[[str], None] = print,
                force: bool = False) -> None:
    """Build the sandbox image `name` unless it is already there (or `force`); raise ImageBuildError."""
    problem = engine_problem()
    if problem:
        raise ImageBuildError(problem)
    state = image_state(name)
    if not force and state == "current":
        on_line(f"image {name} is already there and current (use --force to rebuild)")
        return
    if state == "stale":
        on_line(f"image {name} is stale (built from an older recipe): rebuilding it")
    (build_offline if offline else build_from_dockerfile)(name, on_line)
    if not image_exists(name):
        raise ImageBuildError(f"the build finished but image {name} is missing")
    on_line(f"image {name} is ready")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui_agent.sandbox.docker.image", description=__doc__)
    parser.add_argument("--offline", action="store_true", help="debootstrap + docker import (no registry)")
    parser.add_argument("--name", default=DEFAULT_IMAGE)
    parser.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    parser.add_argument("--doctor", action="store_true", help="only report the Docker sandbox status")
    parser.add_argument("--state", action="store_true",
                        help="print current, stale or missing for the image in Docker and in Podman, and exit")
    args = parser.parse_args(argv)
    if args.state:
        from tui_agent.sandbox.docker.image_doctor import podman_state

        print(f"docker {image_state(args.name)}")
        if shutil.which("podman"):
            print(f"podman {podman_state(args.name)}")
        return 0
    if args.doctor:
        from tui_agent.sandbox.docker.image_doctor import doctor_lines

        lines = doctor_lines(args.name)
        for what, ok, detail in lines:
            print(f"[{'ok' if ok else '!!'}] {what}: {detail}")
        return 0 if all(ok for _, ok, _ in lines) else 1
    try:
        build_image(args.offline, args.name, force=args.force)
    except ImageBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
