"""Fork: from iteration K of a session, a new linked session starts from exactly the files of iteration K."""

from test_resume import FIX_AVERAGE, FIX_DIVIDE

from tui_agent.sessions.recorder import read_records

from loop_fixtures import cli, copy_example, events, of_type, script, tree


def test_fork_starts_from_the_files_of_iteration_k(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    sessions = tmp_path / "sessions"
    parent_model = script(tmp_path, [{"tool_calls": [FIX_DIVIDE]}, {"text": "1"},
                                     {"tool_calls": [FIX_AVERAGE]}, {"text": "2"}], "parent.json")
    done = cli("run", str(project), "--check", "python3 -m unittest", "--model", parent_model, "--headless",
               "--allow", "edit_file", "--sessions", str(sessions))
    assert done.returncode == 0, done.stderr
    parent = next(sessions.iterdir())

    probe = script(tmp_path, [{"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
                              {"text": "looked"}], "fork.json")
    done = cli("resume", str(parent), "--fork-at", "1", "--model", probe, "--headless", "--max-iterations", "2",
               "--sessions", str(sessions))
    assert done.returncode == 1, done.stderr  # the fork's model changes nothing: stopped at max iterations
    printed = events(done.stdout)
    assert printed[0] == {**printed[0], "type": "session_resumed", "iteration": 1}
    seen = of_type(printed, "tool_call_finished")[0]["result"]
    assert "if b == 0" in seen, "iteration 1's fix is there"
    assert "len(numbers) + 1" in seen, "iteration 2's fix is not"

    fork = next(p for p in sessions.iterdir() if p != parent)
    records = read_records(fork / "events.jsonl")
    assert records[0]["type"] == "session_started"
    assert (records[0]["parent"], records[0]["fork_at"], records[0]["session_id"]) == (parent.name, 1, fork.name)
    assert read_records(parent / "events.jsonl")[-1]["type"] == "finished", "the parent is untouched"
    assert tree(project) == before


def test_fork_at_a_missing_iteration_is_bad_input(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    sessions = tmp_path / "sessions"
    model = script(tmp_path, [{"text": "nothing"}])
    cli("run", str(project), "--check", "python3 -m unittest", "--model", model, "--headless",
        "--max-iterations", "1", "--sessions", str(sessions))
    parent = next(sessions.iterdir())
    done = cli("resume", str(parent), "--fork-at", "7", "--headless", "--sessions", str(sessions))
    assert done.returncode == 2 and "has no iteration 7" in done.stderr


def test_sessions_lists_goal_outcome_iterations_and_forks(tmp_path):
    project = copy_example("calculator", tmp_path / "proj")
    sessions = tmp_path / "sessions"
    model = script(tmp_path, [{"text": "nothing"}] * 3)
    cli("run", str(project), "--goal", "list me", "--check", "python3 -m unittest", "--model", model,
        "--headless", "--max-iterations", "1", "--sessions", str(sessions))
    parent = next(sessions.iterdir())
    cli("resume", str(parent), "--fork-at", "0", "--headless", "--sessions", str(sessions))
    listing = cli("sessions", "--sessions", str(sessions))
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:5] == ["DATE", "OUTCOME", "ITER", "COST", "GOAL"]
    assert len(lines) == 3 and all("list me" in line for line in lines[1:])
    assert any(f"(fork of {parent.name})" in line for line in lines) and any(" stopped " in line for line in lines)
