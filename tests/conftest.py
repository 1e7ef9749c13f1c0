"""The fixtures: `backend` runs a test on each sandbox backend (skipped locally, failed in CI, if missing);
`workspace` and `box` are a capped folder and a started bwrap sandbox on it; `calculator` is the example's
settings on a fresh copy (TUI tests)."""

import os
import shutil
from pathlib import Path

import pytest
from tui_fixtures import example_settings

from tui_agent.sandbox import SandboxSpec, probe
from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
from tui_agent.workspace import quota as fsquota

from bwrap_fixtures import LIMITS, make_workspace, own_run_cgroups
from sandbox_fixtures import require_backend

BACKENDS = ["docker", "bwrap"]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture
def workspace():
    if reason := probe("bwrap"):
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    ws = make_workspace(Path("/tmp"))
    yield ws
    fsquota.unmount(ws)
    shutil.rmtree(ws, ignore_errors=True)


@pytest.fixture
async def box(workspace):
    sandbox = BwrapSandbox(SandboxSpec(workspace, LIMITS))
    await sandbox.start()
    yield sandbox
    await sandbox.close()
    assert own_run_cgroups() == [], "run cgroups were left behind"


@pytest.fixture
def calculator(tmp_path):
    return example_settings(tmp_path)
