"""The supervisor the host provides: supervisor.c built static once into a content-addressed cache, and its request.

Containers start it from a read-only mount (a bind of its cache folder, or a volume on a remote engine) as their
entrypoint, so nothing of an image (its python3, ENTRYPOINT, ENV, LD_PRELOAD, /etc/ld.so.preload) takes part
in framing the output and the exit code. `python -m tui_agent.sandbox.docker.host_supervisor` builds it (bootstrap).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tui_agent.sandbox.base import SandboxUnavailable

SOURCE = Path(__file__).with_name("supervisor.c")
FLAGS = ["-static", "-O2", "-s", "-Wall"]
INSIDE_DIR = "/.tui-agent-supervisor"  # where containers see it (read-only)
NAME = "tui-agent-supervisor"
INSIDE = f"{INSIDE_DIR}/{NAME}"
_lock = threading.Lock()


@dataclass(frozen=True)
class Binary:
    folder: Path  # holds only NAME; bound read-only at INSIDE_DIR
    digest: str  # sha256 of the binary: its content address

    @property
    def path(self) -> Path:
        return self.folder / NAME


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tui-agent" / "supervisor"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _recipe_key() -> str:
    return _sha256(SOURCE.read_bytes() + " ".join(FLAGS).encode() + os.uname().machine.encode())[:24]


_built: dict[Path, Binary] = {}


def ensure(root: Path | None = None) -> Binary:
    """The built supervisor (built now if missing: gcc and a static libc); SandboxUnavailable if it cannot be."""
    root = root or cache_root()
    with _lock:
        if root in _built:
            return _built[root]
        binary = _find(root) or _build(root)
        _built[root] = binary
        return binary


def _find(root: Path) -> Binary | None:
    """A cached build of this source whose folder name is the hash of its content (anything else is ignored)."""
    try:
        digest = (root / f"{_recipe_key()}.digest").read_text().strip()
    except OSError:
        return None
    return _find_in(root / digest, digest) if digest else None


def _find_in(folder: Path, digest: str) -> Binary | None:
    try:
        if _sha256((folder / NAME).read_bytes()) == digest and os.listdir(folder) == [NAME]:
            return Binary(folder, digest)
    except OSError:
        pass
    return None


def _build(root: Path) -> Binary:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if not compiler:
        raise SandboxUnavailable("the sandbox supervisor needs a C compiler once: apt-get install gcc libc6-dev "
                                 "(or run scripts/bootstrap.sh)")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".build-") as tmp:
        out = Path(tmp) / NAME
        done = subprocess.run([compiler, *FLAGS, "-o", str(out), str(SOURCE)], capture_output=True, text=True)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise SandboxUnavailable(f"cannot build the sandbox supervisor ({why}): apt-get install gcc libc6-dev")
        digest = _sha256(out.read_bytes())
        folder = root / digest
        if folder.exists() and _find_in(folder, digest) is None:  # tampered with: replaced, never used
            folder.chmod(0o755)
            shutil.rmtree(folder)
        if not folder.exists():
            staged = Path(tmp) / "folder"
            staged.mkdir()
            out.rename(staged / NAME)
            (staged / NAME).chmod(0o555)
            staged.chmod(0o555)
            try:
                staged.rename(folder)
            except OSError:  # another process put the same content there first
                pass
    pointer = root / f"{_recipe_key()}.digest"
    pointer.with_suffix(".tmp").write_text(digest + "\n")
    pointer.with_suffix(".tmp").replace(pointer)
    found = _find(root)
    if found is None:
        raise SandboxUnavailable(f"the sandbox supervisor in {root} does not match its content address")
    return found


def request(command: str, env: dict[str, str], cap: int) -> bytes:
    """What the host writes to the supervisor's stdin: the output cap, the child's whole environment, the command."""
    body = struct.pack(">QI", cap, len(env)) + b"".join(f"{k}={v}".encode() + b"\0" for k, v in env.items())
    body += command.encode()
    return struct.pack(">I", len(body)) + body


def main() -> int:
    try:
        binary = ensure()
    except SandboxUnavailable as exc:
        print(f"tui-agent: {exc}", file=sys.stderr)
        return 2
    print(binary.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
