"""Breakpoints: pause the agent before a tool call, before a check, on a failing check, past a spend, at iteration N.

Spelled like `--break-on` values: `tool` (any call), `tool:RULE` (a permission-rule pattern, e.g.
`tool:run_command(pytest *)` or `tool:mcp__git__*`), `check`, `failure`, `spend:0.50`, `iteration:3`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_agent.config import ConfigError
from tui_agent.tools.permissions.rules import Rule, RuleError, argument_for

KINDS = ("tool", "check", "failure", "spend", "iteration")


@dataclass
class Breakpoints:
    tools: list[Rule] = field(default_factory=list)
    any_tool: bool = False
    before_check: bool = False
    on_failure: bool = False
    spend_usd: float | None = None
    iterations: set[int] = field(default_factory=set)
    _spend_hit: bool = False

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...] | None) -> "Breakpoints":
        points = cls()
        for spec in specs or ():
            points.add(spec)
        return points

    def add(self, spec: str) -> None:
        kind, _, value = spec.strip().partition(":")
        try:
            if kind == "tool":
                if value:
                    self.tools.append(Rule.parse(value))
                else:
                    self.any_tool = True
            elif kind == "check" and not value:
                self.before_check = True
            elif kind == "failure" and not value:
                self.on_failure = True
            elif kind == "spend":
                self.spend_usd, self._spend_hit = float(value), False
            elif kind == "iteration":
                self.iterations.add(int(value))
            else:
                raise ValueError
        except (ValueError, RuleError):
            raise ConfigError(f"bad breakpoint {spec!r}: use one of tool, tool:RULE, check, failure, spend:USD, "
                              "iteration:N") from None

    def remove(self, spec: str) -> bool:
        """Take one breakpoint away, spelled as specs() gives it; False when none is set that way."""
        kind, _, value = spec.strip().partition(":")
        if kind == "tool" and value:
            kept = [rule for rule in self.tools if rule.text != value]
            found, self.tools = len(kept) < len(self.tools), kept
            return found
        if (kind, value) == ("tool", "") and self.any_tool:
            self.any_tool = False
        elif (kind, value) == ("check", "") and self.before_check:
            self.before_check = False
        elif (kind, value) == ("failure", "") and self.on_failure:
            self.on_failure = False
        elif kind == "spend" and self.spend_usd is not None and value and f"{self.spend_usd:g}" == f"{_number(value):g}":
            self.spend_usd, self._spend_hit = None, False
        elif kind == "iteration" and value.strip().isdigit() and int(value) in self.iterations:
            self.iterations.discard(int(value))
        else:
            return False
        return True

    def specs(self) -> list[str]:
        """The breakpoints in force, spelled as they are set (for the TUI)."""
        out = ["tool"] if self.any_tool else []
        out += [f"tool:{rule.text}" for rule in self.tools]
        out += ["check"] * self.before_check + ["failure"] * self.on_failure
        out += [f"spend:{self.spend_usd:g}"] if self.spend_usd is not None else []
        return out + [f"iteration:{n}" for n in sorted(self.iterations)]

    # --- each returns the reason to pause, or None ----------------------------------------

    def reason(self, point: str, *, iteration: int = 0, passed: bool = True, cost_usd: float = 0.0) -> str | None:
        """Why to pause at this point of the loop ("iteration", "check", "failure", "spend"; others: None)."""
        if point == "iteration":
            return self.at_iteration(iteration)
        if point == "check":
            return self.at_check()
        if point == "failure":
            return self.at_failure(passed)
        if point == "spend":
            return self.at_spend(cost_usd)
        return None

    def at_tool(self, name: str, arguments: dict) -> str | None:
        if self.any_tool:
            return f"breakpoint: before {name}"
        arg = argument_for(name, arguments if isinstance(arguments, dict) else {})
        for rule in self.tools:
            if rule.matches(name, arg, for_allow=False):
                return f"breakpoint: before {name} (tool:{rule.text})"
        return None

    def at_check(self) -> str | None:
        return "breakpoint: before the check" if self.before_check else None

    def at_failure(self, passed: bool) -> str | None:
        return "breakpoint: the check failed" if self.on_failure and not passed else None

    def at_spend(self, cost_usd: float) -> str | None:
        if self.spend_usd is not None and not self._spend_hit and cost_usd >= self.spend_usd:
            self._spend_hit = True
            return f"breakpoint: spend passed ${self.spend_usd:g} (${cost_usd:.4f})"
        return None

    def at_iteration(self, iteration: int) -> str | None:
        return f"breakpoint: iteration {iteration}" if iteration in self.iterations else None


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")
