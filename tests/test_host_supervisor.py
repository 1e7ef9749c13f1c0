"""The host's supervisor binary: built static into a content-addressed cache; a tampered cache is not used."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from tui_agent.sandbox.docker import host_supervisor


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setattr(host_supervisor, "_built", {})
    return tmp_path / "cache"


def test_built_static_and_named_by_its_content(fresh):
    binary = host_supervisor.ensure(fresh)
    assert binary.folder == fresh / binary.digest and binary.path.name == host_supervisor.NAME
    assert "statically linked" in subprocess.run(["file", "-b", str(binary.path)], capture_output=True,
                                                 text=True).stdout or not shutil.which("file")
    assert not binary.path.stat().st_mode & 0o222, "read-only"


def test_a_tampered_cache_is_never_used(fresh, monkeypatch):
    binary = host_supervisor.ensure(fresh)
    binary.path.chmod(0o755)
    binary.path.write_bytes(b"#!/bin/sh\nexit 0\n")
    monkeypatch.setattr(host_supervisor, "_built", {})
    again = host_supervisor.ensure(fresh)
    assert host_supervisor._sha256(again.path.read_bytes()) == again.digest


def test_it_refuses_to_run_unless_it_is_the_init_of_its_own_pid_namespace(fresh):
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux)")
    binary = host_supervisor.ensure(fresh)
    # pid 2 of a namespace of its own: were the guard gone, its kill(-1) would stay inside that namespace
    done = subprocess.run(["unshare", "--pid", "--fork", "--kill-child", "/bin/sh", "-c", f"{binary.path}; echo $?"],
                          input=host_supervisor.request("exit 3", {}, 100), capture_output=True, timeout=20)
    assert done.stdout.strip().endswith(b"125"), done
    assert b"not pid 1" in done.stderr


def test_the_request_carries_the_cap_the_environment_and_the_command():
    data = host_supervisor.request("echo hi", {"A": "1", "PATH": "/bin"}, 4096)
    (length,) = struct.unpack(">I", data[:4])
    body = data[4:]
    assert length == len(body)
    assert struct.unpack(">QI", body[:12]) == (4096, 2)
    assert body[12:] == b"A=1\0PATH=/bin\0echo hi"
