"""The person's commands to a run, and the run's reply: plain data that round-trips through JSON, like events."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tui_agent.events import Record

ANSWERS = ("allow", "always", "deny")  # "always": allow, and keep a rule so that it is not asked again
ACTIONS_OF = {"form": ("accept", "decline", "cancel"), "url": ("accept", "decline", "cancel"),
              "sampling": ("approve", "deny")}  # the answers to an MCP server's question, by its kind


@dataclass(frozen=True)
class Command(Record):
    """Base class: what a person (in any window: this terminal, a second one, a browser) asks a run to do."""

    type: ClassVar[str] = "command"
    registry: ClassVar[dict[str, builtins.type[Record]]] = {}


@dataclass(frozen=True)
class Pause(Command):
    """Pause at the next safe point (before a model turn, a tool call, the fix or the check)."""

    type: ClassVar[str] = "pause"


@dataclass(frozen=True)
class Resume(Command):
    type: ClassVar[str] = "resume"


@dataclass(frozen=True)
class Step(Command):
    """Run one more iteration, then pause again."""

    type: ClassVar[str] = "step"


@dataclass(frozen=True)
class Stop(Command):
    type: ClassVar[str] = "stop"
    reason: str = "stopped by the person"


@dataclass(frozen=True)
class Answer(Command):
    """The person's answer to a tool call: asked now, or ahead while the loop is paused before asking it."""

    type: ClassVar[str] = "answer"
    call_id: str
    action: str  # one of ANSWERS
    arguments: dict[str, Any] | None = None  # the person's edit of the call's arguments (allow with these instead)


@dataclass(frozen=True)
class SetMode(Command):
    """Switch the permission mode: auto, ask or plan (the rules apply on top in every mode)."""

    type: ClassVar[str] = "set_mode"
    mode: str


@dataclass(frozen=True)
class AddBreakpoint(Command):
    type: ClassVar[str] = "add_breakpoint"
    spec: str  # as --break-on takes it: tool, tool:RULE, check, failure, spend:USD, iteration:N


@dataclass(frozen=True)
class RemoveBreakpoint(Command):
    type: ClassVar[str] = "remove_breakpoint"
    spec: str


@dataclass(frozen=True)
class Deploy(Command):
    """The person approved the deploy: copy the changes into their folder (the run emits Deployed or DeployRefused).

    A flagged file (one that can run code on the host or change tui-agent) goes only when named in `include`.
    `hunks`: the per-hunk review's selection ((path, key, "all" or ((hunk index, edited text or None), ...)), ...);
    only the files named go, and the check runs first on exactly that subset unless `recheck` is False."""

    type: ClassVar[str] = "deploy"
    include: tuple[str, ...] = ()
    hunks: tuple[Any, ...] | None = None
    recheck: bool = True


@dataclass(frozen=True)
class Undo(Command):
    """Put the person's folder back as it was before the last deploy (or undo), refused if it changed since."""

    type: ClassVar[str] = "undo"


@dataclass(frozen=True)
class Feedback(Command):
    """Instead of deploying: the person's reasons for rejecting hunks go to the model, and another iteration runs."""

    type: ClassVar[str] = "feedback"
    notes: tuple[Any, ...] = ()  # (path, hunk as a diff shows it, reason)


@dataclass(frozen=True)
class RestartServers(Command):
    """Start these MCP servers again; the run's events say when each is ready or failed."""

    type: ClassVar[str] = "restart_servers"
    names: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class AnswerQuestion(Command):
    """The person's answer to an MCP server's question: accept (with the form's content) / decline / cancel."""

    type: ClassVar[str] = "answer_question"
    question_id: str
    action: str  # accept | decline | cancel
    content: dict[str, Any] | None = None  # an accepted form's values, typed as its schema says


@dataclass(frozen=True)
class ApproveSampling(Command):
    """The person's say-so on an MCP server's sampling request (it spends the person's money on the model)."""

    type: ClassVar[str] = "approve_sampling"
    question_id: str
    approve: bool


@dataclass(frozen=True)
class Reply:
    """What came of a command: `ok`, and a note (e.g. "ahead" for an answer given before the ask, or why not)."""

    ok: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "note": self.note}


DONE = Reply(True)
