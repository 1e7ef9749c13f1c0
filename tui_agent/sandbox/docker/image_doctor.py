"""The sandbox image's state for `tui-agent doctor` and bootstrap: present, current (its recipe label), in Podman."""

from __future__ import annotations

import json
import shutil
import subprocess

from tui_agent.sandbox.docker.image import (
    DEFAULT_IMAGE, LABEL, _client, engine_problem, engine_url, image_state, state_of,
)


def podman_label(name: str = DEFAULT_IMAGE) -> str | None:
    """The recipe label of the image in Podman's storage; None when Podman lacks it or is not installed."""
    if shutil.which("podman") is None:
        return None
    try:
        done = subprocess.run(["podman", "image", "inspect", "--format", "{{json .Labels}}", name],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return (json.loads(done.stdout.strip() or "null") or {}).get(LABEL, "")
    except ValueError:
        return ""


def podman_state(name: str = DEFAULT_IMAGE) -> str:
    """current | stale | missing for Podman's copy; "" when Podman is not installed."""
    if shutil.which("podman") is None:
        return ""
    return state_of(podman_label(name))


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
        state = image_state(name)
        fix = "`tui-agent sandbox build --offline` (or without --offline when a registry is reachable)"
        if state == "current":
            lines.append(("sandbox image", True, f"{name} is present and current"))
        elif state == "stale":
            lines.append(("sandbox image", False, f"{name} is stale (built from an older recipe: it may lack "
                                                  f"python, pytest or venv): rebuild it with {fix}"))
        else:
            lines.append(("sandbox image", False, f"{name} missing: run {fix}"))
        podman = podman_state(name)
        if podman in ("stale", "missing"):
            lines.append(("podman image", False, f"{name} in Podman's storage is {podman}: copy it there with "
                                                 f"`docker save {name} | podman load` (or scripts/bootstrap.sh)"))
        elif podman == "current":
            lines.append(("podman image", True, f"{name} in Podman's storage is current"))
    tool = shutil.which("debootstrap")
    lines.append(("debootstrap", tool is not None,
                  tool or "missing (needed for offline image builds): apt-get install -y debootstrap"))
    return lines
