"""Whether an engine can run our sandboxes: it answers, it enforces limits, it has the runtime and the image."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from tui_agent.sandbox.docker.engine import Engine, plaintext_problem, runtime_dir, socket_listens, unix_path

LIMIT_CONTROLLERS = ("memory", "pids", "cpu")
ROOTLESS_V1 = ("rootless Podman on a cgroup v1 machine silently ignores memory, pids and CPU limits: run Podman "
               "as root, or use a cgroup v2 machine that delegates the memory, pids and cpu controllers")


def _one_line(exc: BaseException) -> str:
    """The gist of a connection error (the SDK's are long): '[Errno 111] Connection refused', else the first line."""
    text = str(exc).strip()
    errno_text = re.findall(r"\[Errno -?\d+\] [^'\")]+", text)
    if errno_text:
        return errno_text[-1].strip()
    lines = text.splitlines()
    return f"{type(exc).__name__}: {lines[0][:160]}" if lines else type(exc).__name__


def start_service(engine: Engine, wait_s: float = 15.0) -> str | None:
    """Start the local Podman service of `engine` if its socket is silent; None once it answers, else why not."""
    if not engine.service or socket_listens(engine.url):
        return None
    if shutil.which("podman") is None:
        return "podman is not installed (Debian: apt-get install podman)"
    if engine.runtime and shutil.which(engine.runtime) is None:
        return f"{engine.runtime} is not installed (Debian: apt-get install {engine.runtime})"
    sock = Path(unix_path(engine.url) or "")
    sock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = runtime_dir() / f"{sock.stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(log, "ab") as out:  # setsid -f: the service outlives us and exits by itself when idle (--time)
        subprocess.run(["setsid", "-f", *engine.service], stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                       check=False)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if socket_listens(engine.url) and engine.answers():
            return None
        time.sleep(0.1)
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    return f"`{' '.join(engine.service)}` did not answer within {wait_s:.0f} s{': ' + tail[0][:200] if tail else ''}"


def podman_facts(client) -> dict:
    """Podman's own view (rootless, cgroup version, delegated controllers, OCI runtime) from its libpod API."""
    reply = client.api.get(f"{client.api.base_url}/v4.0.0/libpod/info", timeout=10)
    reply.raise_for_status()
    host = reply.json()["host"]
    return {"rootless": bool(host.get("security", {}).get("rootless")), "cgroup": str(host.get("cgroupVersion")),
            "controllers": list(host.get("cgroupControllers") or []),
            "runtime": (host.get("ociRuntime") or {}).get("name", ""), "version": client.version().get("Version")}


def limits_problem(facts: dict) -> str | None:
    """Rootful Podman enforces limits; rootless only on cgroup v2 with the controllers delegated to the user."""
    if not facts["rootless"]:
        return None
    if facts["cgroup"] != "v2":
        return ROOTLESS_V1
    missing = [c for c in LIMIT_CONTROLLERS if c not in facts["controllers"]]
    if missing:
        return (f"rootless Podman here lacks the delegated cgroup controller(s) {', '.join(missing)}, so its limits "
                "would be silently ignored: delegate them (systemd: Delegate=memory pids cpu) or run Podman as root")
    return None


def image_hint(engine: Engine, image: str) -> str:
    if engine.kind == "podman":
        return f"image {image} is missing in Podman: `docker save {image} | podman load`"
    if engine.ships:
        flags = f" --tlsverify --tlscacert {engine.tls}/ca.pem --tlscert {engine.tls}/cert.pem --tlskey " \
                f"{engine.tls}/key.pem" if engine.tls else ""
        return f"image {image} is missing on {engine.url}: `docker save {image} | docker -H {engine.url}{flags} load`"
    return f"image {image} missing: run `tui-agent sandbox build --offline`"


def problem(engine: Engine, image: str, runtime: str | None = None) -> str | None:
    """None when sandboxes can run on `engine` with `image` (under `runtime`), else a one-line reason and fix."""
    try:
        import docker
    except ImportError:
        return "the docker SDK is not installed: pip install docker"
    reason = plaintext_problem(engine) or start_service(engine)
    if reason:
        return reason
    try:
        client = engine.client(timeout=5)
    except Exception as exc:
        if engine.kind == "podman":
            hint = f"start it: `podman system service --time=0 {engine.url}`"
        elif engine.url.startswith("unix://"):
            hint = "start dockerd (e.g. `dockerd --bridge=none --iptables=false &`, or scripts/bootstrap.sh)"
        else:
            hint = "is that engine running, and reachable from here?"
        what = "Podman service" if engine.kind == "podman" else "Docker engine"
        return f"no {what} answers at {engine.url} ({_one_line(exc)}): {hint}"
    try:
        if engine.kind == "podman":
            facts = podman_facts(client)
            if reason := limits_problem(facts):
                return reason
            if runtime and facts["runtime"] != runtime:
                return (f"{engine.label} runs containers under {facts['runtime']}, not {runtime}: start a service "
                        f"with `podman --runtime {runtime} system service` for it")
        elif runtime:
            known = client.info().get("Runtimes") or {}
            if runtime not in known:
                return (f"{runtime} is not registered with {engine.label}: add {{\"runtimes\": {{\"{runtime}\": "
                        f"{{\"path\": \"/usr/bin/{runtime}\", \"runtimeArgs\": [\"--network=none\"]}}}}}} to its "
                        "daemon.json and reload it (kill -HUP)")
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            return image_hint(engine, image)
    except Exception as exc:
        return f"{engine.label} failed a query ({_one_line(exc)})"
    finally:
        client.close()
    return None
