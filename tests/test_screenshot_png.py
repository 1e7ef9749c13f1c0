"""The screenshots' PNGs (scripts/screenshots.py): each character at its own cell, so that a renderer ignoring
textLength (cairosvg) draws a box's long border run to the corner that ends it, as the terminal and a browser do."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "screenshots.py"
ROW = ('<text class="r5" x="12.2" y="44.4" textLength="36.6" clip-path="url(#l1)">─&#160;─</text>'
       '<text class="r5" x="48.8" y="44.4" textLength="12.2" clip-path="url(#l1)">╮</text>')


def per_cell():
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.per_cell


def test_a_run_becomes_one_text_per_cell_and_the_corner_stays_where_it_was():
    out = per_cell()(ROW + '<style>.m { font-family: Fira Code, monospace; }</style>')
    glyphs = re.findall(r'x="([\d.]+)" y="44.4" textLength="([\d.]+)" clip-path="url\(#l1\)">([^<]*)<', out)
    assert glyphs == [("12.2", "12.2", "─"), ("36.6", "12.2", "─"), ("48.8", "12.2", "╮")], "the space is skipped"
    assert "font-family: monospace;" in out


def test_wide_characters_take_two_cells_and_markup_stays_escaped():
    out = per_cell()('<text class="r1" x="0" y="20" textLength="48.8">日&lt;b</text>')
    assert re.findall(r'x="([\d.]+)" y="20" textLength="([\d.]+)">([^<]*)<', out) == [
        ("0.0", "24.4", "日"), ("24.4", "12.2", "&lt;"), ("36.6", "12.2", "b")]
