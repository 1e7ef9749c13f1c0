"""Each bundled example is fixed end to end, headless, on both sandbox backends; the folder is never modified."""

import tomllib

import pytest

from loop_fixtures import EXAMPLES, cli, copy_example, events, of_type, tree

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "example.toml").is_file())


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_is_fixed_and_the_folder_untouched(example, backend, tmp_path):
    meta = tomllib.loads((EXAMPLES / example / "example.toml").read_text())
    project = copy_example(example, tmp_path / example)
    before = tree(project)
    args = ["run", str(project), "--goal", meta["goal"], "--check", meta["check"],
            "--model", f"scripted:{EXAMPLES / example / meta['model']}", "--sandbox", backend, "--headless",
            "--allow", "edit_file", "--allow", "write_file", "--sessions", str(tmp_path / "sessions")]
    if "pass_pattern" in meta:
        args += ["--pass-pattern", meta["pass_pattern"]]
    done = cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    records = events(done.stdout)
    finished = of_type(records, "finished")[-1]
    assert finished["outcome"] == "met" and 1 <= finished["iterations"] <= 3

    # the traceback of iteration k reached the model in iteration k+1 (the scripts' "expect" enforce it too)
    for check in of_type(records, "check_finished")[:-1]:
        nxt = [r for r in of_type(records, "model_requested") if r["iteration"] == check["iteration"] + 1][0]
        texts = [b.get("text", "") for m in nxt["request"]["new_messages"] for b in m["content"]]
        assert any(check["output_tail"].strip()[-200:] in text for text in texts)

    # the diff of each fix is recorded, and only real files show in it
    fixes = of_type(records, "fix_applied")
    assert len(fixes) == finished["iterations"]
    assert all(f["diff"].startswith("diff --git") for f in fixes if f["files"])
    assert not any("__pycache__" in path for f in fixes for path in f["files"])

    assert tree(project) == before, "headless never deploys: the folder is unchanged"
    session = next((tmp_path / "sessions").iterdir())
    assert (session / "events.jsonl").stat().st_size > 0
    assert (session / "workspace").is_dir(), "the fixed workspace is kept with the session"
    # bytecode is kept next to the sources and never part of a fix (above); tests/test_sandbox_bytecode.py shows
    # a stale .pyc never runs after an edit
