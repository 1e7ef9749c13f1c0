"""Termination criteria, evaluated after each iteration: met, or why the loop stops."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui_agent.config import Criteria

_NUMBERS = re.compile(r"0x[0-9a-f]+|\d+(\.\d+)?")


def check_passed(exit_code: int | None, output: str, pattern: str | None) -> bool:
    if exit_code != 0:
        return False
    return pattern is None or re.search(pattern, output, re.MULTILINE) is not None


def failure_signature(exit_code: int | None, output: str) -> str:
    """What makes two failures 'the same': exit code and the last lines, numbers and addresses masked."""
    lines = [line.strip() for line in output.splitlines() if line.strip()][-3:]
    return f"{exit_code}|" + "|".join(_NUMBERS.sub("#", line) for line in lines)


@dataclass
class Progress:
    """Live state of the criteria, for the status line and the decision to stop."""

    criteria: Criteria
    iterations: int = 0
    cost_usd: float = 0.0
    elapsed_s: float = 0.0
    same_failures: int = 0
    _last_signature: str | None = None

    def record_check(self, passed: bool, exit_code: int | None, output: str) -> None:
        if passed:
            self.same_failures, self._last_signature = 0, None
            return
        signature = failure_signature(exit_code, output)
        # counts iterations in a row that left the failure as it was before them
        self.same_failures = self.same_failures + 1 if signature == self._last_signature else 0
        self._last_signature = signature

    def forgive(self) -> None:
        """The person chose to go on despite no progress: count afresh."""
        self.same_failures = 0

    def over_budget(self) -> bool:
        budget = self.criteria.budget_usd
        return budget is not None and self.cost_usd >= budget

    def out_of_time(self) -> bool:
        limit = self.criteria.wall_time_s
        return limit is not None and self.elapsed_s >= limit

    def stop_reason(self) -> str | None:
        """Why to stop now (the goal not met), or None to go on."""
        c = self.criteria
        if self.over_budget():
            return f"budget reached: ${self.cost_usd:.4f} of ${c.budget_usd:.2f}"
        if self.out_of_time():
            return f"wall time reached: {self.elapsed_s:.0f}s of {c.wall_time_s:.0f}s"
        if self.iterations >= c.max_iterations:
            return f"max iterations reached: {self.iterations} of {c.max_iterations}"
        return None

    def no_progress(self) -> str | None:
        n = self.criteria.no_progress
        if n and self.same_failures >= n:
            return f"no progress: the same failure after {self.same_failures} iterations in a row"
        return None
