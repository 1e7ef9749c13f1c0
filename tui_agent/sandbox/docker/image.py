"""Build the sandbox image, from the Dockerfile (needs a registry) or offline with debootstrap."""

from __future__ import annotations

import argparse
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
        _run(["debootstrap", "--variant=minbase", "--include=python3", suite, str(root), mirror], on_line)
        _prepare_rootfs(root)
        on_line(f"importing {root} as {name}")
        changes = [f"ENV PATH={PATH_ENV}", "ENV LANG=C.UTF-8", "ENV HOME=/tmp", "WORKDIR /workspace",
                   'CMD ["python3"]']
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
            for item in client.api.build(fileobj=dockerfile, tag=name, rm=True, forcerm=True, decode=True):
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
    if not force and image_exists(name):
        on_line(f"image {name} is already there (use --force to rebuild)")
        return
    (build_offline if offline else build_from_dockerfile)(name, on_line)
    if not image_exists(name):
        raise ImageBuildError(f"the build finished but image {name} is missing")
    on_line(f"image {name} is ready")


def doctor_lines(name: str = DEFAULT_IMAGE) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) lines about the Docker sandbox, for `tui-agent doctor`."""
    lines: list[tuple[str, bool, str]] = []
    problem = engine_problem()
    if problem:
        lines.append(("docker engine", False, problem))
    else:
        client = _client(timeout=5)
        try:
            version = client.version().get("Version", "?")
        finally:
            client.close()
        lines.append(("docker engine", True, f"Docker {version} answers at {engine_url()}"))
        if image_exists(name):
            lines.append(("sandbox image", True, f"{name} is present"))
        else:
            lines.append(("sandbox image", False,
                          f"{name} missing: run `tui-agent sandbox build --offline` (or without --offline "
                          "when a registry is reachable)"))
    tool = shutil.which("debootstrap")
    lines.append(("debootstrap", tool is not None,
                  tool or "missing (needed for offline image builds): apt-get install -y debootstrap"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui_agent.sandbox.docker.image", description=__doc__)
    parser.add_argument("--offline", action="store_true", help="debootstrap + docker import (no registry)")
    parser.add_argument("--name", default=DEFAULT_IMAGE)
    parser.add_argument("--force", action="store_true", help="rebuild even if the image exists")
    parser.add_argument("--doctor", action="store_true", help="only report the Docker sandbox status")
    args = parser.parse_args(argv)
    if args.doctor:
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
