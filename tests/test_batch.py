"""`tui-agent batch`: 12 tasks on 2 engines with --jobs 4 all finish and equal the same tasks run one by one;
a host that dies mid-run fails its running tasks and the rest go on; bad task files are bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from loop_fixtures import EXAMPLES, ROOT, cli, copy_example, tree
from tui_agent.sandbox.docker.engine import DOCKER_SOCKET
from tui_agent.maintenance.prune import prune

pytestmark = [pytest.mark.slow, pytest.mark.remote]
NAMES = ("calculator", "wordcount", "inventory")


def task_file(folder: Path, copies: int, slow: str = "") -> Path:
    """`copies` tasks of each example, each on its own copy of the example's folder."""
    lines = []
    for n in range(copies):
        for name in NAMES:
            meta = tomllib.loads((EXAMPLES / name / "example.toml").read_text())
            project = copy_example(name, folder / f"{name}-{n}")
            options = {"permissions": {"allow": ["edit_file", "write_file"]}}
            if "pass_pattern" in meta:
                options["pass_pattern"] = meta["pass_pattern"]
            lines.append({"id": f"{name}-{n}", "project": project.name, "goal": meta["goal"],
                          "check": slow + meta["check"], "model": str(EXAMPLES / name / meta["model"]),
                          "options": options})
    for line in lines:
        line["model"] = f"scripted:{line['model']}"
    path = folder / "tasks.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def hosts_env(private, capacity: int = 2) -> dict:
    hosts = [{"name": "near", "url": DOCKER_SOCKET, "capacity": capacity},
             {"name": "far", "url": private.engine.url, "tls": private.engine.tls, "capacity": capacity}]
    return {"TUI_AGENT_SANDBOX_HOSTS": json.dumps(hosts)}


def summaries(stdout: str) -> dict[str, dict]:
    found = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return {s["task"]: s for s in found}


def result(summary: dict) -> tuple:
    diff = Path(summary["diff"]).read_text() if summary.get("diff") else None
    return summary["outcome"], summary["iterations"], tuple(summary.get("files", ())), diff


def test_twelve_tasks_on_two_engines_equal_them_one_by_one(private_engine, tmp_path):
    tasks = task_file(tmp_path / "work", copies=4)
    before = {p.name: tree(p) for p in (tmp_path / "work").iterdir() if p.is_dir()}
    spread = cli("batch", str(tasks), "--jobs", "4", "--out", str(tmp_path / "out4"),
                 "--sessions", str(tmp_path / "s4"), env=hosts_env(private_engine), timeout=900)
    assert spread.returncode == 0, spread.stderr[-3000:]
    one = cli("batch", str(tasks), "--jobs", "1", "--out", str(tmp_path / "out1"),
              "--sessions", str(tmp_path / "s1"), env={"TUI_AGENT_SANDBOX_HOSTS": "[]"}, timeout=1200)
    assert one.returncode == 0, one.stderr[-3000:]
    parallel, serial = summaries(spread.stdout), summaries(one.stdout)
    assert len(parallel) == len(serial) == 12
    assert {s["outcome"] for s in parallel.values()} == {"met"}
    assert {s["host"] for s in parallel.values()} == {"near", "far"}, "spread over both engines"
    for task, summary in parallel.items():
        assert result(summary) == result(serial[task]), task
        assert json.loads((tmp_path / "out4" / f"{task}.json").read_text()) == summary
        assert (Path(summary["workspace"])).is_dir(), "each result keeps its workspace"
        assert json.loads((Path(summary["session"]) / "refs" / "batch.json").read_text())["keep"], "pinned for review"
    assert prune(tmp_path / "s4", older_than_s=0) == [], "a batch result is kept from pruning until forced"
    assert {p.name: tree(p) for p in (tmp_path / "work").iterdir() if p.is_dir()} == before, "nothing deploys"
    assert "12 of 12 met" in spread.stderr


def checking(sessions: Path) -> list[Path]:
    """Sessions whose first check has started."""
    return [p for p in sessions.glob("*/events.jsonl") if '"type": "check_started"' in p.read_text()]


def test_a_host_that_dies_fails_its_tasks_and_the_rest_go_on(private_engine, tmp_path):
    tasks = task_file(tmp_path / "work", copies=2, slow="sleep 4; ")
    args = ["batch", str(tasks), "--jobs", "4", "--out", str(tmp_path / "out"), "--sessions", str(tmp_path / "s")]
    proc = subprocess.Popen([sys.executable, "-m", "tui_agent.cli.main", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **hosts_env(private_engine, capacity=2)})
    try:
        deadline = time.monotonic() + 180
        while len(checking(tmp_path / "s")) < 4:  # the first four tasks, two per host, are in their slow check
            assert time.monotonic() < deadline and proc.poll() is None, "the first checks never started"
            time.sleep(0.1)
        private_engine.kill()
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        private_engine.start()
    done = summaries(out)
    assert len(done) == 6, err[-3000:]
    died = [s for s in done.values() if s["host"] == "far"]
    assert len(died) == 2 and all(s["outcome"] == "error" and "host far died mid-run" in s["reason"] for s in died)
    rest = [s for s in done.values() if s["host"] == "near"]
    assert len(rest) == 4 and all(s["outcome"] == "met" for s in rest), err[-3000:]
    assert proc.returncode == 1


@pytest.mark.parametrize("line, message", [
    ("not json", "tasks.jsonl:1: not JSON"),
    ('{"goal": "x"}', 'tasks.jsonl:1: "project" (a folder) is required'),
    ('{"project": "nowhere"}', "tasks.jsonl:1: project folder not found"),
    ('{"project": ".", "options": {"sandbox_host": "x"}}', "cannot be set per task"),
    ('{"project": ".", "colour": "red"}', "unknown key(s) colour"),
])
def test_bad_task_files_are_bad_input(tmp_path, line, message):
    path = tmp_path / "tasks.jsonl"
    path.write_text(line + "\n")
    done = cli("batch", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
