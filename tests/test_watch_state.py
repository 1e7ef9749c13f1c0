"""WatchState, what the watch screen shows, is a pure fold of the watcher's events."""

import pytest

from tui_agent.events import (
    AutoFixToggled, CheckFinished, CheckStarted, Deployed, DeployReady, Finished, FixRefused, IterationStarted, Paused,
    Resumed, ToolCallDecided, ToolCallRequested, WatchStarted, WatchStopped,
)
from tui_agent.tui.watch_state import WatchState

pytestmark = pytest.mark.unit


def folded(*events) -> WatchState:
    state = WatchState()
    for event in events:
        state.apply(event)
    return state


STARTED = WatchStarted("s", "/p", "pytest -q", "bwrap", "/w", auto_fix=True)


def test_a_failing_save_then_a_fix_that_passes_is_offered():
    s = folded(STARTED, CheckStarted(0, "pytest -q", "bwrap"))
    assert (s.phase, s.verdict, s.busy) == ("checking", "not checked yet", True)
    s.apply(CheckFinished(0, 1, False, 0.1))
    assert (s.phase, s.verdict, s.checks) == ("idle", "failing", 1)
    s.apply(IterationStarted(1))
    s.apply(ToolCallRequested(1, "c1", "write_file", {"path": "app.py"}))
    assert s.phase == "fixing" and s.asking is not None and s.asking.call_id == "c1"
    s.apply(ToolCallDecided("c1", "write_file", "allow", "person"))
    assert s.asking is None
    s.apply(Paused("no progress", 2))
    assert s.fix_paused
    s.apply(Resumed())
    s.apply(CheckFinished(1, 0, True, 0.1))
    s.apply(Finished("met", "the check passes", 1, 0.02, 1.0))
    s.apply(DeployReady("diff", ("app.py",)))
    assert (s.phase, s.verdict, s.busy, s.fix_iterations, s.checks) == ("idle", "failing, a fix passes", False, 1, 1)
    s.apply(Deployed(("app.py",)))
    assert s.proposal is None and s.verdict == "passing"


def test_a_refused_fix_auto_fix_and_the_end():
    s = folded(STARTED, DeployReady("diff", ("app.py",)), FixRefused("you changed app.py", ("app.py",)),
               AutoFixToggled(False))
    assert s.proposal is None and not s.auto_fix
    s.apply(WatchStopped("the person quit", 3, True))
    assert s.phase == "stopped"
