"""Remove terminal control sequences from sandbox output, keeping SGR colours, newlines and tabs."""

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
