"""Session files: one JSON event per line, round-trip, a torn last line is ignored."""

import os

import pytest

from tui_agent.config import ConfigError
from tui_agent.events import CheckFinished, ModelDelta, OutputChunk, PlanUpdated
from tui_agent.sessions.recorder import SessionRecorder, find_session, read_events

pytestmark = pytest.mark.unit


def test_round_trip_and_skips_deltas(tmp_path):
    rec = SessionRecorder(tmp_path)
    events = [PlanUpdated(({"title": "a", "status": "done"},)), OutputChunk(1, "stdout", "hi\n"),
              ModelDelta(1, "tok"), CheckFinished(1, 0, True, 0.5)]
    for e in events:
        rec.write(e)
    rec.close()
    assert read_events(tmp_path) == [events[0], events[1], events[3]]


def test_a_line_cut_by_a_kill_is_ignored(tmp_path):
    rec = SessionRecorder(tmp_path)
    rec.write(PlanUpdated(()))
    rec.close()
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write('{"type": "check_fini')
    assert read_events(tmp_path) == [PlanUpdated(())]


def test_garbage_is_a_clear_error(tmp_path):
    (tmp_path / "events.jsonl").write_text("hello\n")
    with pytest.raises(ConfigError, match="events.jsonl:1"):
        read_events(tmp_path)


def test_find_session_by_name_dir_or_file(tmp_path):
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "events.jsonl").write_text("")
    assert find_session("s1", tmp_path) == tmp_path / "s1"
    assert find_session(str(tmp_path / "s1" / "events.jsonl"), tmp_path) == tmp_path / "s1"
    with pytest.raises(ConfigError, match="no session"):
        find_session("nope", tmp_path)
    assert os.stat(tmp_path / "s1" / "events.jsonl")
