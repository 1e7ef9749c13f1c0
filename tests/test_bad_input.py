"""Bad input: one clear line on stderr, exit code 2, and nothing lost (the folder is untouched)."""


from loop_fixtures import EXAMPLES, cli, copy_example, tree

MODEL = f"scripted:{EXAMPLES / 'calculator' / 'model.json'}"


def _run(project, *extra, env=None):
    return cli("run", str(project), "--check", "python3 -m unittest", "--headless", *extra, env=env)


def _one_line_error(done, *needles):
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-agent: error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_missing_folder(tmp_path):
    _one_line_error(_run(tmp_path / "nope", "--model", MODEL), "project folder not found")


def test_unknown_model_spec(tmp_path):
    _one_line_error(_run(tmp_path, "--model", "gpt:4o"), "unknown model spec 'gpt:4o'")


def test_missing_api_key(tmp_path):
    done = _run(tmp_path, "--model", "anthropic:claude-sonnet-4-5", env={"ANTHROPIC_API_KEY": ""})
    _one_line_error(done, "ANTHROPIC_API_KEY")


def test_malformed_scripted_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"turns": [{"text": "a",}]}')
    _one_line_error(_run(tmp_path, "--model", f"scripted:{bad}"), "bad.json", "line 1")


def test_no_sandbox_available(tmp_path):
    done = _run(tmp_path, "--model", MODEL, "--sandbox", "docker", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    _one_line_error(done, "docker")


def test_bad_flag_value(tmp_path):
    done = cli("run", str(tmp_path), "--max-iterations", "lots")
    assert done.returncode == 2 and "invalid int value" in done.stderr


def test_check_command_that_does_not_exist(tmp_path, backend):
    project = copy_example("calculator", tmp_path / "proj")
    before = tree(project)
    done = cli("run", str(project), "--check", "no-such-checker --all", "--model", MODEL, "--headless",
               "--sandbox", backend, "--sessions", str(tmp_path / "s"))
    _one_line_error(done, "not found", "no-such-checker")
    assert tree(project) == before
    session = next((tmp_path / "s").iterdir())
    assert '"type": "finished"' in (session / "events.jsonl").read_text(), "the session record is whole"


def test_doctor_says_what_works_and_what_to_do():
    done = cli("doctor", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert "[!!] sandbox docker: no Docker engine answers" in done.stdout and "start dockerd" in done.stdout
    assert "sandbox bwrap" in done.stdout and done.stdout.count("no Docker engine answers") == 1
