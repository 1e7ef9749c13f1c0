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


# --- any other string that reaches a terminal: hidden characters shown, nothing dropped ----------------------

from tui_agent.sanitize import json_visible, one_line, pieces, visible  # noqa: E402


def test_osc_sequences_are_spelled_out_not_removed():
    assert visible("ok\x1b]0;title\x1b\\ x\x1b]52;c;QQ==\x07") == "ok\\x1b]0;title\\x1b\\ x\\x1b]52;c;QQ==\\x07"


def test_c1_and_bidi_controls_are_spelled_out():
    hidden = "\x9b\x85\u202e\u202a\u2066\u2069\u200e\u200f\u061c\u2028\x7f\x00"
    assert visible(hidden) == "\\x9b\\x85\\u202e\\u202a\\u2066\\u2069\\u200e\\u200f\\u061c\\u2028\\x7f\\x00"


def test_newlines_and_tabs_stay_unless_one_line_is_asked():
    assert visible("a\n\tb\r") == "a\n\tb\\r"
    assert visible("a\n\tb", newlines=False) == "a\\n\\tb"
    assert one_line("x" * 10 + "\n", limit=5) == "xxxxx… (7 more characters)"


def test_ordinary_unicode_is_left_alone():
    assert visible("héllo — 日本 ✓ 🙂") == "héllo — 日本 ✓ 🙂"


def test_sgr_colours_can_stay_while_everything_else_is_shown():
    assert visible("\x1b[1;31mred\x1b[0m\x1b[2J\u202e", keep_sgr=True) == "\x1b[1;31mred\x1b[0m\\x1b[2J\\u202e"


def test_visible_is_idempotent():
    once = visible("\x1b]0;t\x07\u202e")
    assert visible(once) == once


def test_pieces_mark_the_escapes():
    assert pieces("a\x1bb") == [("a", False), ("\\x1b", True), ("b", False)]


def test_json_visible_keeps_the_value():
    import json
    value = {"command": "echo ok\x1b]0;t\x1b\\\u202e\x9b"}
    text = json_visible(json.dumps(value, ensure_ascii=False))
    assert "\x1b" not in text and "\u202e" not in text and json.loads(text) == value


def test_safe_text_escapes_every_appended_string_and_keeps_markup_as_text():
    from tui_agent.tui.safe import ESCAPE_STYLE, SafeText, safe

    text = SafeText("[bold]x[/]\x1b", style="red").append("\u202e", style="bold")
    assert text.plain == "[bold]x[/]\\x1b\\u202e"
    assert any(ESCAPE_STYLE in str(span.style) for span in text.spans)
    assembled = SafeText.assemble(("a\x9b", "dim"), "b\x07")
    assert assembled.plain == "a\\x9bb\\x07"
    assert safe("a\nb", newlines=False).plain == "a\\nb"
