"""Apply what came back from a sandbox (a tar stream and a list of removals) to a local folder, trusting none of it."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tarfile
from pathlib import Path

from tui_agent.workspace.safefs import O_DIR, PERM, open_dir

MAX_ENTRIES = 200_000
MAX_NAME = 4096


class UnsafeTar(ValueError):
    """The stream broke a rule (a name leading outside, too much data, a malformed tar); nothing more is applied."""


def clean_name(name: str) -> str:
    """A relative '/'-joined path inside the folder, or UnsafeTar."""
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    parts = name.split("/")
    if (not name or len(name) > MAX_NAME or "\0" in name or name.startswith("/")
            or any(p in ("", ".", "..") or len(p.encode(errors="surrogateescape")) > 255 for p in parts)):
        raise UnsafeTar(f"refused a path from the sandbox: {name[:200]!r}")
    return name


def _parent(root_fd: int, rel: str, owner: tuple[int, int] | None) -> tuple[int, str]:
    """An fd of rel's parent folder (made if missing, symlinks refused at every step) and rel's last part."""
    parts = rel.split("/")
    return open_dir(root_fd, parts[:-1], create=0o755, owner=owner), parts[-1]


def _clear(dfd: int, name: str, keep_dir: bool = False) -> None:
    """Remove whatever is at name in dfd (never following a symlink), unless it is a folder and keep_dir."""
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if not keep_dir:
            shutil.rmtree(name, dir_fd=dfd)
    else:
        os.unlink(name, dir_fd=dfd)


def _write(dfd: int, name: str, data: bytes, info: tarfile.TarInfo, owner: tuple[int, int] | None) -> None:
    tmp = f".{name[:200]}.tui-agent-tmp"
    _clear(dfd, tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(data)
        os.fchmod(fd, info.mode & PERM)
        if owner:
            os.fchown(fd, *owner)
        mtime = int(info.mtime * 1e9)
        os.utime(fd, ns=(mtime, mtime))
    finally:
        os.close(fd)
    _clear(dfd, name)
    os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)


def _apply_one(root_fd: int, rel: str, info: tarfile.TarInfo, data: bytes, owner: tuple[int, int] | None) -> None:
    dfd, name = _parent(root_fd, rel, owner)
    try:
        if info.isdir():
            _clear(dfd, name, keep_dir=True)
            try:
                os.mkdir(name, 0o700, dir_fd=dfd)
            except FileExistsError:
                pass
            fd = os.open(name, O_DIR, dir_fd=dfd)
            try:
                os.fchmod(fd, info.mode & PERM)
                if owner:
                    os.fchown(fd, *owner)
            finally:
                os.close(fd)
        elif info.issym():
            _clear(dfd, name)
            os.symlink(info.linkname, name, dir_fd=dfd)
            if owner:
                os.chown(name, *owner, dir_fd=dfd, follow_symlinks=False)
        else:
            _write(dfd, name, data, info, owner)
    finally:
        os.close(dfd)


def remove(root: Path, rel: str) -> None:
    """Remove root/rel if it is there; a symlink on the way means it is not (nothing is followed)."""
    rfd = os.open(root, O_DIR)
    try:
        parts = clean_name(rel).split("/")
        try:
            dfd = open_dir(rfd, parts[:-1])
        except OSError:
            return
        try:
            _clear(dfd, parts[-1])
        finally:
            os.close(dfd)
    finally:
        os.close(rfd)


def apply(root: Path, data: bytes, limit_bytes: int, owner: tuple[int, int] | None,
          skip=lambda rel, mode, sha: False) -> dict[str, tuple[int, str]]:
    """Write the folders, regular files and symlinks of the tar `data` beneath root; other kinds are left out.

    Returns {rel: (mode, sha256 computed here)} of every entry applied; `skip(rel, mode, sha)` True leaves an
    entry unwritten (already there). Raises UnsafeTar or OSError; what was written before stays written."""
    applied: dict[str, tuple[int, str]] = {}
    total = 0
    rfd = os.open(root, O_DIR)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for count, info in enumerate(tar):
                if count >= MAX_ENTRIES:
                    raise UnsafeTar(f"more than {MAX_ENTRIES} entries came back from the sandbox")
                rel = clean_name(info.name)
                if not (info.isdir() or info.isreg() or info.issym()):
                    continue  # devices, fifos and hard links never leave the sandbox
                total += max(info.size, 0) if info.isreg() else 0
                if total > limit_bytes:
                    raise UnsafeTar(f"more than {limit_bytes >> 20} MB came back from the sandbox")
                content = tar.extractfile(info).read() if info.isreg() else b""
                if info.isreg():
                    mode, sha = stat.S_IFREG | (info.mode & PERM), hashlib.sha256(content).hexdigest()
                elif info.issym():
                    mode, sha = stat.S_IFLNK | 0o777, hashlib.sha256(os.fsencode(info.linkname)).hexdigest()
                else:
                    mode, sha = stat.S_IFDIR | (info.mode & PERM), ""
                if not skip(rel, mode, sha):
                    _apply_one(rfd, rel, info, content, owner)
                applied[rel] = (mode, sha)
    except tarfile.TarError as exc:
        raise UnsafeTar(f"a malformed tar stream came back from the sandbox ({exc})") from None
    finally:
        os.close(rfd)
    return applied
