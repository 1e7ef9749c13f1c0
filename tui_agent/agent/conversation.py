"""The model conversation, rebuilt from events: the same code path live, on resume and on replay."""

from __future__ import annotations

from importlib import resources

from tui_agent.events import (
    CheckFinished, Event, FeedbackGiven, ModelResponded, PlanUpdated, SessionStarted, ToolCallFinished,
)


def system_prompt(goal: str, check: str, pass_pattern: str | None) -> str:
    template = resources.files("tui_agent.prompts").joinpath("system.md").read_text()
    note = f" and its output matches the pattern `{pass_pattern}`" if pass_pattern else ""
    return template.format(goal=goal, check=check, pattern_note=note)


def check_report(event: CheckFinished, check: str) -> str:
    if event.error:
        return f"The check `{check}` could not run: {event.error}"
    if event.timed_out:
        status = "was killed after its time limit"
    elif event.passed:
        status = "passed"
    else:
        status = f"failed (exit code {event.exit_code})"
    label = "before any change" if event.iteration == 0 else f"after iteration {event.iteration}"
    body = event.output_tail.strip() or "(no output)"
    return f"The check `{check}` {status} {label}. Its output:\n```\n{body}\n```"


class Conversation:
    """Anthropic-format messages built by applying the loop's events in order."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.plan: tuple = ()
        self.check = ""
        self.goal = ""

    def apply(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self.goal, self.check = event.goal, event.check
            self._user_text(f"Goal: {event.goal}")
        elif isinstance(event, PlanUpdated):
            self.plan = event.steps
        elif isinstance(event, ModelResponded):
            self.messages.append({"role": "assistant", "content": list(event.content)})
        elif isinstance(event, ToolCallFinished):
            content: object = event.result
            if event.images:
                content = [{"type": "text", "text": event.result}, *(dict(i) for i in event.images)]
            block: dict[str, object] = {"type": "tool_result", "tool_use_id": event.call_id, "content": content}
            if event.is_error:
                block["is_error"] = True
            self._user_block(block)
        elif isinstance(event, CheckFinished):
            text = check_report(event, self.check)
            if self.plan and not event.passed:
                steps = "\n".join(f"- [{s['status']}] {s['title']}" for s in self.plan)
                text += f"\n\nYour current plan:\n{steps}"
            self._user_text(text)
        elif isinstance(event, FeedbackGiven):
            self._user_text(event.text)

    def _user_block(self, block: dict) -> None:
        if not self.messages or self.messages[-1]["role"] != "user":
            self.messages.append({"role": "user", "content": []})
        self.messages[-1]["content"].append(block)

    def _user_text(self, text: str) -> None:
        self._user_block({"type": "text", "text": text})

    @property
    def awaiting_model(self) -> bool:
        """True when the last message is the person's (tool results or a check report)."""
        return bool(self.messages) and self.messages[-1]["role"] == "user"
