"""Breakpoints.remove: each spec that specs() gives can be taken away again; an unknown one is reported."""

from __future__ import annotations

from tui_agent.agent.breakpoints import Breakpoints


def test_remove_every_kind():
    specs = ["tool", "tool:edit_file", "tool:run_command(pytest *)", "check", "failure", "spend:0.5", "iteration:3"]
    points = Breakpoints.parse(specs)
    assert points.specs() == specs
    for spec in points.specs():
        assert points.remove(spec), spec
    assert points.specs() == []
    assert not points.remove("iteration:3") and not points.remove("spend:1") and not points.remove("nonsense")


def test_remove_one_rule_keeps_the_others():
    points = Breakpoints.parse(["tool:edit_file", "tool:write_file", "iteration:2", "iteration:4"])
    assert points.remove("tool:edit_file") and points.remove("iteration:4")
    assert points.specs() == ["tool:write_file", "iteration:2"]
    assert points.at_tool("edit_file", {"path": "a"}) is None

