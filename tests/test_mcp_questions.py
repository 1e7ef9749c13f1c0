"""Elicitation forms from their schema, typed answers, URL domains; a result without resultType reads as complete."""

from __future__ import annotations

import pytest
from mcp.shared.message import SessionMessage
from mcp_types.jsonrpc import JSONRPCResponse

from tui_agent.tools.mcp.questions import Elicitation, FormField, coerce, form_fields
from tui_agent.tools.mcp.support import complete_by_default

pytestmark = pytest.mark.unit

SCHEMA = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "title": "Name"},
    "age": {"type": "integer", "default": 30},
    "color": {"type": "string", "enum": ["red", "green"], "default": "green"},
    "hero": {"type": "string", "oneOf": [{"const": "h1", "title": "One"}, {"const": "h2", "title": "Two"}]},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}, "default": ["a"]},
    "ok": {"type": "boolean"},
}}


def test_a_form_from_its_schema_with_defaults_and_choices():
    fields = {f.name: f for f in form_fields(SCHEMA)}
    assert fields["name"].required and fields["name"].label == "Name" and fields["name"].kind == "string"
    color = fields["color"]
    assert (color.kind, color.choices, color.default) == ("enum", ("red", "green"), "green")
    assert fields["hero"].choices == ("h1", "h2") and fields["tags"].kind == "multi"
    question = Elicitation("srv", "Who?", fields=tuple(fields.values()))
    assert question.defaults() == {"age": 30, "color": "green", "tags": ["a"]}
    assert form_fields(None) == () and form_fields({"properties": "nonsense"}) == ()


def test_typed_answers_and_clear_refusals():
    assert coerce(FormField("n", "integer"), " 42 ") == 42
    assert coerce(FormField("x", "number"), "3.5") == 3.5
    assert coerce(FormField("b", "boolean"), "yes") is True
    assert coerce(FormField("t", "multi", choices=("a", "b")), "a, b") == ["a", "b"]
    with pytest.raises(ValueError, match="color: 'blue' is not a valid enum \\(one of red, green\\)"):
        coerce(FormField("color", "enum", choices=("red", "green")), "blue")
    with pytest.raises(ValueError):
        coerce(FormField("n", "integer"), "many")


def test_a_url_question_shows_its_domain():
    assert Elicitation("srv", "Sign in", "url", url="https://login.example.org:8443/a?b").domain == "login.example.org"
    assert Elicitation("srv", "Sign in", "url", url="not a url").domain == ""


def test_a_result_without_result_type_is_complete_and_one_with_it_is_kept():
    bare = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=1, result={"tools": []}))
    complete_by_default(bare)
    assert bare.message.result["resultType"] == "complete"
    asked = SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=2, result={"resultType": "input_required"}))
    complete_by_default(asked)
    assert asked.message.result["resultType"] == "input_required"


def test_numbers_are_checked_against_the_schemas_bounds():
    field_ = form_fields({"properties": {"n": {"type": "integer", "title": "N", "minimum": 1, "maximum": 100}}})[0]
    assert (field_.minimum, field_.maximum) == (1, 100) and coerce(field_, "100") == 100
    for text, said in (("0", "N: 0 is out of range (1 to 100)"), ("x", "N: 'x' is not a valid integer")):
        try:
            coerce(field_, text)
        except ValueError as exc:
            assert str(exc) == said
        else:
            raise AssertionError(f"{text!r} was taken")
