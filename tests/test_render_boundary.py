"""A mechanical guard of the rendering boundary: in tui/, rich Text is built only through SafeText (safe.py) and
no widget is handed a formatted string (it would be read as markup, its control characters sent as they are)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TUI = Path(__file__).resolve().parent.parent / "tui_agent" / "tui"
RAW_TEXT_ALLOWED = {"safe.py", "output_log.py"}  # output_log passes every line through visible() before from_ansi
TAKES_TEXT = {"update", "Label", "Static", "Option"}


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        builds_text = (isinstance(func, ast.Name) and func.id == "Text") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "Text")
        if builds_text and path.name not in RAW_TEXT_ALLOWED:
            found.append(f"{path.name}:{node.lineno}: rich Text built directly (use SafeText / safe)")
        if _name(func) in TAKES_TEXT and node.args and isinstance(node.args[0], ast.JoinedStr):
            found.append(f"{path.name}:{node.lineno}: a formatted string handed to {_name(func)} (use safe(...))")
    return found


def test_widgets_get_text_only_through_the_sanitiser():
    offences = [o for path in sorted(TUI.rglob("*.py")) for o in _offences(path)]
    assert offences == []
