"""Sandbox output is sanitised: colours kept, everything that could drive the terminal removed."""

import pytest

from tui_agent.sanitize import sanitize

pytestmark = pytest.mark.unit


def test_colours_survive():
    assert sanitize("\x1b[1;31mred\x1b[0m") == "\x1b[1;31mred\x1b[0m"


def test_colours_can_be_dropped():
    assert sanitize("\x1b[31mred\x1b[0m", keep_colour=False) == "red"


def test_screen_and_cursor_control_removed():
    assert sanitize("a\x1b[2J\x1b[H\x1b[?1049hb\x1b[10;10Hc") == "abc"


def test_osc_title_and_hyperlink_removed():
    assert sanitize("\x1b]0;pwned\x07x\x1b]8;;http://e.vil\x1b\\link\x1b]8;;\x1b\\") == "xlink"


def test_dcs_and_c1_controls_removed():
    assert sanitize("a\x1bP+q544e\x1b\\b\x9b2Jc\x90x") == "ab2Jcx"


def test_carriage_returns_become_newlines_and_nul_goes():
    assert sanitize("50%\r100%\r\nend\x00\x08") == "50%\n100%\nend"


def test_escape_split_by_a_control_char_cannot_reassemble():
    assert "\x1b" not in sanitize("\x1b\x00[2J")
