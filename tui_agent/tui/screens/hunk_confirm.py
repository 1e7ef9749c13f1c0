"""The per-hunk deploy's confirmation: what will be written, byte for byte (escapes shown), then the recheck of the
accepted subset in the sandbox, live; if it fails, its output stays and the person deploys anyway or goes back."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui_agent.events import Deployed, DeployRefused, OutputChunk, RecheckFinished, RecheckStarted
from tui_agent.tui.hunk_selection import Selection, Sender
from tui_agent.tui.safe import SafeText, safe
from tui_agent.tui.screens.deploy import _clean, _name
from tui_agent.tui.style_paths import style

if TYPE_CHECKING:
    from tui_agent.handle import RunHandle

SHOWN = 64 << 10  # bytes of each file shown in the confirmation
KEPT = 20_000  # characters of the recheck's output kept on screen


def written(files: list[tuple[str, bytes | None]] | None, selection: Selection) -> SafeText:
    """Each file's exact new content (control characters shown as escapes), or the accepted hunks of a replay."""
    text = SafeText()
    if files is None:
        for path, _key, accepted in selection.command_hunks():
            what = "the proposed file" if accepted == "all" else f"hunks {', '.join(str(j + 1) for j, _ in accepted)}"
            text.append(f"{_name(path)}: {what}\n")
        return text
    for path, data in files:
        if data is None:
            text.append(f"{_name(path)}: removed\n\n", style="bold")
            continue
        sha = hashlib.sha256(data).hexdigest()
        text.append(f"{_name(path)}: {len(data)} bytes, sha256 {sha[:16]}…\n", style="bold")
        shown = data[:SHOWN].decode("utf-8", errors="backslashreplace")
        text.append(_clean(shown) + ("" if shown.endswith("\n") else "⏎ (no newline at the end)\n"))
        if len(data) > SHOWN:
            text.append(f"… {len(data) - SHOWN} more bytes not shown\n", style="dim")
        text.append("\n")
    return text


class HunkConfirmScreen(ModalScreen["bool | None"]):
    """`y` rechecks then deploys (after a failed recheck: deploys anyway); escape goes back to the review."""

    CSS_PATH = style("hunks.tcss")
    BINDINGS = [
        Binding("y", "deploy", "Deploy", tooltip="Recheck the accepted subset in the sandbox, then write it"),
        Binding("escape,n", "back", "Back", tooltip="Back to the review; nothing is written"),
    ]

    def __init__(self, selection: Selection, project: str, *, run: RunHandle | None, send: Sender) -> None:
        super().__init__()
        self.selection, self.project, self.run, self.send = selection, project, run, send
        self.phase = "confirm"  # confirm | rechecking | failed | deploying | refused
        self.verdict = False  # the recheck ran and said pass or fail (else it could not run)
        self.output: list[str] = []

    def compose(self) -> ComposeResult:
        files = self.run.deploy_preview(self.selection.deploy()) if self.run is not None else None
        with Vertical(id="hunk-confirm-dialog"):
            yield Label(safe(f"This is what will be written into {self.project}", newlines=False),
                        id="hunk-confirm-title")
            yield Static(SafeText("Before anything is written, the check runs in the sandbox on exactly this."),
                         id="hunk-confirm-status")
            with VerticalScroll(id="hunk-confirm-body"):
                yield Static(written(files, self.selection), id="hunk-confirm-files")
                yield Static(SafeText(""), id="hunk-recheck-output")
            with Horizontal(id="hunk-confirm-buttons"):
                yield Button("Recheck and deploy (y)", variant="success", id="deploy")
                yield Button("Back (esc)", variant="default", id="back")

    def on_mount(self) -> None:
        self.query_one("#hunk-confirm-dialog").border_title = "Deploy the accepted changes"

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#hunk-confirm-status", Static).update(SafeText(text, style=style))

    def action_deploy(self) -> None:
        if self.phase not in ("confirm", "failed"):
            return
        anyway = self.phase == "failed"
        self.phase, self.output, self.verdict = ("deploying" if anyway else "rechecking"), [], False
        self._status("Deploying without a passing recheck…" if anyway else "Rechecking the accepted changes…")
        self.send(self.selection.deploy(recheck=not anyway), warn=False)

    def run_events(self, events: list) -> None:
        """The run's events, as the app receives them: the recheck's output live, then its verdict."""
        for event in events:
            if isinstance(event, RecheckStarted):
                self.output = []
            elif isinstance(event, OutputChunk) and self.phase == "rechecking":
                self.output.append(event.text)
            elif isinstance(event, RecheckFinished):
                self.output, self.verdict = [event.output], True
                self._status("The recheck passes: deploying…" if event.passed else "The check FAILS on the "
                             "accepted changes. Deploy anyway (y) or go back (esc).",
                             "" if event.passed else "bold red")
            elif isinstance(event, Deployed):
                self.app.notify(f"Deployed {len(event.files)} file(s); u undoes it.")
                self.dismiss(True)
                return
            elif isinstance(event, DeployRefused):
                self.phase = "failed" if event.recheck_failed else "refused"
                if event.recheck_failed:
                    self.query_one("#deploy", Button).label = "Deploy anyway (y)"
                    if not self.verdict:  # no engine, say: the one line why, and the person decides
                        self._status(f"{event.reason[:1].upper()}{event.reason[1:]}.", "bold red")
                else:
                    self._status(f"Refused, nothing was written: {event.reason}", "bold red")
        if self.output:
            body = "".join(self.output)[-KEPT:]
            self.query_one("#hunk-recheck-output", Static).update(SafeText(_clean(body)))

    def action_back(self) -> None:
        if self.phase in ("rechecking", "deploying"):
            self.notify("The recheck is running; wait for its verdict.", severity="warning")
            return
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_deploy() if event.button.id == "deploy" else self.action_back()
