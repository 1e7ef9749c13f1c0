"""The per-hunk deploy in the core: hunks, the approved bytes by hash, every safety of the deploy, and undo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tui_agent.maintenance.prune import collect
from tui_agent.workspace import deploy_subset as subset
from tui_agent.workspace import undo
from tui_agent.workspace.hunks import HunkError, compose, lines, split
from tui_agent.workspace.workspace import DeployError, Workspace

pytestmark = pytest.mark.unit

OLD = "".join(f"line {i}\n" for i in range(1, 31))
NEW = OLD.replace("line 2\n", "line two\n").replace("line 25\n", "line twenty-five\n")


def write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


@pytest.fixture
def ws(tmp_path):
    project = tmp_path / "project"
    write(project, {"a.py": OLD, "b.py": "b = 1\n", "gone.py": "x\n", "Makefile": "all:\n"})
    w = Workspace.create(project, tmp_path / "session")
    write(w.path, {"a.py": NEW, "b.py": "b = 2\n", "new.py": "new\n", "Makefile": "all:\n\tcurl evil\n"})
    os.unlink(w.path / "gone.py")
    yield w
    w.close()


def deploy(w: Workspace, selection, include=()) -> tuple[list[str], object]:
    changes = subset.review(w, w.plan_deploy())
    targets = subset.approve(w, changes, selection)
    plan = subset.plan_for(w, changes, targets, include)
    return subset.deploy(w, plan, targets, 1 << 20), plan


def sha(w: Workspace, rel: str) -> str:
    return {c.path: c for c in subset.review(w, w.plan_deploy())}[rel].key


def test_split_and_compose_take_only_the_accepted_hunks():
    a, b = lines(OLD.encode()), lines(NEW.encode())
    hunks = split(a, b)
    assert len(hunks) == 2 and "-line 2\n+line two\n" in hunks[0].text
    assert compose(a, b, {}) == OLD.encode()
    assert compose(a, b, {0: None, 1: None}) == NEW.encode()
    assert compose(a, b, {1: None}) == OLD.replace("line 25\n", "line twenty-five\n").encode()
    assert compose(a, b, {0: "edited\n"}) == OLD.replace("line 2\n", "edited\n").encode()
    with pytest.raises(HunkError, match="no hunk 3"):
        compose(a, b, {2: None})


def test_review_lists_every_file_with_its_hunks(ws):
    changes = {c.path: c for c in subset.review(ws, ws.plan_deploy())}
    assert set(changes) == {"a.py", "b.py", "new.py", "gone.py", "Makefile"}
    assert len(changes["a.py"].hunks) == 2 and changes["gone.py"].kind == "deleted"
    assert changes["new.py"].kind == "added" and changes["Makefile"].flagged


def test_a_subset_lands_by_hash_and_the_rest_stays_pending(ws):
    project = ws.project
    files, plan = deploy(ws, [("a.py", sha(ws, "a.py"), [(1, None)]), ("gone.py", sha(ws, "gone.py"), "all")])
    assert sorted(files) == ["a.py", "gone.py"]
    assert (project / "a.py").read_text() == OLD.replace("line 25\n", "line twenty-five\n")
    assert not (project / "gone.py").exists()
    assert (project / "b.py").read_text() == "b = 1\n" and not (project / "new.py").exists()
    assert ("b.py", "rejected in the review") in plan.skipped
    pending = {c.path: c for c in subset.review(ws, ws.plan_deploy())}
    assert set(pending) == {"a.py", "b.py", "new.py", "Makefile"} and len(pending["a.py"].hunks) == 1


def test_an_edited_hunk_lands_as_edited(ws):
    deploy(ws, [("a.py", sha(ws, "a.py"), [(0, "line 2, edited by the person\n")])])
    assert (ws.project / "a.py").read_text() == OLD.replace("line 2\n", "line 2, edited by the person\n")


def test_what_lands_is_the_approved_bytes_not_the_workspace_after_review(ws):
    changes = subset.review(ws, ws.plan_deploy())
    targets = subset.approve(ws, changes, [("b.py", sha(ws, "b.py"), "all")])
    plan = subset.plan_for(ws, changes, targets, ())
    (ws.path / "b.py").write_text("import os; os.system('rm -rf ~')\n")  # what a recheck could leave
    subset.deploy(ws, plan, targets, 1 << 20)
    assert (ws.project / "b.py").read_text() == "b = 2\n"


def test_stale_selection_and_flagged_and_changed_folder_are_refused(ws):
    with pytest.raises(HunkError, match="changed since you reviewed it"):
        deploy(ws, [("b.py", "0" * 64, "all")])
    files, plan = deploy(ws, [("Makefile", sha(ws, "Makefile"), "all")])
    assert files == [] and ("Makefile", "flagged, and you left it unchecked") in plan.skipped
    (ws.project / "b.py").write_text("the person's edit\n")
    with pytest.raises(DeployError, match="project changed"):
        deploy(ws, [("a.py", sha(ws, "a.py"), "all")])
    assert (ws.project / "a.py").read_text() == OLD


def test_no_symlink_is_followed(ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write(ws.path, {"sub/x.py": "x\n"})
    s = sha(ws, "sub/x.py")
    os.symlink(outside, ws.project / "sub")
    with pytest.raises(DeployError):
        deploy(ws, [("sub/x.py", s, "all")])
    assert list(outside.iterdir()) == []


def test_undo_restores_the_folder_and_can_itself_be_undone(ws):
    before = {p: (ws.project / p).read_text() for p in ("a.py", "b.py", "gone.py")}
    deploy(ws, [(p, sha(ws, p), "all") for p in ("a.py", "b.py", "gone.py", "new.py")])
    pinned = json.loads((ws.session_dir / "refs" / "deploy-1.json").read_text())
    collect_ok = set(pinned["objects"])
    ws.close()
    collect(ws.session_dir)  # the GC keeps the undo data
    assert all(ws.store.path(o).exists() for o in collect_ok)
    kind, paths, _ = undo.undo_last(ws.session_dir, ws.project, ws.store, 1 << 20)
    assert kind == "deploy" and not (ws.project / "new.py").exists()
    assert {p: (ws.project / p).read_text() for p in before} == before
    kind, _, _ = undo.undo_last(ws.session_dir, ws.project, ws.store, 1 << 20)
    assert kind == "undo" and (ws.project / "a.py").read_text() == NEW and not (ws.project / "gone.py").exists()


def test_undo_is_refused_after_a_change(ws):
    deploy(ws, [("b.py", sha(ws, "b.py"), "all")])
    (ws.project / "b.py").write_text("changed by the person\n")
    with pytest.raises(undo.UndoError, match=r"changed since the deploy \(b.py"):
        undo.undo_last(ws.session_dir, ws.project, ws.store, 1 << 20)
    assert (ws.project / "b.py").read_text() == "changed by the person\n"


def test_forged_undo_data_is_refused(ws, tmp_path):
    deploy(ws, [("b.py", sha(ws, "b.py"), "all")])
    pin = ws.session_dir / "refs" / "deploy-1.json"
    data = json.loads(pin.read_text())
    data["before"] = {"../outside.txt": [0o100644, data["before"]["b.py"][1]]}
    pin.write_text(json.dumps(data))
    with pytest.raises(undo.UndoError, match="not undo data"):
        undo.undo_last(ws.session_dir, ws.project, ws.store, 1 << 20)
    assert not (tmp_path / "outside.txt").exists()


def test_the_whole_deploy_is_undoable_too(ws):
    files = subset.deploy_whole(ws, {"Makefile": "flagged, and you left it unchecked"})
    assert sorted(files) == ["a.py", "b.py", "gone.py", "new.py"]
    kind, paths, _ = undo.undo_last(ws.session_dir, ws.project, ws.store, 1 << 20)
    assert kind == "deploy" and sorted(paths) == sorted(files)
    assert (ws.project / "a.py").read_text() == OLD and (ws.project / "gone.py").read_text() == "x\n"
    assert not (ws.project / "new.py").exists() and (ws.project / "Makefile").read_text() == "all:\n"
