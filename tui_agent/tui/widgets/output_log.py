"""OutputLog: a fast, bounded line log that keeps SGR colours; text is appended in batches."""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING, Iterable, Iterator

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_agent.sanitize import visible
from tui_agent.tui.palette import RESET, sgr
from tui_agent.tui.said import Heading

if TYPE_CHECKING:
    from tui_agent.events import Event

_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def visible_width(line: str) -> int:
    if "\x1b" in line:
        line = _SGR.sub("", line)
    return len(line) if line.isascii() else cell_len(line)


def grouped(events: Iterable[Event]) -> Iterator[str | Event]:
    """The events in order, with each run of consecutive OutputChunks joined into one string (one log write)."""
    from tui_agent.events import OutputChunk  # loaded with the first events, after the first paint

    text: list[str] = []
    for event in events:
        if isinstance(event, OutputChunk):
            text.append(event.text)
            continue
        if text:
            yield "".join(text)
            text = []
        yield event
    if text:
        yield "".join(text)


class OutputLog(ScrollView, can_focus=True):
    """Lines are stored raw (with their SGR codes) and turned into styled strips only when visible."""

    DEFAULT_CSS = """
    OutputLog {
        background: $surface;
        color: $text;
        overflow: auto;
        &:focus { background-tint: $foreground 5%; }
    }
    """

    def __init__(self, max_lines: int = 20_000, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._first = 0  # absolute number of the oldest kept line
        self._open = False  # the last line has no newline yet
        self._width = 0
        self._strips: LRUCache[int, Strip] = LRUCache(2048)
        self.marks: dict[str, int] = {}  # name -> absolute line number
        self.total_chars = 0

    # --- writing -------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    def append(self, text: str) -> None:
        """Append text that may hold many lines and end in the middle of one (one refresh per call)."""
        if not text:
            return
        self.total_chars += len(text)
        lines = self._lines
        at_end = self.is_vertical_scroll_end or self.scroll_y >= self.max_scroll_y - 1
        parts = text.split("\n")
        width = self._width
        if self._open and lines:
            lines[-1] += parts[0]
            self._strips.discard(self._first + len(lines) - 1)
            width = max(width, visible_width(lines[-1]))
            new = parts[1:]
        else:
            new = parts
        if new and new[-1] == "":
            new.pop()
            self._open = False
        elif new:
            self._open = True
        if new:
            if text.isascii():  # one pass over the whole batch: an ASCII line is as wide as it is long, sans SGR
                plain = _SGR.sub("", text) if "\x1b" in text else text
                width = max(width, max(map(len, plain.split("\n"))))
            else:
                width = max(width, max(map(visible_width, new)))
            dropped = max(0, len(lines) + len(new) - self.max_lines)
            lines.extend(new)
            self._first += dropped
            if dropped and not at_end:
                self.scroll_to(y=max(0, self.scroll_y - dropped), animate=False, immediate=True)
        self._width = width
        self.virtual_size = Size(width, len(lines))
        if at_end:
            self.scroll_end(animate=False, x_axis=False)  # after the next refresh: works before the first layout
        self.refresh()

    def heading(self, text: str, mark: str | None = None) -> None:
        """Start a new line with `text` (may hold SGR codes); `mark` remembers where it is."""
        if self._open:
            self._open = False
        if mark is not None:
            self.marks[mark] = self._first + len(self._lines)
        self.append(text + "\n")

    def write_heading(self, heading: Heading) -> None:
        """A narration heading, in the theme's colour for its role."""
        self.heading(sgr(self.app, heading.role) + visible(heading.text, newlines=False) + RESET, mark=heading.mark)

    def jump(self, mark: str) -> bool:
        """Scroll so the marked line is at the top; False when it was never written or already dropped."""
        line = self.marks.get(mark)
        if line is None or line < self._first:
            return False
        self.scroll_to(y=line - self._first, animate=False, immediate=True)
        return True

    def clear(self) -> None:
        self._first += len(self._lines)
        self._lines.clear()
        self._open, self._width = False, 0
        self._strips.clear()
        self.virtual_size = Size(0, 0)
        self.refresh()

    # --- rendering -----------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        rich_style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, rich_style)
        absolute = self._first + index
        strip = self._strips.get(absolute)
        if strip is None:
            text = Text.from_ansi(visible(self._lines[index], keep_sgr=True).expandtabs(), no_wrap=True, end="")
            text.stylize_before(rich_style)
            strip = Strip(text.render(self.app.console), text.cell_len)
            self._strips[absolute] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style)
