"""Hermetic package indexes for environment tests: wheels written here or repacked from this machine's packages,
served on a loopback port as a PEP 503 index that counts its requests."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import shutil
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

# what a test suite run with pytest needs, taken from this interpreter's own installed distributions
PYTEST_WHEELS = ("pytest", "pluggy", "iniconfig", "packaging", "pygments", "pip")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write_wheel(dest: Path, name: str, version: str, files: dict[str, bytes], requires: list[str] = (),
                extra_meta: str = "", entry_points: str = "", info: str | None = None) -> Path:
    """A pure-Python wheel with `files` (archive path -> bytes) and a correct RECORD."""
    info = info or f"{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
    stem = info[: -len(".dist-info")]
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires) + extra_meta
    contents = dict(files)
    contents[f"{info}/METADATA"] = meta.encode()
    contents[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: tui-agent-tests\nRoot-Is-Purelib: true\n"
                                 b"Tag: py3-none-any\n")
    if entry_points:
        contents[f"{info}/entry_points.txt"] = entry_points.encode()
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents.items():
            zf.writestr(path, data)
    return wheel


def wheel_of_installed(name: str, dest: Path) -> Path:
    """Repack an installed pure-Python distribution (e.g. pytest) as a wheel: no download, the same code."""
    dist = importlib.metadata.distribution(name)
    files: dict[str, bytes] = {}
    info_dir = None
    for f in dist.files or []:
        rel = str(f)
        if rel.startswith("..") or "__pycache__" in rel or rel.endswith((".pyc", "RECORD", "INSTALLER", "REQUESTED")):
            continue
        if ".dist-info/" in rel:
            info_dir = rel.split("/")[0]
            if rel.endswith(("METADATA", "WHEEL", "entry_points.txt")):
                continue
        path = Path(dist.locate_file(f))
        if path.is_file():
            files[rel] = path.read_bytes()
    meta = dist.read_text("METADATA") or ""
    head, _, _ = meta.partition("\n\n")
    requires = [line[len("Requires-Dist: "):] for line in head.splitlines() if line.startswith("Requires-Dist: ")]
    extra = "".join(line + "\n" for line in head.splitlines()
                    if line.startswith(("Requires-Python:", "Provides-Extra:")))
    assert info_dir is not None, f"{name}: no dist-info found"
    return write_wheel(dest, dist.metadata["Name"], dist.version, files, requires, extra,
                       dist.read_text("entry_points.txt") or "", info=info_dir)


def package(dest: Path, name: str, version: str = "1.0", code: str = "VALUE = 1\n", requires: list[str] = ()) -> Path:
    """A tiny importable package `name` whose __init__ holds `code`."""
    module = name.replace("-", "_")
    return write_wheel(dest, name, version, {f"{module}/__init__.py": code.encode()}, list(requires))


def pytest_wheels(dest: Path) -> list[Path]:
    return [wheel_of_installed(n, dest) for n in PYTEST_WHEELS]


class IndexServer:
    """A PEP 503 simple index of the wheels and sdists in `folder` on 127.0.0.1; `requests` lists the paths asked
    for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.requests: list[str] = []
        self.auth: list[str | None] = []  # the Authorization header of each request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:
                server.requests.append(self.path)
                server.auth.append(self.headers.get("Authorization"))
                body, kind = server.page(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wheels(self) -> dict[str, list[Path]]:
        """The distributions by project name: wheels, and sdists (*.tar.gz)."""
        found: dict[str, list[Path]] = {}
        for wheel in sorted([*self.folder.glob("*.whl"), *self.folder.glob("*.tar.gz")]):
            found.setdefault(_norm(wheel.name.split("-")[0]), []).append(wheel)
        return found

    def page(self, path: str) -> tuple[bytes | None, str]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts[:1] == ["files"] and len(parts) == 2 and (self.folder / parts[1]).is_file():
            return (self.folder / parts[1]).read_bytes(), "application/octet-stream"
        if parts[:1] == ["simple"] and len(parts) == 2:
            wheels = self.wheels().get(_norm(parts[1]))
            if not wheels:
                return None, ""
            links = "".join(f'<a href="/files/{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">'
                            f"{w.name}</a>\n" for w in wheels)
            return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode(), "text/html"
        if parts == ["simple"]:
            names = "".join(f'<a href="/simple/{n}/">{n}</a>\n' for n in self.wheels())
            return f"<html><body>{names}</body></html>".encode(), "text/html"
        return None, ""

    def installs(self) -> list[str]:
        return [p for p in self.requests if p.startswith("/files/")]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def reachable_dir(prefix: str) -> Path:
    """A folder the sandbox user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(path, 0o755)
    return path


def scratch_root(prefix: str, projects_under: Path | None = None, engines=("docker",)) -> Iterator[Path]:
    """A reachable folder (for a fixture to yield from); at the end it is removed, with the environment images built
    for projects under `projects_under` (default: the folder itself) on each of `engines` that answers."""
    root = reachable_dir(prefix)
    yield root
    shutil.rmtree(root, ignore_errors=True)
    from tui_agent.environments import docker_store
    from tui_agent.sandbox import probe
    from tui_agent.sandbox.docker.engine import local_podman

    for name in engines:
        if probe(name) is None:
            engine = local_podman() if name == "podman" else None
            for entry in docker_store.entries(engine):
                if entry.project.startswith(str(projects_under or root)):
                    docker_store.remove(entry, engine)


def index_env(url: str) -> dict[str, str]:
    """Host settings that point every build at `url` and nowhere else."""
    return {"PIP_CONFIG_FILE": os.devnull, "UV_DEFAULT_INDEX": url}


# --- test projects: each has a bug in its code that its own test suite shows ----------------------------

BUGGY = "from tinydep import double\n\n\ndef quad(x):\n    return double(x) + 1\n"
FIXED_OLD, FIXED_NEW = "return double(x) + 1", "return double(double(x))"
TEST = "from {module} import quad\n\n\ndef test_quad():\n    assert quad(2) == 8\n"
SETUPTOOLS = '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'


def index_folder(folder: Path) -> Path:
    """pytest and what it needs, setuptools (a build backend), and tinydep, the dependency the projects use."""
    pytest_wheels(folder)
    wheel_of_installed("setuptools", folder)
    wheel_of_installed("wheel", folder)
    package(folder, "tinydep", code="def double(x):\n    return 2 * x\n")
    return folder


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def project(kind: str, root: Path) -> tuple[Path, str]:
    """A project of `kind` (uv, groups, extras, requirements, devcontainer) and the file the fix edits."""
    meta = '[project]\nname = "calcpkg"\nversion = "0.1"\nrequires-python = ">=3.9"\ndependencies = ["tinydep"]\n'
    if kind in ("uv", "groups"):  # src layout, the project installed editable; a docs group that is never installed
        docs = 'docs = ["nothere"]\n'
        if kind == "uv":  # a lock resolves for every platform and Python unless told: Linux, 3.11 here
            meta, docs = meta.replace(">=3.9", ">=3.11"), '\n[tool.uv]\nenvironments = ["sys_platform == \'linux\'"]\n'
        files = {"pyproject.toml": SETUPTOOLS + meta + '\n[dependency-groups]\ntest = ["pytest"]\n' + docs,
                 "src/calcpkg/__init__.py": BUGGY, "tests/test_calc.py": TEST.format(module="calcpkg")}
        return _write(root, files), "src/calcpkg/__init__.py"
    if kind == "extras":  # flat layout, a package at the top
        files = {"pyproject.toml": SETUPTOOLS + meta + '\n[project.optional-dependencies]\ntest = ["pytest"]\n'
                 'docs = ["nothere"]\n\n[tool.setuptools]\npackages = ["calcpkg"]\n',
                 "calcpkg/__init__.py": BUGGY, "tests/test_calc.py": TEST.format(module="calcpkg")}
        return _write(root, files), "calcpkg/__init__.py"
    if kind == "requirements":  # flat layout, modules only, no packaging at all
        files = {"requirements.txt": "tinydep\n", "requirements-test.txt": "pytest\n", "calc.py": BUGGY,
                 "tests/test_calc.py": TEST.format(module="calc")}
        return _write(root, files), "calc.py"
    if kind == "devcontainer":  # Docker only: a Dockerfile FROM the sandbox image, a postCreateCommand with pip
        files = {".devcontainer/devcontainer.json": '{\n  // comments are allowed\n  "build": {"dockerfile": '
                 '"Dockerfile", "context": ".."},\n  "postCreateCommand": "pip install -r requirements.txt",\n'
                 '  "containerEnv": {"CALC_MODE": "devcontainer"},\n  "runArgs": ["--privileged"],\n}\n',
                 ".devcontainer/Dockerfile": "FROM tui-agent-sandbox:latest\nRUN echo built > /etc/calc-marker\n",
                 "requirements.txt": "tinydep\npytest\n", "calc.py": BUGGY,
                 "test_calc.py": TEST.format(module="calc") + "\n\ndef test_image():\n"
                 "    import os\n    assert open('/etc/calc-marker').read() == 'built\\n'\n"
                 "    assert os.environ['CALC_MODE'] == 'devcontainer'\n"}
        return _write(root, files), "calc.py"
    raise ValueError(kind)


def lock(folder: Path, url: str) -> None:
    """`uv lock` the project against the test's index (on the host: static metadata, no build runs)."""
    import subprocess

    import uv

    env = {**os.environ, "UV_DEFAULT_INDEX": url, "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1",
           "UV_CACHE_DIR": str(folder.parent / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("UV_FIND_LINKS", None)
    done = subprocess.run([uv.find_uv_bin(), "lock", "--python", "3.11"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
