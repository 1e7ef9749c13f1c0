"""What reaches a terminal: sandbox output without control sequences (SGR kept); any string with them shown."""

from __future__ import annotations

import re

# ESC-based sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), DCS/SOS/PM/APC (ESC P/X/^/_ ... ST),
# and two-byte escapes. 8-bit C1 controls (0x80-0x9f) are removed as well.
_CSI = r"\x1b\[[0-?]*[ -/]*[@-~]"
_STRING = r"\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"
_TWO = r"\x1b[ -/]*[0-~]"
_SEQ = re.compile(f"({_CSI})|{_STRING}|{_TWO}|\x1b", re.DOTALL)
_SGR = re.compile(r"\x1b\[[0-9;:]*m\Z")
_CONTROL = re.compile(r"[\x00-\x06\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")  # not BEL, not ESC: see below


def _keep_sgr(match: re.Match[str]) -> str:
    csi = match.group(1)
    return csi if csi is not None and _SGR.match(csi) else ""


def sanitize(text: str, keep_colour: bool = True) -> str:
    """Return `text` safe to render in a terminal: only SGR colour sequences survive (if asked)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # BEL and ESC survive the first pass because they terminate or start sequences
    return _SEQ.sub(_keep_sgr if keep_colour else "", text).replace("\x07", "")


# Shown, never interpreted: C0 controls (but newline and tab), DEL, C1, and the bidi controls that reorder what a
# person reads (U+061C, U+200E/200F, U+202A-202E, U+2066-2069), plus the line/paragraph separators U+2028/2029.
_HIDDEN = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_SHOWN = re.compile(f"[{_HIDDEN}]")
_SHOWN_LINE = re.compile(f"[{_HIDDEN}\n\t]")
_SGR_ANY = re.compile(r"(\x1b\[[0-9;:]*m)")


def escape_char(ch: str) -> str:
    """The visible spelling of one hidden character: `\\x1b`, `\\u202e`, `\\n`."""
    code = ord(ch)
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def pieces(text: str, *, newlines: bool = True) -> list[tuple[str, bool]]:
    """`text` cut into (chunk, is_escape) pieces: every hidden character becomes its own visible escape."""
    pattern = _SHOWN if newlines else _SHOWN_LINE
    out: list[tuple[str, bool]] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            out.append((text[at:match.start()], False))
        out.append((escape_char(match.group()), True))
        at = match.end()
    if at < len(text):
        out.append((text[at:], False))
    return out


def visible(text: object, *, newlines: bool = True, keep_sgr: bool = False) -> str:
    """`text` safe to show on a terminal: hidden characters spelled out (`\\x1b]0;…`), nothing dropped.

    With `keep_sgr`, SGR colour sequences (a check's colours) stay as they are; every other one is spelled out.
    With `newlines=False` the result is one line (newlines and tabs spelled out too)."""
    text = str(text)
    if keep_sgr:
        parts = _SGR_ANY.split(text)
        return "".join(p if n % 2 else visible(p, newlines=newlines) for n, p in enumerate(parts))
    return "".join(chunk for chunk, _ in pieces(text, newlines=newlines))


def one_line(text: object, limit: int = 2000) -> str:
    """A message for one line on stderr: hidden characters and newlines spelled out, at most `limit` characters."""
    shown = visible(text, newlines=False)
    return shown if len(shown) <= limit else shown[:limit] + f"… ({len(shown) - limit} more characters)"


def json_visible(text: str) -> str:
    """JSON text (ensure_ascii=False) with every hidden character as its `\\uXXXX` escape: same value, shown."""
    return _SHOWN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
