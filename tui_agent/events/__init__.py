"""The frozen events the loop emits (plain data); the TUI, headless mode, the session recorder and tests
consume them. One module per part of a session, loaded when one of its names is first asked for (`from
tui_agent.events import X`): the first screen needs none of them, and making ~50 dataclasses costs ~20 ms.
`load_all()` registers every event type; `Event.from_dict` calls it for a type it does not know yet."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tui_agent.events.record import Event, Record

PARTS = {
    "environment": ("EnvDetected", "EnvStep", "EnvOutput", "EnvReady", "EnvFailed", "EnvOutdated"),
    "run": ("SessionStarted", "SessionResumed", "PlanUpdated", "IterationStarted", "CheckStarted", "OutputChunk",
            "CheckFinished", "FixApplied", "IterationFinished", "Paused", "Resumed", "ModeChanged", "DeployReady",
            "Deployed", "DeployRefused", "Finished", "Error", "Undone", "UndoRefused", "RecheckStarted",
            "RecheckFinished", "FeedbackGiven"),
    "turns": ("ModelRequested", "ModelDelta", "ModelResponded", "ModelRetrying", "ToolCallRequested",
              "ToolCallDecided", "ToolCallFinished", "ToolProgress"),
    "questions": ("QuestionAsked", "QuestionAnswered", "SamplingSpent"),
    "watch": ("WatchStarted", "ChangesSynced", "ChangesQueued", "FixRefused", "FixRebased", "AutoFixToggled",
              "WatchStopped"),
}
_PART_OF = {name: part for part, names in PARTS.items() for name in names}

__all__ = ["Record", "Event", *_PART_OF]

if TYPE_CHECKING:  # what the names are, for the type checker; at run time __getattr__ loads them
    from tui_agent.events.environment import EnvDetected, EnvFailed, EnvOutdated, EnvOutput, EnvReady, EnvStep  # noqa: F401
    from tui_agent.events.questions import QuestionAnswered, QuestionAsked, SamplingSpent  # noqa: F401
    from tui_agent.events.run import (  # noqa: F401
        CheckFinished, CheckStarted, Deployed, DeployReady, DeployRefused, Error, FeedbackGiven, Finished, FixApplied,
        IterationFinished, IterationStarted, ModeChanged, OutputChunk, Paused, PlanUpdated, RecheckFinished,
        RecheckStarted, Resumed, SessionResumed, SessionStarted, Undone, UndoRefused,
    )
    from tui_agent.events.turns import (  # noqa: F401
        ModelDelta, ModelRequested, ModelResponded, ModelRetrying, ToolCallDecided, ToolCallFinished,
        ToolCallRequested, ToolProgress,
    )
    from tui_agent.events.watch import (  # noqa: F401
        AutoFixToggled, ChangesQueued, ChangesSynced, FixRebased, FixRefused, WatchStarted, WatchStopped,
    )


def __getattr__(name: str) -> Any:
    part = _PART_OF.get(name)
    if part is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{part}"), name)
    globals()[name] = value  # asked once: later lookups are plain attribute reads
    return value


def load_all() -> None:
    """Import every part: every event type is then registered (Event.from_dict knows them all)."""
    for part in PARTS:
        importlib.import_module(f"{__name__}.{part}")
