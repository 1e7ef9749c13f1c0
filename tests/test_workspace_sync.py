"""ProjectSync (watch mode): only the given paths, baselines moved, ignores, folders, links, deploy after."""

from __future__ import annotations

import os

from tui_agent.watch.sync import ProjectSync
from tui_agent.workspace.workspace import Workspace


def make(tmp_path):
    project = tmp_path / "proj"
    (project / "pkg").mkdir(parents=True)
    (project / "a.py").write_text("A = 1\n")
    (project / "pkg" / "m.py").write_text("M = 1\n")
    (project / ".gitignore").write_text("*.log\n")
    ws = Workspace.create(project, tmp_path / "session")
    return project, ws, ProjectSync(ws)


def test_only_changed_content_is_copied_and_the_baselines_move(tmp_path):
    project, ws, sync = make(tmp_path)
    try:
        (project / "a.py").write_text("A = 2\n")
        (project / "new.py").write_text("N = 1\n")
        os.utime(project / "pkg" / "m.py")  # touched, same content
        result = sync.sync_paths(["a.py", "new.py", "pkg/m.py", "missing.py"])
        assert (result.files, result.removed, result.held) == (["a.py", "new.py"], [], [])
        assert (ws.path / "new.py").read_text() == "N = 1\n"
        assert sync.fix_paths() == []  # the workspace equals the project: no fix
        assert sync.deploy() == []  # and a deploy has nothing to do (the person's new file is not "new" to it)
    finally:
        ws.close()


def test_a_gitignore_change_takes_in_and_drops_what_it_now_includes_and_ignores(tmp_path):
    project, ws, sync = make(tmp_path)
    try:
        (project / "debug.log").write_text("log\n")
        assert not sync.sync_paths(["debug.log"])
        (project / ".gitignore").write_text("pkg/\n")
        result = sync.sync_paths([".gitignore"])
        assert "debug.log" in result.files and "pkg/m.py" in result.removed
        assert (ws.path / "debug.log").exists() and not (ws.path / "pkg").exists()
    finally:
        ws.close()


def test_held_paths_are_left_alone_and_folders_and_links_are_followed(tmp_path):
    project, ws, sync = make(tmp_path)
    try:
        (project / "a.py").write_text("A = 3\n")
        (project / "pkg" / "m.py").write_text("M = 2\n")
        result = sync.sync_paths(["a.py", "pkg/m.py"], hold={"a.py"})
        assert (result.files, result.held) == (["pkg/m.py"], ["a.py"])
        assert (ws.path / "a.py").read_text() == "A = 1\n"
        (project / "pkg" / "m.py").unlink()
        (project / "pkg").rmdir()
        (project / "pkg").write_text("a file now\n")  # a folder replaced by a file
        os.symlink("a.py", project / "inside")
        os.symlink("/etc/passwd", project / "outside")
        result = sync.sync_paths(["pkg", "inside", "outside"])
        assert result.files == ["inside", "pkg"] and result.removed == ["pkg/m.py"]
        assert (ws.path / "pkg").read_text() == "a file now\n"
        assert os.readlink(ws.path / "inside") == "a.py" and not os.path.lexists(ws.path / "outside")
    finally:
        ws.close()


def test_a_fix_is_deployed_over_the_synced_baseline(tmp_path):
    project, ws, sync = make(tmp_path)
    try:
        (project / "b.py").write_text("B = 1\n")
        sync.sync_paths(["b.py"])
        ws.files.write_text("a.py", "A = 'fixed'\n")
        assert sync.fix_paths() == ["a.py"]
        files = sync.deploy()
        assert files == ["a.py"] and (project / "a.py").read_text() == "A = 'fixed'\n"
        assert not sync.sync_paths(["a.py"])  # our own write reads as no change
    finally:
        ws.close()
