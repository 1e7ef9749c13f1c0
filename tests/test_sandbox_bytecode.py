"""Bytecode in the sandboxes: the image's precompiled standard library is used, stale workspace bytecode never runs."""

from __future__ import annotations

import os
import time

import pytest

from sandbox_fixtures import BoxFactory, write_owned

BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]


@pytest.fixture(params=BACKENDS)
async def box(request, tmp_path):
    made = BoxFactory(request.param, tmp_path)
    try:
        yield await made.make(timeout_s=30.0)
    finally:
        await made.close()


async def test_a_check_uses_the_precompiled_standard_library_and_writes_none(box):
    result, out = await box.run("python3 -v -c 'import sys, decimal, json; print(sys.pycache_prefix)' 2>&1")
    assert result.exit_code == 0, out.text
    assert "\nNone\n" in out.text  # no prefix: bytecode is looked up next to its sources
    loaded = [line for line in out.text.splitlines() if line.startswith("# code object from ")]
    assert any("/python3.11/__pycache__/decimal." in line for line in loaded), out.text[-2000:]
    assert not [line for line in out.text.splitlines() if line.startswith(("# wrote ", "# could not create"))]


async def test_unchanged_workspace_bytecode_is_reused(box):
    source = write_owned(box.workspace / "mod.py", "X = 1\n")
    os.utime(source, ns=(time.time_ns() - 10**10,) * 2)  # written well before the check compiles it
    first, out = await box.run("python3 -c 'import mod; print(mod.X)'")
    assert (first.exit_code, out.text) == (0, "1\n")
    assert list((box.workspace / "__pycache__").glob("mod.*.pyc"))
    second, out = await box.run("python3 -v -c 'import mod' 2>&1")
    assert second.exit_code == 0
    assert "# code object from '/workspace/__pycache__/mod." in out.text, out.text[-2000:]


async def test_stale_workspace_bytecode_never_runs_after_an_edit(box):
    source = write_owned(box.workspace / "mod.py", "X = 1\n")
    result, out = await box.run("python3 -c 'import mod; print(mod.X)'")
    assert (result.exit_code, out.text) == (0, "1\n")
    pyc = next((box.workspace / "__pycache__").glob("mod.*.pyc"))
    second = int.from_bytes(pyc.read_bytes()[8:12], "little")  # the source mtime the bytecode was made for
    # compiled, then edited to the same size, all within that second: Python alone would run the old code
    os.utime(pyc, ns=(second * 10**9 + 100,) * 2)
    write_owned(source, "X = 2\n")
    os.utime(source, ns=(second * 10**9 + 200,) * 2)
    result, out = await box.run("python3 -c 'import mod; print(mod.X)'")
    assert (result.exit_code, out.text) == (0, "2\n")
