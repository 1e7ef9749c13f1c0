"""The build as one shell script with named steps, and the sandbox layout and settings it runs with."""

from __future__ import annotations

import shlex

from tui_agent.environments.detect import Recipe
from tui_agent.environments.proxy import FORWARDER, INSIDE_PORT

PREFIX = "/opt/tui-agent/env"  # the environment inside every sandbox (read-only in checks)
RUN = "/run/tui-agent"  # build-only binds: bin/uv, proxy/ (the socket), ca.crt, cache/
SOCKET = f"{RUN}/proxy/proxy.sock"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MARK = "::tui-agent-step "  # a line starting with this names the step that begins


def check_env() -> dict[str, str]:
    """What every check and run_command in the environment gets: its bin/ first on PATH."""
    return {"PATH": f"{PREFIX}/bin:{BASE_PATH}", "VIRTUAL_ENV": PREFIX}


def build_env(recipe: Recipe, index_env: dict[str, str]) -> dict[str, str]:
    proxy = f"http://127.0.0.1:{INSIDE_PORT}"
    return {
        **dict(recipe.env), **dict(recipe.build_vars), **index_env,
        "PATH": f"{PREFIX}/bin:{RUN}/bin:{BASE_PATH}", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp",
        "VIRTUAL_ENV": PREFIX, "UV_PROJECT_ENVIRONMENT": PREFIX, "UV_CACHE_DIR": f"{RUN}/cache",
        "UV_COMPILE_BYTECODE": "1", "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1",
        "PYTHONPYCACHEPREFIX": "",  # bytecode goes next to the sources, where the environment keeps it
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
        "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "http_proxy": proxy, "https_proxy": proxy, "NO_PROXY": "",
    }


def script(recipe: Recipe) -> str:
    """set -e shell: start the forwarder, create the environment, install, run the setup command."""
    python = shlex.quote(recipe.python or "python3")
    lines = [
        "set -eu",
        f"step() {{ printf '\\n{MARK}%s\\n' \"$1\"; }}",
        "step proxy",
        f"python3 -I -S -c {shlex.quote(FORWARDER)} {SOCKET} {INSIDE_PORT}",
        "step python",
        "python3 -V || true",
        f"uv venv --allow-existing --python {python} {PREFIX}",
        "step pip",  # before the install: a postCreateCommand or a setup command may well say `pip install`
        "uv pip install --compile-bytecode pip || echo 'pip is not available from the package index: "
        "the environment has no pip command (uv installed everything else)'",
    ]
    if recipe.install:
        lines += ["step install", recipe.install]
    if recipe.pytest:  # the check runs pytest: installed unless the install brought it (then a no-op)
        lines += ["step pytest", "uv pip install --compile-bytecode pytest"]
    if recipe.setup:
        lines += ["step setup", recipe.setup]
    if recipe.project_path:
        where = "/workspace" if recipe.project_path == "." else f"/workspace/{recipe.project_path}"
        site = f"$({PREFIX}/bin/python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')"
        lines += ["step project", f"echo {where} > \"{site}/tui-agent-project.pth\""]
    lines += ["step done"]
    return "\n".join(lines) + "\n"
