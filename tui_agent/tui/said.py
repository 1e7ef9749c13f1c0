"""What narration says, as plain data: a heading or lines for the output log, a notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Heading:
    """A line of its own in the output log; `role` picks the theme colour (strong, good, bad, warn, note)."""

    text: str
    role: str = "strong"
    mark: str | None = None  # a name to jump back to (the check of an iteration)


@dataclass(frozen=True)
class Notice:
    message: str
    severity: Literal["information", "warning", "error"] = "information"
    timeout: float = 15


@dataclass(frozen=True)
class LogText:
    """Plain lines for the output log (an environment's live build log)."""

    text: str


Said = Heading | Notice | LogText
