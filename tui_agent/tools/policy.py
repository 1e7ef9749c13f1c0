"""Permission policy: allow / ask / deny rules on a tool name and its arguments; deny wins."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

READ_ONLY_TOOLS = ("read_file", "list_files", "update_plan")


@dataclass(frozen=True)
class Verdict:
    action: str  # "allow" | "ask" | "deny"
    rule: str | None = None  # the rule that decided, None for the default


@dataclass
class Policy:
    """Minimal policy (to be extended with argument matching and persistence)."""

    allow: list[str] = field(default_factory=lambda: list(READ_ONLY_TOOLS))
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    default: str = "ask"

    def evaluate(self, name: str, arguments: dict) -> Verdict:
        for action in ("deny", "ask", "allow"):
            for rule in getattr(self, action):
                if fnmatch.fnmatchcase(name, rule.split("(", 1)[0]):
                    return Verdict(action, rule)
        return Verdict(self.default)

    def allow_always(self, name: str, arguments: dict) -> str:
        """Record a rule so that this call is allowed from now on; return the rule."""
        self.allow.append(name)
        return name
