"""Uploads through the engine's archive endpoint: no tar padding for Podman's copier to leave unread (buildah#6573)."""

from __future__ import annotations

import io
import tarfile

import pytest

from sandbox_fixtures import require_backend
from tui_agent.sandbox.docker.archive import tar_bytes
from tui_agent.sandbox.docker.engine import local_podman
from tui_agent.sandbox.docker.engine_probe import start_service
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE


def _entries() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    folder = tarfile.TarInfo("opt/x")
    folder.type, folder.mode, folder.uid, folder.gid = tarfile.DIRTYPE, 0o755, 1000, 1000
    data = b"#!/bin/sh\necho hi\n"
    file = tarfile.TarInfo("opt/x/run")
    file.size, file.mode = len(data), 0o555
    return [(folder, None), (file, data)]


def test_the_tar_ends_at_its_end_blocks_and_reads_back_whole():
    data = tar_bytes(_entries())
    # two headers, one data block, the two end-of-archive blocks; Python's own close pads to 10240
    assert len(data) == 5 * tarfile.BLOCKSIZE and data[-2 * tarfile.BLOCKSIZE:] == bytes(2 * tarfile.BLOCKSIZE)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["opt/x"].isdir() and (members["opt/x"].uid, members["opt/x"].mode) == (1000, 0o755)
        assert tar.extractfile(members["opt/x/run"]).read() == b"#!/bin/sh\necho hi\n"


@pytest.mark.podman
def test_podman_takes_the_upload_into_a_created_container():
    require_backend("podman")
    engine = local_podman()
    assert start_service(engine) is None
    client = engine.client()
    try:
        for _ in range(5):
            container = client.containers.create(image=DEFAULT_IMAGE, entrypoint=[""], command=["/bin/true"],
                                                 network_mode="none")
            try:
                assert container.put_archive("/", tar_bytes(_entries()))
                stream, _ = container.get_archive("/opt/x/run")
                with tarfile.open(fileobj=io.BytesIO(b"".join(stream)), mode="r:") as tar:
                    assert tar.extractfile("run").read() == b"#!/bin/sh\necho hi\n"
            finally:
                container.remove(force=True)
    finally:
        client.close()
