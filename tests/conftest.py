"""The fixtures: `backend` runs a test on each sandbox backend (skipped locally, failed in CI, if missing);
`workspace` and `box` are a capped folder and a started bwrap sandbox on it; `calculator` is the example's
settings on a fresh copy (TUI tests); `fast` builds loops on a FakeSandbox and a ScriptedModel (the fast tier);
`private_engine` is a second dockerd of the test's own on loopback TCP+TLS (a stand-in for a remote host)."""

import asyncio
import os
import shutil
import tempfile
from pathlib import Path


def _own_home() -> None:
    """The person's own tui-agent config, trust store, sessions, audit log, deploy journals and attach sockets
    never leak into a test (nor a test's into theirs): every per-user folder is one of the test run's, set before
    anything of tui-agent is imported (some defaults are read at import). The cache (built environments, the
    static supervisor) is shared: it holds nothing of the person's, only what is slow to make."""
    global _MADE_HOME
    home = os.environ.get("TUI_AGENT_TEST_HOME")
    if not home:
        home = _MADE_HOME = tempfile.mkdtemp(prefix="tui-agent-test-home-")
    os.environ.update(TUI_AGENT_TEST_HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                      XDG_STATE_HOME=f"{home}/state", XDG_RUNTIME_DIR=f"{home}/run")
    os.makedirs(f"{home}/run", mode=0o700, exist_ok=True)


_MADE_HOME: str | None = None  # the home this test run made (removed at its end), not one it was given
_own_home()

import pytest
from fakes import FastRun, build
from tui_fixtures import example_settings

from tui_agent.sandbox import SandboxSpec, probe
from tui_agent.sandbox.bwrap.sandbox import BwrapSandbox
from tui_agent.workspace import quota as fsquota

from bwrap_fixtures import LIMITS, make_workspace, own_run_cgroups
from sandbox_fixtures import require_backend

BACKENDS = ["docker", "bwrap"]


def pytest_unconfigure(config):
    if _MADE_HOME:
        shutil.rmtree(_MADE_HOME, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    require_backend(request.param)
    return request.param


@pytest.fixture(autouse=True)
def steady_cursors(request, monkeypatch):
    """A snapshot is taken whenever the machine gets to it, so a blinking cursor makes it flaky on a loaded CI:
    in snapshot tests the cursors of inputs and text areas stay shown (what a person sees half the time)."""
    if "snap_compare" in request.fixturenames:
        from textual.widgets import Input, TextArea

        monkeypatch.setattr(Input, "_toggle_cursor", lambda self: setattr(self, "_cursor_visible", True))
        monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible",
                            lambda self: setattr(self, "_cursor_visible", True))


@pytest.fixture(autouse=True)
def own_state(monkeypatch):
    """Each test has a state folder of its own (deploy journals, the records of killed runs' containers, the audit
    log): what one test leaves there on purpose (a killed run, a crashed deploy) is recovered by that test's own
    `tui-agent` commands, never announced on the stderr of the next test's."""
    home = Path(os.environ["TUI_AGENT_TEST_HOME"]) / "states"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("XDG_STATE_HOME", tempfile.mkdtemp(dir=home))


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """A loopback package index (pytest and what it needs, setuptools, tinydep) for a module's environment tests."""
    from env_fixtures import IndexServer, index_folder

    server = IndexServer(index_folder(tmp_path_factory.mktemp("wheels")))
    yield server
    server.close()


@pytest.fixture(scope="session", autouse=True)
def no_workspace_left_mounted(tmp_path_factory):
    """A test that fails before closing its run leaves its capped workspace mounted: unmount what is left under
    this run's temp folder, so pytest can clean it up next time (a busy mount would stay forever)."""
    yield
    base = str(tmp_path_factory.getbasetemp().resolve())
    with open("/proc/mounts") as mounts:
        left = [line.split()[1] for line in mounts if line.split()[1].startswith(base + "/")]
    for path in left:
        fsquota.unmount(Path(path))


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


@pytest.fixture
async def fast(tmp_path):
    """fast(turns=..., checks=..., who=..., policy=..., breakpoints=..., **criteria) -> FastRun (see fakes.build)."""
    made: list[FastRun] = []

    def make(**kwargs) -> FastRun:
        made.append(build(tmp_path / f"run{len(made)}", **kwargs))
        return made[-1]

    yield make
    for run in made:
        if run.task is not None and not run.task.done():
            run.task.cancel()
            await asyncio.gather(run.task, return_exceptions=True)
        run.workspace.close()


@pytest.fixture(scope="session")
def private_engine(tmp_path_factory):
    from private_engine import PrivateEngine, usable_reason

    reason = usable_reason()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"no private engine: {reason}")
    engine = PrivateEngine(tmp_path_factory.mktemp("engine"))
    try:
        engine.start()
        engine.load_image()
        yield engine
    finally:
        engine.stop()
