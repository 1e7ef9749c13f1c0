"""Rules and modes end to end, on both backends: the README's headless example fixes a project with no --allow flags;
every rm spelling is denied under `run_command(*)` + deny `run_command(rm *)`; writes through a link planted in the
sandbox are denied by a path rule, and a hard link does not carry a write to another name."""

from __future__ import annotations

import re
from pathlib import Path

from loop_fixtures import EXAMPLES, cli, copy_example, events, of_type, script, tree
from test_rules_commands import RM_SPELLINGS

DONE = {"text": "Done."}


def decisions(records: list[dict]) -> dict[str, dict]:
    """Each requested call's arguments with its decision, by call id."""
    asked = {r["call_id"]: r for r in of_type(records, "tool_call_requested")}
    return {d["call_id"]: {**d, "arguments": asked[d["call_id"]]["arguments"]}
            for d in of_type(records, "tool_call_decided")}


def workspace_of(sessions: Path) -> Path:
    return next(sessions.iterdir()) / "workspace"


def test_the_readme_headless_example_fixes_a_project_with_no_allow_flags(backend, tmp_path):
    readme = (EXAMPLES.parent / "README.md").read_text()
    (line,) = [s for s in readme.splitlines() if s.startswith("tui-agent run") and "scripted:fix.json" in s]
    assert line == 'tui-agent run ./project --check "python3 -m unittest" --model scripted:fix.json --headless'
    project = copy_example("calculator", tmp_path / "project")
    before = tree(project)
    done = cli("run", str(project), "--check", "python3 -m unittest", "--model",
               f"scripted:{EXAMPLES / 'calculator' / 'model.json'}", "--headless", "--sandbox", backend,
               "--sessions", str(tmp_path / "sessions"))
    assert done.returncode == 0, done.stderr[-2000:]
    records = events(done.stdout)
    assert of_type(records, "finished")[-1]["outcome"] == "met"
    edits = [d for d in decisions(records).values() if d["name"] == "edit_file"]
    assert edits and all((d["decision"], d["by"]) == ("allow", "mode") for d in edits)
    assert tree(project) == before, "headless never deploys"


def test_every_rm_spelling_is_denied_in_the_sandbox(backend, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "victim").write_text("keep me\n")
    target = re.compile(r"(?<=\s)x(?=$|[\s;)}'\"])")  # the file argument x, not the x of xargs
    calls = [{"name": "run_command", "arguments": {"command": target.sub("victim", c)}} for c in RM_SPELLINGS
             if "\n" not in c]
    calls.append({"name": "run_command", "arguments": {"command": "R=rm; $R victim"}})
    calls.append({"name": "run_command", "arguments": {"command": "cat victim"}})
    done = cli("run", str(project), "--check", "test -f victim", "--model", script(tmp_path, [{"tool_calls": calls},
               DONE]), "--headless", "--sandbox", backend, "--max-iterations", "1", "--sessions",
               str(tmp_path / "sessions"), "--allow", "run_command(*)", "--deny", "run_command(rm *)")
    assert done.returncode == 0, done.stderr[-2000:]
    decided = list(decisions(events(done.stdout)).values())
    assert len(decided) == len(calls)
    for d in decided[:-2]:
        assert (d["decision"], d["rule"]) == ("deny", "run_command(rm *)"), d["arguments"]
    # not literal: it would ask, and headless never asks
    assert (decided[-2]["decision"], decided[-2]["by"]) == ("deny", "headless")
    assert decided[-1]["decision"] == "allow"
    assert (workspace_of(tmp_path / "sessions") / "victim").read_text() == "keep me\n"


def test_writes_through_a_planted_link_are_denied(backend, tmp_path):
    project = tmp_path / "project"
    (project / "secrets").mkdir(parents=True)
    (project / "secrets/key").write_text("old\n")
    calls = [
        {"name": "run_command", "arguments": {"command": "ln -s secrets s && ln secrets/key hard"}},
        {"name": "write_file", "arguments": {"path": "s/key", "content": "pwned\n"}},
        {"name": "edit_file", "arguments": {"path": "s/key", "old_string": "old", "new_string": "pwned"}},
        {"name": "write_file", "arguments": {"path": "s/new", "content": "pwned\n"}},
        {"name": "write_file", "arguments": {"path": "./s/../s/key", "content": "pwned\n"}},
        {"name": "write_file", "arguments": {"path": "hard", "content": "written by name\n"}},
    ]
    done = cli("run", str(project), "--check", "true", "--model", script(tmp_path, [{"tool_calls": calls}, DONE]),
               "--headless", "--sandbox", backend, "--max-iterations", "1", "--sessions", str(tmp_path / "sessions"),
               "--deny", "write_file(secrets/**)", "--deny", "edit_file(secrets/**)")
    assert done.returncode == 0, done.stderr[-2000:]
    decided = [(d["name"], d["decision"], d["rule"]) for d in decisions(events(done.stdout)).values()]
    assert decided == [("run_command", "allow", None), ("write_file", "deny", "write_file(secrets/**)"),
                       ("edit_file", "deny", "edit_file(secrets/**)"), ("write_file", "deny", "write_file(secrets/**)"),
                       ("write_file", "deny", "write_file(secrets/**)"), ("write_file", "allow", None)]
    ws = workspace_of(tmp_path / "sessions")
    assert (ws / "secrets/key").read_text() == "old\n", "a hard link must not carry the write to secrets/key"
    assert (ws / "hard").read_text() == "written by name\n"
    assert not (ws / "secrets/new").exists()
