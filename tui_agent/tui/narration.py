"""What a person must not miss, from the events: headings in the output log and notifications (plain data)."""

from __future__ import annotations

from tui_agent.events import (
    AutoFixToggled, ChangesQueued, ChangesSynced, CheckFinished, CheckStarted, Deployed, DeployReady, DeployRefused,
    EnvDetected, EnvFailed, EnvOutdated, EnvOutput, EnvReady, EnvStep, Error, Event, Finished, FixRebased, FixRefused,
    IterationStarted, Paused, QuestionAnswered, QuestionAsked, RecheckStarted, ToolCallDecided, ToolProgress, Undone,
    UndoRefused,
)
from tui_agent.tui.said import Heading, LogText, Notice, Said
from tui_agent.tui.state import RunState

ASKED = {"form": "a form to fill in", "url": "a URL to open", "sampling": "to use your model (sampling)"}


def check_heading(event: CheckStarted | CheckFinished, what: str) -> Heading:
    if isinstance(event, CheckStarted):
        return Heading(f"── {what}: {event.command} ({event.sandbox})", "strong", f"check-{event.iteration}")
    extra = " · timed out" if event.timed_out else (f" · {event.error}" if event.error else "")
    verdict = "passed" if event.passed else "failed"
    return Heading(f"── check {verdict}: exit {event.exit_code} in {event.duration_s:.2f} s{extra}",
                   "good" if event.passed else "bad")


def narrate_environment(event: Event) -> list[Said]:
    """The environment's build before the baseline check: its steps and its live install log."""
    if isinstance(event, EnvDetected):
        state = "cached" if event.cached else "building it in the sandbox (network: the package index only)"
        return [Heading(f"── environment: {event.source} ({event.backend}): {state}", "strong", "environment"),
                *(LogText(f"note: {note}\n") for note in event.notes)]
    if isinstance(event, EnvStep):
        return [Heading(f"── environment step: {event.step}")]
    if isinstance(event, EnvOutput):
        return [LogText(event.text + "\n")]
    if isinstance(event, EnvReady):
        took = "" if event.cached else f" in {event.duration_s:.1f} s"
        return [Heading(f"── environment ready: {event.name} ({event.size_mb:.1f} MB){took}", "good")]
    if isinstance(event, EnvFailed):
        return [Heading(f"── environment build failed at step {event.step}", "bad"), Notice(event.message, "error", 60)]
    if isinstance(event, EnvOutdated):
        return [Notice(event.message, "warning", 30)]
    return []


def narrate_sign_in(event: Event) -> list[Said]:
    """OAuth's browser step for an MCP server: the whole URL in the log (to copy), and a notice; no browser."""
    if not (isinstance(event, ToolProgress) and event.source.startswith("mcp:")
            and event.message.startswith("authentication: open ")):
        return []
    server, url = event.source.removeprefix("mcp:"), event.message.removeprefix("authentication: open ")
    return [LogText(f"MCP server {server} asks you to sign in: open {url}\n"),
            Notice(f"MCP server {server} asks you to sign in: the URL is in the log.", "warning", 30)]


def narrate(event: Event, state: RunState, *, replay: bool = False) -> list[Said]:
    """The main screen's headings and notices for one event (already folded into `state`)."""
    if said := narrate_environment(event):
        return said
    if isinstance(event, (CheckStarted, CheckFinished)):
        what = "baseline check" if event.iteration == 0 else f"iteration {event.iteration} check"
        return [check_heading(event, what)]
    if isinstance(event, ToolCallDecided) and event.name == "run_command" and event.decision == "allow":
        call = state.requested.get(event.call_id)
        command = (event.arguments or (call.arguments if call else {})).get("command", "")
        return [Heading(f"── run_command: {command}")]
    if isinstance(event, Paused) and event.reason not in ("person", "step"):
        more = " e edits the call, y allows it," if state.pending and not replay else ""
        return [Notice(f"Paused: {event.reason}.{more} s steps, p resumes, x stops.", "warning", 15)]
    if isinstance(event, (QuestionAsked, QuestionAnswered)):
        return narrate_question(event, replay)
    if said := narrate_sign_in(event):
        return said
    if isinstance(event, Error):
        return [Notice(event.message, "error", 30)]
    if isinstance(event, Deployed):
        return [Notice(f"Deployed {len(event.files)} file(s) into {state.project or 'your folder'}.", timeout=15)]
    if isinstance(event, DeployRefused):
        return [Notice(f"Deploy refused, your folder was not changed: {event.reason}", "error", 60)]
    if isinstance(event, RecheckStarted):
        return [Heading(f"── recheck of the accepted changes ({names(event.files)}): {event.command}")]
    if isinstance(event, Undone):
        return [Notice(f"Undid the {event.of}: {len(event.files)} file(s) back as they were; u again redoes it.",
                       timeout=15)]
    if isinstance(event, UndoRefused):
        return [Notice(f"Undo refused, your folder was not changed: {event.reason}", "error", 60)]
    if isinstance(event, Finished):
        if event.outcome == "error" and event.reason in state.errors:
            return []  # the Error event's notification says it already
        if state.deploy_ready is not None:
            return [Notice("The check passes. Press d to review the changes and deploy them.", timeout=30)]
        met = event.outcome == "met"
        return [Notice(f"Finished ({event.outcome}): {event.reason}", "information" if met else "warning", 30)]
    return []


def narrate_question(event: QuestionAsked | QuestionAnswered, replay: bool) -> list[Said]:
    """A server's question: a heading in the output log and (live) a notice; its answer: a heading."""
    server = event.server[:80]  # the output log and the notices show hidden characters as escapes
    if isinstance(event, QuestionAnswered):
        good = event.action in ("accept", "approve")
        return [Heading(f"── {server} question {event.question_id}: {event.action} ({event.by})", "good" if good
                        else "warn")]
    said: list[Said] = [Heading(f"── MCP server {server} asks for {ASKED.get(event.kind, event.kind)} "
                                f"({event.question_id})", "warn")]
    if not replay:
        said.append(Notice(f"MCP server {server} asks for {ASKED.get(event.kind, event.kind)}: see the "
                           "Permissions panel (4); y answers, n declines.", "warning", 8))
    return said


def names(files: tuple, most: int = 4) -> str:
    return ", ".join(files[:most]) + (f" (+{len(files) - most} more)" if len(files) > most else "")


def narrate_watch(event: Event, project: str) -> list[Said]:
    """The watch screen's headings and notices for one event."""
    if said := narrate_environment(event):
        return said
    if isinstance(event, ChangesSynced):
        files = names(event.files + event.removed)
        return [Heading(f"── changed: {files} (synced in {event.duration_ms:.1f} ms)", "note")]
    if isinstance(event, ChangesQueued):
        return [Heading(f"── queued ({event.reason}): {names(event.paths)}", "warn")]
    if isinstance(event, (CheckStarted, CheckFinished)):
        return [check_heading(event, "check" if event.iteration == 0 else f"fix iteration {event.iteration} check")]
    if isinstance(event, IterationStarted):
        return [Heading(f"── the agent is fixing (iteration {event.iteration})")]
    if isinstance(event, ToolCallDecided) and event.by == "person":
        return [Heading(f"── you chose {event.decision}: {event.name}", "note")]
    if isinstance(event, Finished):
        return [Heading(f"── fix attempt over: {event.outcome} ({event.reason})", "note")]
    if isinstance(event, DeployReady):
        return [Notice("A fix passes the check. Press d to review it and apply it to your folder.", timeout=20)]
    if isinstance(event, FixRebased):
        return [Heading(f"── your edits to {names(event.files)} taken in under the fix; re-checking", "warn")]
    if isinstance(event, FixRefused):
        return [Heading(f"── fix refused: {event.reason}", "bad"), Notice(event.reason, "warning", 30)]
    if isinstance(event, Deployed):
        return [Notice(f"Applied {len(event.files)} file(s) to {project}.", timeout=15)]
    if isinstance(event, DeployRefused):
        return [Notice(f"Not applied, your folder was not changed: {event.reason}", "error", 30)]
    if isinstance(event, Paused):
        return [Notice(f"The fix is paused: {event.reason}. p resumes, x stops it.", "warning", 20)]
    if isinstance(event, AutoFixToggled):
        return [Heading(f"── auto-fix {'on' if event.on else 'off'}", "note")]
    if said := narrate_sign_in(event):
        return said
    if isinstance(event, Error):
        return [Notice(event.message, "error", 30)]
    return []
