"""Rule matching on long commands: the time to parse, normalise and match a command of 0.25, 0.5, 1 and 2 MB
(compound lines, quoted words, wrappers) against deny rules; linear means the time per MB stays flat."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_agent.tools.permissions.policy import Policy  # noqa: E402

PIECE = "env A=1 nice -n 5 sh -c 'echo \"a b\" | grep -q x' && ls -la 'some dir' > out.txt; "
SHAPES = {
    "compound": lambda n: PIECE * (n // len(PIECE)),
    "one word": lambda n: "echo " + "a" * n,
    "many args": lambda n: "rm " + "b " * (n // 2),
    "quoted": lambda n: "echo '" + "c" * n + "'",
}


def main() -> None:
    policy = Policy(allow=["run_command(*)"], deny=["run_command(rm -rf /*)", "run_command(git * push * --force*)"],
                    mode="auto")
    print(f"{'shape':<10} {'MB':>5} {'seconds':>8} {'s/MB':>6}  verdict")
    for name, make in SHAPES.items():
        for mb in (0.25, 0.5, 1, 2):
            command = make(int(mb * 1_000_000))
            start = time.perf_counter()
            verdict = policy.evaluate("run_command", {"command": command})
            took = time.perf_counter() - start
            print(f"{name:<10} {mb:>5} {took:>8.3f} {took / mb:>6.3f}  {verdict.action}")


if __name__ == "__main__":
    main()
