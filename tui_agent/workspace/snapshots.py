"""Content-addressed snapshots of a folder: lstat manifests with a stat cache, git-style diffs, exact restores."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import stat
import time
from pathlib import Path

from tui_agent.workspace.gitignore import Ignore
from tui_agent.workspace.safefs import O_READ, remove, scan, write_file

# (mode, sha256 hex or "" for dirs/special files, size, mtime_ns or -1 when racy, ctime_ns, ino)
Entry = tuple
Manifest = dict  # relative path -> Entry

RACY_NS = 50_000_000  # a file modified this close to a scan is re-read next time (coarse fs timestamps)
CHUNK = 1 << 20  # files are hashed and stored a chunk at a time (a 2 GB file costs 1 MB of memory)
ZEROS = bytes(CHUNK)
_INCOMING = itertools.count()


def _hash(f) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


class ObjectStore:
    """Blobs named by their sha256 under one folder; storing the same content twice costs nothing."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._dirs: set[str] = set()

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:]

    def put(self, data: bytes, sha: str | None = None) -> str:
        sha = sha or hashlib.sha256(data).hexdigest()
        sub = sha[:2]
        if sub not in self._dirs:
            (self.root / sub).mkdir(exist_ok=True)
            self._dirs.add(sub)
        dest = self.path(sha)
        if not dest.exists():
            tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, dest)
        return sha

    def put_file(self, f) -> str:
        """Store what `f` reads from here on, in chunks: memory stays small and runs of zeros stay holes."""
        digest, size = hashlib.sha256(), 0
        tmp = self.root / f"incoming.{os.getpid()}.{next(_INCOMING)}.tmp"
        with open(tmp, "wb") as out:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if len(chunk) == CHUNK and chunk == ZEROS:
                    out.seek(CHUNK, os.SEEK_CUR)
                else:
                    out.write(chunk)
            out.truncate(size)
        sha = digest.hexdigest()
        dest = self.path(sha)
        dest.parent.mkdir(exist_ok=True)
        if dest.exists():
            tmp.unlink()
        else:
            os.replace(tmp, dest)
        return sha

    def get(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def __contains__(self, sha: str) -> bool:
        return self.path(sha).exists()


def build(root: Path, ignore: Ignore | None, cache: Manifest, store: ObjectStore | None,
          specials: bool = False, skip: frozenset[str] = frozenset()) -> Manifest:
    """The manifest of `root` now; only entries whose lstat differs from `cache` are read and hashed."""
    t0 = time.time_ns()
    racy_after = t0 - RACY_NS
    out: Manifest = {}
    base = str(root)
    for rel, st in scan(root, ignore, skip).items():
        mode = st.st_mode
        c = cache.get(rel)
        if (c is not None and c[0] == mode and c[3] == st.st_mtime_ns and c[2] == st.st_size
                and c[4] == st.st_ctime_ns and c[5] == st.st_ino):
            sha = c[1]
        elif stat.S_ISREG(mode):
            try:
                fd = os.open(os.path.join(base, rel), O_READ)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as f:
                fst = os.fstat(fd)
                if fst.st_ino != st.st_ino or fst.st_dev != st.st_dev:
                    continue  # swapped since the scan (e.g. a parent became a symlink): never read through it
                sha = store.put_file(f) if store is not None else _hash(f)
        elif stat.S_ISLNK(mode):
            try:
                data = os.fsencode(os.readlink(os.path.join(base, rel)))
            except OSError:
                continue
            sha = hashlib.sha256(data).hexdigest()
            if store is not None:
                store.put(data, sha)
        elif stat.S_ISDIR(mode) or specials:
            sha = ""
        else:
            continue
        mtime = st.st_mtime_ns if st.st_mtime_ns < racy_after else -1
        out[rel] = (mode, sha, st.st_size, mtime, st.st_ctime_ns, st.st_ino)
    return out


def manifest_id(files: Manifest) -> str:
    """Content id of a manifest: paths, modes and content hashes (stat details left out)."""
    text = "\n".join([f"{rel}\0{files[rel][0]:o}\0{files[rel][1]}" for rel in sorted(files)])
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def save(folder: Path, files: Manifest) -> str:
    """Write snapshots/<id>.json (atomically) unless it exists; return the id."""
    sid = manifest_id(files)
    dest = folder / f"{sid}.json"
    if not dest.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        text = json.dumps({"id": sid, "created": time.time(), "files": files}, separators=(",", ":"))
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)  # json.dumps uses the C encoder, json.dump does not
        os.replace(tmp, dest)
    return sid


def load(folder: Path, sid: str) -> Manifest:
    if not sid or "/" in sid or sid.startswith("."):
        raise KeyError(sid)
    try:
        with open(folder / f"{sid}.json", encoding="utf-8", errors="surrogateescape") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise KeyError(sid) from None
    return {k: tuple(v) for k, v in data["files"].items()}


def _content_kind(mode: int) -> bool:
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def changed_paths(old: Manifest, new: Manifest) -> list[str]:
    """Files and symlinks that were added, removed, or changed content or mode."""
    out = []
    for rel, b in new.items():
        a = old.get(rel)
        if a is not None and a[0] == b[0] and a[1] == b[1]:
            continue
        if _content_kind(b[0]) or (a is not None and _content_kind(a[0])):
            out.append(rel)
    for rel, a in old.items():
        if rel not in new and _content_kind(a[0]):
            out.append(rel)
    return sorted(out)


def _gitmode(mode: int) -> str:
    return "120000" if stat.S_ISLNK(mode) else f"{stat.S_IFMT(mode) | stat.S_IMODE(mode):o}"


TEXT_DIFF_LIMIT = 4 << 20  # bigger files are reported like binary ones


def _text(data: bytes) -> list[str] | None:
    if len(data) > TEXT_DIFF_LIMIT or b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _hunks(a: list[str], b: list[str]) -> list[str]:
    out = []
    for line in list(difflib.unified_diff(a, b, n=3))[2:]:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return out


def render(old: Manifest, new: Manifest, paths: list[str], read_old, read_new) -> str:
    """A git-style unified diff of `paths`; read_old/read_new(rel, entry) give the bytes."""
    out: list[str] = []
    for rel in paths:
        a, b = old.get(rel), new.get(rel)
        a = a if a is not None and _content_kind(a[0]) else None
        b = b if b is not None and _content_kind(b[0]) else None
        out.append(f"diff --git a/{rel} b/{rel}\n")
        if a is None:
            out.append(f"new file mode {_gitmode(b[0])}\n")
        elif b is None:
            out.append(f"deleted file mode {_gitmode(a[0])}\n")
        elif a[0] != b[0]:
            out.append(f"old mode {_gitmode(a[0])}\nnew mode {_gitmode(b[0])}\n")
        if a is not None and b is not None and a[1] == b[1]:
            continue
        out.append(f"index {a[1][:7] if a else '0000000'}..{b[1][:7] if b else '0000000'}\n")
        left, right = (f"a/{rel}" if a else "/dev/null"), (f"b/{rel}" if b else "/dev/null")
        if (a is not None and a[2] > TEXT_DIFF_LIMIT) or (b is not None and b[2] > TEXT_DIFF_LIMIT):
            out.append(f"Binary files {left} and {right} differ\n")
            continue  # too large to show as text: never read
        la, lb = _text(read_old(rel, a) if a else b""), _text(read_new(rel, b) if b else b"")
        if la is None or lb is None:
            out.append(f"Binary files {left} and {right} differ\n")
            continue
        out.append(f"--- {left}\n+++ {right}\n")
        out.extend(_hunks(la, lb))
    return "".join(out)


def _real_parents(root: Path, rel: str, owner: tuple[int, int] | None) -> None:
    """Make every parent of rel a real folder: a symlink or file there (even a gitignored one) is replaced."""
    path = root
    for part in rel.split("/")[:-1]:
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            continue
        if st is not None:
            os.unlink(path)
        os.mkdir(path, 0o755)
        if owner:
            os.chown(path, *owner)


def restore(root: Path, target: Manifest, ignore: Ignore | None, cache: Manifest,
            store: ObjectStore, owner: tuple[int, int] | None) -> None:
    """Make root equal to `target`: remove extras (incl. special files), rewrite changed files, fix modes."""
    current = build(root, ignore, cache, None, specials=True)
    for rel in sorted(current, reverse=True):
        cur, want = current[rel], target.get(rel)
        if want is None or stat.S_IFMT(want[0]) != stat.S_IFMT(cur[0]):
            remove(root / rel)
    for rel in sorted(target):
        want = target[rel]
        mode = want[0]
        path = root / rel
        _real_parents(root, rel, owner)
        cur = current.get(rel)
        if cur is not None and stat.S_IFMT(cur[0]) != stat.S_IFMT(mode):
            cur = None  # removed above
        if cur is None and os.path.lexists(path):  # hidden from the scan (gitignored): replace unless alike
            if stat.S_IFMT(os.lstat(path).st_mode) != stat.S_IFMT(mode) or stat.S_ISLNK(mode):
                remove(path)
        if stat.S_ISDIR(mode):
            if not os.path.lexists(path):
                os.mkdir(path, 0o700)
                if owner:
                    os.chown(path, *owner)
            if cur is None or cur[0] != mode:
                os.chmod(path, stat.S_IMODE(mode))
        elif stat.S_ISREG(mode):
            if cur is not None and cur[1] == want[1]:
                if cur[0] != mode:
                    os.chmod(path, stat.S_IMODE(mode))
                continue
            write_file(path, store.get(want[1]), stat.S_IMODE(mode), owner)
        elif stat.S_ISLNK(mode):
            if cur is not None and cur[1] == want[1]:
                continue
            remove(path)
            os.symlink(os.fsdecode(store.get(want[1])), path)
            if owner:
                os.lchown(path, *owner)
