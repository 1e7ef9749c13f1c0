"""Command rules mean what they say: wrappers unwrapped, basenames, every sub-command; a non-literal command asks."""

from __future__ import annotations

import random

import pytest

from tui_agent.tools.permissions.policy import Policy
from tui_agent.tools.permissions.shell import split
from tui_agent.tools.permissions.unwrap import normalise

pytestmark = pytest.mark.unit

RM_SPELLINGS = [
    "rm x", "/bin/rm x", "command rm x", "env rm x", "sh -c 'rm -rf x'", "xargs rm", "nice rm x", "timeout 9 rm x",
    "a && rm x", "echo | xargs rm", "/usr/bin/env -i A=1 nice -n 5 rm x", "nohup rm x", "exec rm x",
    "stdbuf -oL rm x", "sudo -u root rm x", "timeout -s KILL 5s rm x", "bash -lc 'cd a; rm b'",
    "dash -c \"zsh -c 'rm x'\"", "ls; rm x", "ls || rm x", "ls & rm x", "ls\nrm x", "(cd a && rm x)",
    "echo x | rm -f -", "\\rm x", "r'm' x", '"rm" x', "X=1 rm x", "env -S 'rm x'", "find . -exec rm {} \\;",
    "if true; then rm x; fi", "{ rm x; }", "rm x > /dev/null 2>&1", "true # ok\nrm x", "eval rm x",
    "command -p rm x", "sudo -- rm x", "xargs -0 -n 1 rm", "timeout --signal=TERM 9 rm x",
]


@pytest.mark.parametrize("command", RM_SPELLINGS)
def test_every_rm_spelling_is_denied(command):
    p = Policy(allow=["run_command(*)"], deny=["run_command(rm *)"], mode="auto")
    v = p.evaluate("run_command", {"command": command})
    assert (v.action, v.rule) == ("deny", "run_command(rm *)"), command


@pytest.mark.parametrize("command", ["ls -la", "python3 -m pytest -q", "echo rmdir", "grep -r rm .",
                                     "printf 'rm x'", "echo 'a; rm x'", "firm x", "sh x.sh"])
def test_commands_that_only_mention_rm_run(command):
    p = Policy(allow=["run_command(*)"], deny=["run_command(rm *)"], mode="auto")
    assert p.evaluate("run_command", {"command": command}).action == "allow", command


@pytest.mark.parametrize("command", [
    "R=rm; $R x", "$(echo rm) x", "`echo rm` x", "echo $(cat f)", "python3 -c 'import os'", "python -c pass",
    "perl -e 'unlink q(x)'", "node -e 1", "awk 'BEGIN{system(1)}'", "echo rm x | sh", "bash -s < f",
    "cat <<EOF | bash\nrm x\nEOF", "source ./x.sh", ". ./x.sh", "for f in a; do echo; done", "ruby -e 1",
    "diff <(ls) b", "${P} x", "sh -c", "eval \"$X\"",
])
def test_a_command_that_is_not_literal_asks_where_rules_name_run_command(command):
    for rules in ({"deny": ["run_command(rm *)"]}, {"ask": ["run_command(git push*)"]}):
        v = Policy(allow=["run_command(*)"], mode="auto", **rules).evaluate("run_command", {"command": command})
        assert v.action in ("ask", "deny"), (command, rules)
        if v.action == "ask":
            assert "not literal" in v.reason
    # without any rule naming run_command, auto runs it: the sandbox is the boundary
    assert Policy(mode="auto").evaluate("run_command", {"command": command}).action == "allow"


def test_the_person_s_exact_approval_still_covers_a_non_literal_command():
    p = Policy(allow=["run_command(R=rm; $R x)"], deny=["run_command(git *)"], mode="auto")
    assert p.evaluate("run_command", {"command": "R=rm; $R x"}).action == "allow"
    assert p.evaluate("run_command", {"command": "R=rm; $R y"}).action == "ask"


def test_split_words_and_operators():
    parsed = split("""A=1 "/bin/x" 'a b' c\\ d e"f"g >out 2>&1 | y <in && z; (w) # c""")
    assert parsed.commands == (("/bin/x", "a b", "c d", "efg"), ("y",), ("z",), ("w",)) and parsed.literal
    assert split("echo a#b").commands == (("echo", "a#b"),)
    assert not split("echo 'open").literal
    assert split("echo $ x").literal and not split("echo $HOME").literal


def test_normalised_parts_keep_the_wrapper_and_the_wrapped():
    n = normalise("env -i A=1 /usr/bin/nice -n 5 rm -f x && ls")
    assert "rm -f x" in n.parts and "ls" in n.parts and n.literal
    assert normalise("bash -c 'cd a; /bin/rm b'").parts == ("cd a", "rm b")


def test_any_text_parses():
    rng = random.Random(11)
    alphabet = "ab $`'\"\\|&;()<>#{}!*?[]=-\n\t\u00a0\u202e\x1b\x00"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        normalise(text)
        Policy(deny=["run_command(rm *)"], mode="auto").evaluate("run_command", {"command": text})


def test_a_long_command_parses_in_linear_steps():
    """1 MB and 2 MB commands give parts of proportional size (the parse itself is one pass; bench/ times it)."""
    for n in (10_000, 20_000):
        command = " && ".join(["echo 'a b' \"c\" d"] * n)
        assert len(normalise(command).parts) == 1
        assert len(split(command).commands) == n


def test_a_rule_with_many_wildcards_on_a_long_command_is_quick():
    p = Policy(deny=["run_command(a * b * c * d *)"], mode="auto")
    command = "a " + "b " * 200_000  # a backtracking matcher would take minutes here
    assert p.evaluate("run_command", {"command": command}).action == "allow"
