"""Termination criteria: pass pattern, iterations, budget, wall time, no progress."""

import pytest

from tui_agent.agent.termination import Progress, check_passed, failure_signature
from tui_agent.config import Criteria

pytestmark = pytest.mark.unit


def test_check_passes_on_exit_zero_and_pattern():
    assert check_passed(0, "ok", None)
    assert not check_passed(1, "ok", None)
    assert check_passed(0, "5 passed", r"\d+ passed")
    assert not check_passed(0, "nothing", r"\d+ passed")


def test_same_failure_with_other_numbers_is_the_same():
    a = failure_signature(1, "Traceback\n  line 12\nAssertionError: 3 != 4 at 0x7f00")
    b = failure_signature(1, "Traceback\n  line 14\nAssertionError: 5 != 4 at 0x7f9a")
    assert a == b
    assert a != failure_signature(1, "KeyError: 'qty'")


def test_no_progress_after_n_same_failures():
    p = Progress(Criteria(no_progress=3))
    for _ in range(3):  # the first one (the baseline) is not a repeat
        p.record_check(False, 1, "KeyError: 'x'")
    assert p.no_progress() is None
    p.record_check(False, 1, "KeyError: 'x'")
    assert "after 3 iterations" in p.no_progress()
    p.forgive()
    assert p.no_progress() is None


def test_stop_reasons():
    p = Progress(Criteria(max_iterations=2, budget_usd=0.5, wall_time_s=60))
    assert p.stop_reason() is None
    p.iterations = 2
    assert p.stop_reason().startswith("max iterations")
    p.cost_usd = 0.5
    assert p.stop_reason().startswith("budget")
    p.cost_usd, p.elapsed_s = 0, 61
    assert p.stop_reason().startswith("wall time")
