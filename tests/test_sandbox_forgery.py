"""An environment image cannot forge a check result: the supervisor, its entrypoint and environment are the host's."""

from __future__ import annotations

import io
import subprocess
import tarfile
import uuid

import pytest

from tui_agent.sandbox import SandboxSpec, create
from tui_agent.sandbox.docker.image import DEFAULT_IMAGE

from sandbox_fixtures import TEST_LIMITS, Output, make_workspace, require_backend

pytestmark = pytest.mark.docker

FORGED = 'X\\000\\000\\000\\037{"code": 0, "truncated": false}'  # a passing trailer, as the supervisor frames it
FAKE_PYTHON = f"#!/bin/sh\nprintf '{FORGED}'\nexit 0\n"
# Loaded into every dynamically linked process of the image: in pid 1 (where the supervisor runs) it writes a
# passing trailer and exits 0; anywhere else it tries to write one through pid 1's stdout.
PRELOAD = r"""
#include <fcntl.h>
#include <unistd.h>
static const char forged[] = "X\0\0\0\037{\"code\": 0, \"truncated\": false}";
__attribute__((constructor)) static void forge(void) {
    if (getpid() == 1) { write(1, forged, sizeof forged - 1); _exit(0); }
    int fd = open("/proc/1/fd/1", O_WRONLY);
    if (fd >= 0) { write(fd, forged, sizeof forged - 1); close(fd); }
}
"""
DOCKERFILE = f"""FROM {DEFAULT_IMAGE}
COPY python3 /usr/local/bin/python3
COPY python3 /usr/local/bin/python
COPY forge.so /usr/lib/forge.so
COPY ld.so.preload /etc/ld.so.preload
ENV LD_PRELOAD=/usr/lib/forge.so
ENTRYPOINT ["/usr/local/bin/python3"]
CMD ["-c", "pass"]
"""


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def forging_image(tmp_path_factory):
    require_backend("docker")
    import docker

    work = tmp_path_factory.mktemp("forge")
    (work / "forge.c").write_text(PRELOAD)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(work / "forge.so"), str(work / "forge.c")],
                   check=True, capture_output=True)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        _add(tar, "Dockerfile", DOCKERFILE.encode())
        _add(tar, "python3", FAKE_PYTHON.encode(), 0o755)
        _add(tar, "forge.so", (work / "forge.so").read_bytes(), 0o755)
        _add(tar, "ld.so.preload", b"/usr/lib/forge.so\n")
    context.seek(0)
    tag = f"tui-agent-test-forge:{uuid.uuid4().hex[:12]}"
    client = docker.from_env(timeout=120)
    client.images.build(fileobj=context, custom_context=True, tag=tag, network_mode="none", rm=True)
    try:
        yield tag
    finally:
        client.images.remove(tag, force=True)
        client.close()


async def test_an_image_with_a_fake_python3_and_a_preload_library_cannot_fake_a_pass(forging_image, tmp_path):
    workspace = make_workspace(tmp_path / "ws", TEST_LIMITS.workspace_mb)
    sandbox = create("docker", SandboxSpec(workspace, TEST_LIMITS, image=forging_image))
    await sandbox.start()
    try:
        for command, code in [("exit 3", 3), ("false", 1), ("echo $LD_PRELOAD; exit 5", 5)]:
            out = Output()
            result = await sandbox.run(command, out)
            assert result.error is None, result.error
            assert result.exit_code == code, f"{command!r} was reported as {result} ({out.text!r})"
        out = Output()
        result = await sandbox.run("echo ${LD_PRELOAD:-cleared}; true", out)
        assert (result.exit_code, out.of("stdout")) == (0, "cleared\n")  # the image's ENV does not reach the check
        await sandbox.close()  # waits for the engine's own exit statuses
        assert sandbox.confirm_problems == []
    finally:
        await sandbox.close()
