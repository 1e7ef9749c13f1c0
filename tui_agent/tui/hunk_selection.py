"""What the person accepted in the per-hunk review (files, hunks, edits), as the Deploy and Feedback commands take
it; Sender, how the review's screens send them (the main screen's send, handed down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from tui_agent.commands import Command, Deploy, Reply


class Sender(Protocol):
    """MainScreen.send: the command to the run; unless warn is False, a refusal is said in a notification."""

    def __call__(self, command: Command, *, warn: bool = True) -> Reply: ...


@dataclass
class Selection:
    """The review (DeployReady.review) and the person's choices; flagged files start rejected, others accepted."""

    review: tuple
    hunks: dict[tuple[int, int], bool] = field(default_factory=dict)  # (file, hunk) -> accepted
    files: dict[int, bool] = field(default_factory=dict)  # file -> accepted (files taken whole)
    edits: dict[tuple[int, int], str] = field(default_factory=dict)  # (file, hunk) -> the person's new text

    def __post_init__(self) -> None:
        for i, (_, _, _, flagged, hunks) in enumerate(self.review):
            self.files[i] = not flagged
            for j in range(len(hunks)):
                self.hunks[i, j] = not flagged

    def set_file(self, i: int, accepted: bool) -> None:
        self.files[i] = accepted
        for j in range(len(self.review[i][4])):
            self.hunks[i, j] = accepted

    def set_hunk(self, i: int, j: int, accepted: bool) -> None:
        self.hunks[i, j] = accepted
        self.files[i] = any(self.hunks[i, k] for k in range(len(self.review[i][4])))

    def command_hunks(self) -> tuple:
        """The Deploy command's `hunks`: each accepted file, whole or with its accepted (and edited) hunks."""
        out: list[tuple] = []
        for i, (path, _, sha, _, hunks) in enumerate(self.review):
            if not self.files[i]:
                continue
            if hunks and not all(self.hunks[i, j] and (i, j) not in self.edits for j in range(len(hunks))):
                out.append((path, sha, tuple((j, self.edits.get((i, j))) for j in range(len(hunks))
                                             if self.hunks[i, j])))
            else:
                out.append((path, sha, "all"))
        return tuple(out)

    def deploy(self, *, recheck: bool = True) -> Deploy:
        """The Deploy command of what is accepted."""
        return Deploy(self.include(), hunks=self.command_hunks(), recheck=recheck)

    def include(self) -> tuple[str, ...]:
        """Flagged files the person accepted (they go only when named)."""
        return tuple(r[0] for i, r in enumerate(self.review) if r[3] and self.files[i])

    def rejected(self, reason: str) -> tuple:
        """The Feedback command's notes: every rejected hunk (or file taken whole) with the person's reason."""
        notes = []
        for i, (path, kind, _, _, hunks) in enumerate(self.review):
            if not hunks and not self.files[i]:
                notes.append((path, f"(the whole {kind} file)", reason))
            notes += [(path, text, reason) for j, (text, _) in enumerate(hunks) if not self.hunks[i, j]]
        return tuple(notes)

    def counts(self) -> tuple[int, int]:
        """(accepted, total) over hunks and whole files."""
        items = [self.hunks[i, j] for i, r in enumerate(self.review) for j in range(len(r[4]))]
        items += [self.files[i] for i, r in enumerate(self.review) if not r[4]]
        return sum(items), len(items)

