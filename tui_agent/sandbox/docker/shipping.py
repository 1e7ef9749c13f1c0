"""A workspace shipped to a remote engine: a tmpfs volume there, kept equal to the local folder around each run."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import tarfile
import time
import uuid
from pathlib import Path

from tui_agent.sandbox.base import SandboxSpec
from tui_agent.sandbox.docker import host_supervisor, supervisor_volume
from tui_agent.sandbox.docker import ours
from tui_agent.sandbox.docker import pool as docker_pool
from tui_agent.sandbox.docker import untrusted_tar
from tui_agent.sandbox.docker.engine import machine_id
from tui_agent.sandbox.docker.frames import Frames
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE
from tui_agent.workspace.safefs import O_DIR, PERM, open_dir, read_regular

KEEPER_SOURCE = Path(__file__).with_name("keeper.py").read_text()
ROLE_LABEL = "tui-agent.role"
RACY_NS = 50_000_000  # an entry modified this close to a scan is hashed again next time (coarse timestamps)
IO_TIMEOUT_S = 120.0

Entry = tuple  # (mode, sha256 hex; "" for a folder)


class ShippingFailed(RuntimeError):
    """The workspace could not be shipped or brought back; the message says why in one line."""


def _walk(root: Path) -> dict[str, os.stat_result]:
    """lstat every entry beneath root (folders included, nothing skipped, no symlink followed)."""
    out: dict[str, os.stat_result] = {}
    stack = [("", str(root))]
    while stack:
        rel, path = stack.pop()
        for entry in os.scandir(path):
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            out[child] = st
            if stat.S_ISDIR(st.st_mode):
                stack.append((child, entry.path))
    return out


def _readlink(root: Path, rel: str) -> str:
    parts = rel.split("/")
    rfd = os.open(root, O_DIR)
    try:
        dfd = open_dir(rfd, parts[:-1])
    finally:
        os.close(rfd)
    try:
        return os.readlink(parts[-1], dir_fd=dfd)
    finally:
        os.close(dfd)


class ShippedWorkspace:
    """The remote copy of spec.workspace: a tmpfs-backed volume, a keeper container beside it, and what it holds."""

    def __init__(self, client, spec: SandboxSpec, where: str):
        self.client, self.spec, self.where = client, spec, where
        self.root = Path(spec.workspace)
        self.volume = f"tui-agent-ws-{uuid.uuid4().hex[:16]}"
        self.shipped: dict[str, Entry] = {}  # what the volume holds, as far as this side knows (hashed here)
        self._cache: dict[str, tuple] = {}  # rel -> (lstat key, Entry) of the local folder
        self._stats: dict[str, os.stat_result] = {}
        self._keeper = None
        self.supervisor = ""  # the supervisor's volume on that engine
        st = os.lstat(self.root)
        self.owner = (st.st_uid, st.st_gid) if os.geteuid() == 0 else None
        lim = spec.limits
        self.limit_bytes = lim.workspace_mb << 20
        self.stream_cap = self.limit_bytes + (self.limit_bytes >> 2) + (8 << 20)  # tar headers and padding

    def adapt(self, config: dict) -> dict:
        """A container config that mounts the volume at /workspace instead of a host folder, and the supervisor's
        volume (start() made it) instead of its cache folder."""
        return {**config, "volumes": {self.volume: {"bind": "/workspace", "mode": "rw"},
                                      self.supervisor: {"bind": host_supervisor.INSIDE_DIR, "mode": "ro"}}}

    # --- lifecycle (blocking: call in a thread) ----------------------------------------------

    def start(self, adapt) -> None:
        """Make the volume and its keeper, then ship the whole folder."""
        lim = self.spec.limits
        labels = {ours.LABEL: "1", ours.OWNER_LABEL: ours.owner_id(),
                  ours.CLIENT_LABEL: machine_id()}
        self._remove_leftover_volumes()
        options = f"size={lim.workspace_mb}m,uid={lim.uid},gid={lim.gid},mode=0755,nosuid,nodev"
        self.client.volumes.create(self.volume, driver="local", labels=labels,
                                   driver_opts={"type": "tmpfs", "device": "tmpfs", "o": options})
        self.supervisor = supervisor_volume.ensure(self.client, host_supervisor.ensure())
        config = adapt(docker_pool.container_config(self.spec))
        # the keeper runs on the sandbox image, never on a project's environment image (its python3 is theirs)
        config.update(image=DEFAULT_IMAGE, entrypoint=["python3", "-I", "-S", "-c", KEEPER_SOURCE], command=[],
                      labels={**config["labels"], ROLE_LABEL: "keeper"})
        container = self.client.containers.create(**config)
        ours.remember(self.client, container.id)
        stream = self.client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                                     "stream": 1})
        container.start()
        sock = getattr(stream, "_sock", stream)
        sock.settimeout(IO_TIMEOUT_S)
        self._keeper = (container, stream, sock)
        self.push()

    def close(self) -> None:
        if self._keeper is not None:
            container, stream, sock = self._keeper
            self._keeper = None
            for closer in (sock.close, stream.close):
                try:
                    closer()
                except Exception:
                    pass
            ours.remove_quietly(self.client, container.id)
        try:
            self.client.api.remove_volume(self.volume, force=True)
        except Exception:
            pass

    def _remove_leftover_volumes(self) -> None:
        """Volumes of crashed runs from this machine (their containers went first, at remove_leftovers)."""
        here = machine_id()
        for volume in self.client.api.volumes(filters={"label": f"{ours.LABEL}=1"}).get("Volumes") or []:
            labels = volume.get("Labels") or {}
            if labels.get(ours.CLIENT_LABEL) == here and not ours.owner_alive(
                    labels.get(ours.OWNER_LABEL, "")):
                try:
                    self.client.api.remove_volume(volume["Name"])
                except Exception:
                    pass

    # --- around each run --------------------------------------------------------------------

    def _local(self) -> tuple[dict[str, Entry], dict[str, bytes]]:
        """The local folder now ({rel: Entry}) and the contents read to hash it (only entries that changed)."""
        racy_after = time.time_ns() - RACY_NS
        now, fresh, cache = {}, {}, {}
        self._stats = _walk(self.root)
        for rel, st in self._stats.items():
            key = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            hit = self._cache.get(rel)
            if hit is not None and hit[0] == key:
                entry = hit[1]
            elif stat.S_ISDIR(st.st_mode):
                entry = (stat.S_IFDIR | (st.st_mode & PERM), "")
            elif stat.S_ISLNK(st.st_mode):
                target = _readlink(self.root, rel)
                fresh[rel] = os.fsencode(target)
                entry = (stat.S_IFLNK | 0o777, hashlib.sha256(fresh[rel]).hexdigest())
            elif stat.S_ISREG(st.st_mode):
                fresh[rel], _ = read_regular(self.root, rel)
                entry = (stat.S_IFREG | (st.st_mode & PERM), hashlib.sha256(fresh[rel]).hexdigest())
            else:
                continue  # devices and fifos are not shipped
            now[rel] = entry
            if st.st_mtime_ns < racy_after:
                cache[rel] = (key, entry)
        self._cache = cache
        return now, fresh

    def _tar(self, now: dict[str, Entry], fresh: dict[str, bytes], paths: list[str]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel in paths:
                mode = now[rel][0]
                info = tarfile.TarInfo(rel)
                info.mode, info.mtime = mode & PERM, time.time()
                if stat.S_ISDIR(mode):
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif stat.S_ISLNK(mode):
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.fsdecode(fresh[rel]) if rel in fresh else _readlink(self.root, rel)
                    tar.addfile(info)
                else:
                    data = fresh[rel] if rel in fresh else read_regular(self.root, rel)[0]
                    info.size, info.mtime = len(data), self._stats[rel].st_mtime
                    tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    def push(self) -> list[str]:
        """Ship what changed locally since the last sync (the keeper writes it); return the paths sent."""
        now, fresh = self._local()
        changed = sorted(rel for rel, entry in now.items() if self.shipped.get(rel) != entry)
        gone = sorted(rel for rel in self.shipped if rel not in now)
        gone = [rel for rel in gone if rel.rpartition("/")[0] not in gone]  # a removed folder takes its entries
        if not changed and not gone:
            return []
        if sum(len(fresh.get(rel, b"")) for rel in changed) > self.limit_bytes:
            raise ShippingFailed(f"the workspace is larger than its {self.limit_bytes >> 20} MB cap")
        self._sync(delete=gone, quiet=changed, tar=self._tar(now, fresh, changed) if changed else b"")
        for rel in changed:
            self.shipped[rel] = now[rel]
        return changed

    def pull(self) -> list[str]:
        """Bring back what changed in the volume since the last sync (after a run: its container is gone)."""
        return self._sync()

    def _sync(self, delete: list[str] = (), quiet: list[str] = (), tar: bytes = b"") -> list[str]:
        """One keeper round trip: send `tar` and the deletions, apply what it reports back."""
        if self._keeper is None:
            raise ShippingFailed("the shipped workspace is closed")
        sock = self._keeper[2]
        request = json.dumps({"op": "sync", "tar": len(tar), "delete": list(delete), "quiet": list(quiet)}).encode()
        sock.sendall(struct.pack(">I", len(request)) + request + tar)
        frames, removed, back, status = Frames(), None, bytearray(), None
        while status is None:
            data = sock.recv(262144)
            if not data:
                raise ShippingFailed(f"the workspace keeper on {self.where} stopped answering")
            for tag, payload in frames.feed(data):
                if tag == b"J":
                    removed = json.loads(payload).get("removed", [])
                elif tag == b"T":
                    back += payload
                    if len(back) > self.stream_cap:
                        raise ShippingFailed(f"more than {self.stream_cap >> 20} MB came back from the sandbox")
                elif tag == b"X":
                    status = json.loads(payload)
        if not status.get("ok") or not isinstance(removed, list):
            raise ShippingFailed(f"the workspace keeper on {self.where} failed: {str(status.get('error'))[:200]}")
        for rel in sorted((r for r in removed if isinstance(r, str)), reverse=True):
            untrusted_tar.remove(self.root, rel)
            self.shipped.pop(untrusted_tar.clean_name(rel), None)
        applied = untrusted_tar.apply(self.root, bytes(back), self.limit_bytes, self.owner,
                                      skip=lambda rel, mode, sha: self.shipped.get(rel) == (mode, sha))
        self.shipped.update(applied)
        return sorted(applied)
