"""A whole `tui-agent run --model anthropic:...` session against the fake Messages API, then replayed without a key."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tui_agent.sandbox import probe

from fake_anthropic import FakeAnthropic, Fault, Reply, text, tool, tools

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "calculator"
GOAL = "Make the calculator's unit tests pass without changing the tests."
CHECK = "python3 -m unittest -v"
PLAN1 = [{"title": "Make divide() return None for a zero divisor", "status": "in_progress"},
         {"title": "Fix what the tests show next", "status": "pending"}]
PLAN2 = [{"title": "Make divide() return None for a zero divisor", "status": "done"},
         {"title": "Fix average(): no +1, and 0 for an empty list", "status": "done"}]


@pytest.fixture(params=["bwrap", "docker"])
def sandbox(request) -> str:
    reason = probe(request.param)
    if reason:
        pytest.skip(f"{request.param} sandbox unavailable: {reason}")
    return request.param


def last_user_text(body: dict) -> str:
    return json.dumps(body["messages"][-1])


def expecting(needle: str, reply: Reply):
    """A scripted answer that first checks the request carries `needle` (e.g. the last traceback)."""
    def answer(body: dict) -> Reply | Fault:
        if needle not in last_user_text(body):
            return Fault(400, "invalid_request_error", f"test: expected {needle!r} in the last message")
        return reply
    return answer


def script(fake: FakeAnthropic) -> None:
    usage = dict(input_tokens=1200, output_tokens=150, cache_read=3000, cache_write=800)
    fake.push(
        Fault(529, "overloaded_error", "Overloaded", headers={"retry-after": "0.05"}),
        expecting("ZeroDivisionError", tools(tool("update_plan", {"steps": PLAN1}),
                                             tool("read_file", {"path": "calc.py"}),
                                             say="divide() crashes on a zero divisor. Reading calc.py.", **usage)),
        tools(tool("edit_file", raw_json='{"path": "calc.py", "old_string": "    return a / b\\n'), say="Editing.",
              stop_reason="max_tokens", **usage),
        expecting("invalid JSON in tool arguments", tools(tool("edit_file", {
            "path": "calc.py", "old_string": "    return a / b\n",
            "new_string": "    if b == 0:\n        return None\n    return a / b\n"}),
            say="Retrying the edit.", **usage)),
        text("divide() fixed. Running the check.", **usage),
        Reply([{"type": "text", "text": "test_average fails too; average() adds 1."}], error_after=6, chunk=5),
        expecting("test_average", tools(tool("edit_file", {
            "path": "calc.py", "old_string": "    return sum(numbers) / len(numbers) + 1\n",
            "new_string": "    if not numbers:\n        return 0\n    return sum(numbers) / len(numbers)\n"}),
            tool("update_plan", {"steps": PLAN2}), say="test_average fails too; average() adds 1.", **usage)),
        text("Both bugs are fixed.", **usage),
    )


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui_agent.cli.main", *args], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env=env)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def of(recs: list[dict], kind: str) -> list[dict]:
    return [r for r in recs if r["type"] == kind]


def project_copy(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("example.toml", "model.json", "__pycache__"))
    return target


def run_args(project: Path, model: str, sandbox: str, sessions: Path) -> list[str]:
    return ["run", str(project), "--goal", GOAL, "--check", CHECK, "--model", model, "--sandbox", sandbox,
            "--headless", "--allow", "edit_file", "--allow", "write_file", "--sessions", str(sessions)]


@pytest.mark.slow
def test_claude_session_fixes_example_then_replays_without_key(sandbox, tmp_path):
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    with FakeAnthropic() as fake:
        script(fake)
        project = project_copy(tmp_path / "calculator")
        before = (project / "calc.py").read_text()
        env = {**base_env, "ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.base_url}
        done = cli(*run_args(project, "anthropic:claude-sonnet-4-6", sandbox, tmp_path / "sessions"), env=env)
        assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
        recs = records(done.stdout)
        assert fake.queue == [], "every scripted answer was used"

    finished = of(recs, "finished")[-1]
    assert finished["outcome"] == "met" and finished["iterations"] == 2
    assert (project / "calc.py").read_text() == before, "headless never deploys"

    # faults were retried and shown: the 529 (with its retry-after) and the error in the middle of a stream
    retries = of(recs, "model_retrying")
    assert [r["wait_s"] for r in retries][0] == 0.05 and "overloaded_error" in retries[0]["reason"]
    assert any("middle of the stream" in r["reason"] for r in retries)
    # the invalid JSON went back to the model as an error result, and the loop went on
    bad = [r for r in of(recs, "tool_call_finished") if r["is_error"]]
    assert bad and bad[0]["result"].startswith("invalid JSON in tool arguments")
    # streamed text reached the event stream
    assert "divide() crashes" in "".join(r["text"] for r in of(recs, "model_delta"))
    # usage with cache tokens and the cost, per turn and in total
    responded = of(recs, "model_responded")
    assert responded[0]["usage"] == {"input_tokens": 1200, "output_tokens": 150, "cache_read_tokens": 3000,
                                     "cache_write_tokens": 800}
    one = (1200 * 3 + 150 * 15 + 800 * 3.75 + 3000 * 0.3) / 1e6
    assert responded[0]["cost_usd"] == pytest.approx(one)
    assert finished["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in responded), rel=1e-4)
    # every request: the model asked for, streamed, with caching on system prompt and tools
    for body in fake.requests:
        assert body["model"] == "claude-sonnet-4-6" and body["stream"] is True
        assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
        assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert {"read_file", "write_file", "edit_file", "update_plan"} <= {t["name"] for t in body["tools"]}
    assert all(h["authorization"] == f"Bearer {fake.api_key}" and h["anthropic-version"] for h in fake.headers)

    # replay the recorded session: no key, no server
    session = next((tmp_path / "sessions").iterdir())
    replay_project = project_copy(tmp_path / "again")
    env = {**base_env, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    again = cli(*run_args(replay_project, f"replay:{session / 'events.jsonl'}", sandbox, tmp_path / "replays"),
                env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    replayed = records(again.stdout)
    assert of(replayed, "finished")[-1]["outcome"] == "met"
    assert [r["content"] for r in of(replayed, "model_responded")] == [r["content"] for r in responded]


def test_missing_key_is_one_line_and_exit_2(sandbox, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    done = cli(*run_args(project_copy(tmp_path / "p"), "anthropic:claude-sonnet-4-6", sandbox, tmp_path / "s"),
               env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "tui-agent: error: ANTHROPIC_API_KEY is not set: export it, or use --model scripted:FILE / replay:SESSION"]


def test_api_that_stays_overloaded_stops_the_run_clearly(sandbox, tmp_path):
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    with FakeAnthropic(default=Fault(529, "overloaded_error", "Overloaded", headers={"retry-after": "0"})) as fake:
        env = {**base_env, "ANTHROPIC_API_KEY": fake.api_key, "ANTHROPIC_BASE_URL": fake.base_url}
        done = cli(*run_args(project_copy(tmp_path / "p"), "anthropic:claude-sonnet-4-6", sandbox, tmp_path / "s"),
                   env=env)
        assert len(fake.requests) == 5  # the first try and four retries
    assert done.returncode == 1, done.stderr[-2000:]
    recs = records(done.stdout)
    assert [r["attempt"] for r in of(recs, "model_retrying")] == [1, 2, 3, 4]
    finished = of(recs, "finished")[-1]
    assert finished["outcome"] in ("error", "stopped")
    said = json.dumps(of(recs, "error") + [finished])
    assert "overloaded_error" in said and "gave up after 4 retries" in said
