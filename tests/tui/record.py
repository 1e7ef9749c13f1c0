"""Record the events of a real calculator run (scripted model, real sandbox) as the snapshot fixture.

    python tests/tui/record.py        # rewrites tests/tui/data/calculator.jsonl

Paths, ids and the model spec are replaced by stable ones so the pictures do not depend on the machine.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path

from tui_agent import config
from tui_agent.agent.gate import PERSON
from tui_agent.cli.examples import example_flags
from tui_agent.commands import Answer, Deploy
from tui_agent.events import ToolCallRequested
from tui_agent.runner import prepare

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).parent / "data" / "calculator.jsonl"
PROJECT = "/home/you/calculator"


async def record() -> list[dict]:
    source = REPO / "examples" / "calculator"
    tmp = Path(tempfile.mkdtemp(prefix="tui-record-"))
    project = tmp / "calculator"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns("example.toml", "model.json"))
    settings = config.load(project, **example_flags(source), session_root=tmp / "sessions", mode="ask")
    run = await prepare(settings, who=PERSON)
    events = []
    run.subscribe(lambda e: events.append(e))

    def approve(event) -> None:  # once the loop asks (right after the request), the person allows
        if isinstance(event, ToolCallRequested):
            asyncio.get_running_loop().call_soon(run.send, Answer(event.call_id, "allow"))

    run.subscribe(approve)
    try:
        await run.execute()
        run.send(Deploy())
    finally:
        await run.close()
    text = json.dumps([e.to_dict() for e in events])
    for old, new in ((str(run.workspace.path), PROJECT + "/.workspace"), (str(project), PROJECT),
                     (settings.model, "scripted:model.json"), (run.session_dir.name, "demo-session")):
        text = text.replace(json.dumps(old)[1:-1], new)
    shutil.rmtree(tmp, ignore_errors=True)
    return json.loads(text)


def main() -> None:
    events = asyncio.run(record())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    print(f"{len(events)} events -> {OUT}")


if __name__ == "__main__":
    main()
