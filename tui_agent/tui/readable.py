"""JSON-able data as readable rich Text: keys in bold, multi-line strings as indented blocks, matches highlighted."""

from __future__ import annotations

import json
import re

from tui_agent.tui.safe import SafeText

BAR = "│ "


def _scalar(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _lines(text: SafeText, value, pad: str) -> None:
    """Append `value` below a key (already written) at indentation `pad`."""
    if isinstance(value, dict):
        for key, item in value.items():
            _entry(text, str(key), item, pad)
    elif isinstance(value, (list, tuple)):
        if not value:
            text.append(pad + "(none)\n", style="dim")
        for index, item in enumerate(value):
            text.append(f"{pad}[{index}]", style="dim")
            if isinstance(item, dict) and item:
                first, rest = next(iter(item.items())), dict(list(item.items())[1:])
                text.append(" ")
                _entry(text, str(first[0]), first[1], pad + "  ", inline=True)
                _lines(text, rest, pad + "  ")
            elif isinstance(item, (dict, list, tuple)):
                text.append("\n")
                _lines(text, item, pad + "  ")
            else:
                text.append(" ")
                _block(text, _scalar(item), pad + "  ", inline=True)


def _entry(text: SafeText, key: str, value, pad: str, inline: bool = False) -> None:
    text.append(("" if inline else pad) + key + ":", style="bold")
    if isinstance(value, (dict, list, tuple)) and value:
        text.append("\n")
        _lines(text, value, pad + "  ")
    elif isinstance(value, (dict, list, tuple)):
        text.append(" (none)\n", style="dim")
    else:
        text.append(" ")
        _block(text, _scalar(value), pad + "  ", inline=True)


def _block(text: SafeText, value: str, pad: str, inline: bool) -> None:
    if "\n" not in value.rstrip("\n"):
        text.append(value.rstrip("\n") + "\n")
        return
    text.append("\n")
    for line in value.rstrip("\n").split("\n"):
        text.append(pad + BAR, style="dim").append(line + "\n")


def readable(data, highlight: str = "", style: str = "black on yellow") -> SafeText:
    """The whole of `data` (nothing cut), with every case-insensitive match of `highlight` marked."""
    text = SafeText()
    _lines(text, data, "")
    text.rstrip()
    if highlight:
        text.highlight_regex(re.compile(re.escape(highlight), re.IGNORECASE), style)
    return text


def matches(data, query: str) -> bool:
    """Whether the readable text (or the JSON) of `data` contains `query`, ignoring case."""
    if not query:
        return True
    needle = query.lower()
    return needle in readable(data).plain.lower() or needle in json.dumps(data, ensure_ascii=False).lower()


def as_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
