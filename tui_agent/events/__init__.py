"""The frozen events the loop emits (plain data); the TUI, headless mode, the session recorder and tests
consume them. One module per part of a session; importing this package registers every event type."""

from __future__ import annotations

from tui_agent.events.record import (
    Record, Event,
)
from tui_agent.events.environment import (
    EnvDetected, EnvStep, EnvOutput, EnvReady, EnvFailed, EnvOutdated,
)
from tui_agent.events.run import (
    SessionStarted, SessionResumed, PlanUpdated, IterationStarted, CheckStarted, OutputChunk, CheckFinished,
    FixApplied, IterationFinished, Paused, Resumed, ModeChanged, DeployReady, Deployed, DeployRefused, Finished, Error,
    Undone, UndoRefused, RecheckStarted, RecheckFinished, FeedbackGiven,
)
from tui_agent.events.turns import (
    ModelRequested, ModelDelta, ModelResponded, ModelRetrying, ToolCallRequested, ToolCallDecided, ToolCallFinished,
    ToolProgress,
)
from tui_agent.events.questions import (
    QuestionAsked, QuestionAnswered, SamplingSpent,
)
from tui_agent.events.watch import (
    WatchStarted, ChangesSynced, ChangesQueued, FixRefused, FixRebased, AutoFixToggled, WatchStopped,
)

__all__ = [
    "Record", "Event", "SessionStarted", "SessionResumed", "PlanUpdated", "IterationStarted", "CheckStarted",
    "OutputChunk", "CheckFinished", "FixApplied", "IterationFinished", "Paused", "Resumed", "ModeChanged",
    "DeployReady", "Deployed", "DeployRefused", "Undone", "UndoRefused", "RecheckStarted",
    "RecheckFinished", "FeedbackGiven", "Finished", "Error", "ModelRequested", "ModelDelta", "ModelResponded",
    "ModelRetrying",
    "ToolCallRequested", "ToolCallDecided", "ToolCallFinished", "ToolProgress", "WatchStarted", "ChangesSynced",
    "ChangesQueued", "FixRefused", "FixRebased", "AutoFixToggled", "WatchStopped", "EnvDetected", "EnvStep",
    "EnvOutput", "EnvReady", "EnvFailed", "EnvOutdated", "QuestionAsked", "QuestionAnswered", "SamplingSpent",
]
