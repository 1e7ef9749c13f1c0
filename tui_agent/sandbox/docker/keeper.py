"""In-container keeper of a shipped workspace: writes what the host sends, reports back what changed since."""

# Runs as pid 1 of a hardened container that mounts the workspace volume (never a check: no checked code runs
# beside it), as `python3 -I -S -c <this source>`; standard library only, any Python >= 3.8.
# Protocol, host -> keeper (stdin): 4-byte big-endian length, then JSON
#   {"op": "sync", "tar": n, "delete": [paths], "quiet": [paths]}, then n bytes of a tar stream: write the tar's
#   entries, delete those paths, rescan, report every entry that changed since the last sync (except the quiet
#   ones, which the host just sent) and every entry now gone. (The engine's put_archive would re-exec the
#   daemon for each call, about 100 ms; this costs a few.)
# Keeper -> host (stdout), frames of 1 tag byte + 4-byte big-endian length + payload, as the supervisor's:
#   b"J" JSON {"removed": [paths]}, then b"T" pieces of a tar stream of the changed entries, then b"X" JSON status.
# The host trusts none of it: names, types and sizes are checked and every hash is computed on the host.
import io
import json
import os
import shutil
import stat
import struct
import sys
import tarfile

ROOT = "/workspace"
O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


def _read_exact(n):
    data = b""
    while len(data) < n:
        part = os.read(0, n - len(data))
        if not part:
            os._exit(0)  # the host went away
        data += part
    return data


def _frame(tag, payload):
    data = tag + struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


class _TarOut:
    def write(self, data):
        _frame(b"T", bytes(data))
        return len(data)


def scan():
    """rel -> key, lstat only; a folder's key is its mode alone (its mtime moves with every entry in it)."""
    out, stack = {}, [("", ROOT)]
    while stack:
        rel, path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                out[child] = (st.st_mode,)
                stack.append((child, entry.path))
            else:
                out[child] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return out


def _parts(rel):
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        raise ValueError(rel)
    return parts


def _clear(fd, name, keep_dir=False):
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=fd)
    elif not keep_dir:
        shutil.rmtree(name, dir_fd=fd)


def _parent(parts, create):
    """An fd of ROOT/parts[:-1]; with create, whatever is in the way of a folder is replaced by one."""
    fd = os.open(ROOT, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            if create:
                _clear(fd, part, keep_dir=True)
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def delete(rel):
    """Remove ROOT/rel without following any symlink on the way."""
    parts = _parts(rel)
    fd = _parent(parts, create=False)
    try:
        _clear(fd, parts[-1])
    finally:
        os.close(fd)


def write(info, data):
    """One entry of the host's tar, written beneath ROOT (no symlink on the way is followed)."""
    parts = _parts(info.name)
    fd, name = _parent(parts, create=True), parts[-1]
    try:
        if info.isdir():
            _clear(fd, name, keep_dir=True)
            try:
                os.mkdir(name, 0o755, dir_fd=fd)
            except FileExistsError:
                pass
            os.chmod(name, info.mode & 0o777, dir_fd=fd)
        elif info.issym():
            _clear(fd, name)
            os.symlink(info.linkname, name, dir_fd=fd)
        elif info.isreg():
            tmp = "." + name[:200] + ".keeper-tmp"
            _clear(fd, tmp)
            out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(out, view):]
                os.fchmod(out, info.mode & 0o777)
                os.utime(out, ns=(int(info.mtime * 1e9),) * 2)
            finally:
                os.close(out)
            _clear(fd, name)
            os.rename(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        os.close(fd)


def send(tar, rel, key):
    info = tarfile.TarInfo(rel)
    info.mode = stat.S_IMODE(key[0])
    path = f"{ROOT}/{rel}"
    if stat.S_ISDIR(key[0]):
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif stat.S_ISLNK(key[0]):
        info.type, info.linkname, info.mtime = tarfile.SYMTYPE, os.readlink(path), key[2] / 1e9
        tar.addfile(info)
    elif stat.S_ISREG(key[0]):
        fd = os.open(path, O_READ)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_ino != key[4]:
                raise OSError("changed while sending")
            data = f.read()  # whole, then sent: a file that changes meanwhile cannot break the stream
            info.size, info.mtime = len(data), st.st_mtime_ns / 1e9
            tar.addfile(info, io.BytesIO(data))


def sync(base, request, data):
    if data:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for info in tar:
                write(info, tar.extractfile(info).read() if info.isreg() else b"")
    for rel in request.get("delete", []):
        try:
            delete(rel)
        except (OSError, ValueError):
            pass
    quiet = set(request.get("quiet", []))
    now = scan()
    removed = sorted(rel for rel in base if rel not in now)
    changed = sorted(rel for rel, key in now.items() if base.get(rel) != key and rel not in quiet)
    _frame(b"J", json.dumps({"removed": removed}).encode())
    sent = 0
    with tarfile.open(fileobj=_TarOut(), mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel in changed:
            try:
                send(tar, rel, now[rel])
                sent += 1
            except OSError:
                now.pop(rel, None)  # unreadable now: reported again at the next sync
    _frame(b"X", json.dumps({"ok": True, "sent": sent}).encode())
    return now


def main():
    base = {}
    while True:
        length = struct.unpack(">I", _read_exact(4))[0]
        request = json.loads(_read_exact(length).decode())
        if request.get("op") == "sync":
            data = _read_exact(int(request.get("tar", 0)))
            try:
                base = sync(base, request, data)
            except (OSError, ValueError, tarfile.TarError) as exc:  # e.g. the volume is full: the host says so
                _frame(b"X", json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}).encode())
        else:
            _frame(b"X", json.dumps({"ok": False, "error": "unknown op"}).encode())


if __name__ == "__main__":
    sys.exit(main())
