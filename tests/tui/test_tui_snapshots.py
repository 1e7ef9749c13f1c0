"""Snapshots of the main states, from the recorded events of a real run (deterministic: no live clock)."""

from __future__ import annotations

from pathlib import Path

from tui_fixtures import recorded, upto

from tui_agent.config import Settings
from tui_agent.events import (
    Finished, IterationFinished, ModelDelta, Paused, ToolCallRequested,
)
from tui_agent.tui.app import AgentApp

BIG, SMALL = (160, 48), (80, 24)
EVENTS = recorded()


def replay(events, theme: str = "dark") -> AgentApp:
    return AgentApp(Settings(project=Path("/home/you/calculator"), theme=theme), replay=events)


def running():
    return upto(EVENTS, lambda e: isinstance(e, ModelDelta) and e.iteration == 2, nth=12)


def paused():
    return upto(EVENTS, lambda e: isinstance(e, IterationFinished) and e.iteration == 1) + [Paused("step", 2)]


def waiting():
    return upto(EVENTS, lambda e: isinstance(e, ToolCallRequested) and e.name == "edit_file", nth=2)


def ready():
    return upto(EVENTS, lambda e: isinstance(e, Finished))


def test_running(snap_compare):
    """RUNNING badge; iteration 2 with 1/10 iterations done and check ✗; the plan shows step 1 in progress;
    the model's words stream in the plan's activity line; Output holds the baseline and iteration 1 checks
    (test_average FAIL); Fixes shows Fix 1/1 (divide() gets `if b == 0: return None`) linked to the
    baseline check's ZeroDivisionError; no tool call waits."""
    assert snap_compare(replay(running()), terminal_size=BIG)


def test_paused(snap_compare):
    """PAUSED badge (stepping: paused before iteration 2); 1/10 iterations; Output ends with the failed
    check of iteration 1; the footer offers Resume instead of Pause."""
    assert snap_compare(replay(paused()), terminal_size=BIG)


def test_waiting_for_permission(snap_compare):
    """WAITING FOR APPROVAL badge; the Permissions panel has a yellow border and lists `edit_file calc.py`
    with its full arguments: path, old_string (`return sum(numbers) / len(numbers) + 1`) and new_string
    as indented blocks; the footer's Allow / Always / Deny keys are enabled."""
    assert snap_compare(replay(waiting()), terminal_size=BIG)


def test_ready_to_deploy(snap_compare):
    """READY TO DEPLOY badge (green); 2/10 iterations; check ✓; all plan steps ✓; the last check passed
    (green heading in Output); a notification says to press d; Deploy is enabled in the footer."""
    assert snap_compare(replay(ready()), terminal_size=BIG)


def test_deploy_confirmation(snap_compare):
    """The deploy dialog over the main screen: `Deploy into /home/you/calculator?`, a checklist
    (✓ the check passes, ✓ 2 iteration(s) of 10, ✓ spend), every file listed, then the cumulative diff with both
    fixes of calc.py coloured; Deploy (y) and Cancel (esc) buttons, Cancel focused."""
    assert snap_compare(replay(ready()), terminal_size=BIG, press=["d"])


def test_finished_and_deployed(snap_compare):
    """DEPLOYED badge; the run is finished (2/10 iterations, check ✓); a notification says the files were
    deployed into /home/you/calculator; Pause/Step/Stop and Deploy are dimmed in the footer."""
    assert snap_compare(replay(EVENTS), terminal_size=BIG)


def test_small_terminal(snap_compare):
    """At 80x24 the four panels, the status line and the footer all fit: waiting for approval of
    `edit_file calc.py`, its arguments visible in the Permissions panel."""
    assert snap_compare(replay(waiting()), terminal_size=SMALL)


def test_light_theme(snap_compare):
    """The light theme (settings.theme = "light"): same ready-to-deploy state, dark text on a light
    background, green/red diff lines readable."""
    assert snap_compare(replay(ready(), theme="light"), terminal_size=BIG)


def test_browse_back_to_first_fix(snap_compare):
    """After `[`: the Fixes panel shows Fix 1/2 (iteration 1, divide()) and, below it, the failing output
    of the baseline check (ZeroDivisionError) that caused it."""
    assert snap_compare(replay(ready()), terminal_size=BIG, press=["left_square_bracket"])

