"""A file's change cut into hunks (the groups a unified diff shows), and the bytes that result from taking only
some of them, or an edited text in place of one: what a per-hunk deploy writes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

TEXT_LIMIT = 4 << 20  # bigger files are taken whole, as the diff shows them as binary
CONTEXT = 3  # lines of context shown around a change, as in `git diff`


class HunkError(ValueError):
    """A selection that does not fit the file's hunks (a stale review, an unknown hunk); nothing is deployed."""


@dataclass(frozen=True)
class Hunk:
    """Lines [a0, a1) of the old file become lines [b0, b1) of the new one; `text` is the hunk as a diff shows it."""

    a0: int
    a1: int
    b0: int
    b1: int
    text: str

    def new_text(self, new: list[str]) -> str:
        return "".join(new[self.b0:self.b1])

    def new_text_of(self, data: bytes) -> str:
        return self.new_text(lines(data) or [])


def lines(data: bytes) -> list[str] | None:
    """The file's lines (line ends kept), or None when it is not text (binary, not UTF-8): taken whole or not."""
    if len(data) > TEXT_LIMIT or b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _shown(a: list[str], b: list[str], a0: int, a1: int, b0: int, b1: int) -> str:
    out = [f"@@ -{a0 + 1},{a1 - a0} +{b0 + 1},{b1 - b0} @@\n"]
    matcher = difflib.SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag == "equal":
            out += [" " + line for line in a[a0 + i0:a0 + i1]]
            continue
        out += ["-" + line for line in a[a0 + i0:a0 + i1]]
        out += ["+" + line for line in b[b0 + j0:b0 + j1]]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def split(a: list[str], b: list[str]) -> list[Hunk]:
    """The hunks that turn `a` into `b`, in order, one per changed run of lines (as `git add -p` splits them), each
    shown with up to CONTEXT lines around it; each can be taken or left alone independently."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a0, a1 = max(0, i1 - CONTEXT), min(len(a), i2 + CONTEXT)
        b0, b1 = j1 - (i1 - a0), j2 + (a1 - i2)
        hunks.append(Hunk(i1, i2, j1, j2, _shown(a, b, a0, a1, b0, b1)))
    return hunks


def compose(a: list[str], b: list[str], accepted: dict[int, str | None]) -> bytes:
    """`a` with the accepted hunks of split(a, b) applied: {index: None (as proposed) or the edited new text}."""
    hunks = split(a, b)
    unknown = [i for i in accepted if not 0 <= i < len(hunks)]
    if unknown:
        raise HunkError(f"no hunk {unknown[0] + 1} in this change (it has {len(hunks)}): review it again")
    out: list[str] = []
    at = 0
    for i, hunk in enumerate(hunks):
        if i not in accepted:
            continue
        out += a[at:hunk.a0]
        edited = accepted[i]
        out.append(hunk.new_text(b) if edited is None else edited)
        at = hunk.a1
    out += a[at:]
    return "".join(out).encode("utf-8")
