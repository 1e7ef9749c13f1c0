"""What a killed tui-agent left behind, put right at the next start of any command: an interrupted deploy is
finished or rolled back, a dead run's workspace is unmounted (its files kept) and its sandbox containers removed."""

from __future__ import annotations

import os
from pathlib import Path

from tui_agent.workspace import inuse
from tui_agent.workspace.deploy_journal import Journal, fsync_dir, interrupted, sweep
from tui_agent.workspace.deploy_plan import DeployError
from tui_agent.workspace.deploy_swap import commit, rollback
from tui_agent.workspace.safefs import O_DIR, remove

MOUNT_SOURCE = "tui-agent-ws"


def recover_deploy(journal: Journal) -> str:
    """Finish (past the commit point) or roll back (before it) a deploy whose process died; what was done."""
    project = Path(journal.project)
    try:
        root_fd = os.open(project, O_DIR)
    except OSError:
        return f"an interrupted deploy into {project} was dropped: the folder is gone"
    try:
        try:
            stage_fd = os.open(journal.stage, O_DIR, dir_fd=root_fd)
        except FileNotFoundError:
            stage_fd = -1
        try:
            if journal.state == "staging":
                what = "was rolled back: nothing had changed, the folder is as it was"
            elif journal.state == "undoing":
                if stage_fd >= 0 and not rollback(root_fd, stage_fd, journal):
                    return (f"an interrupted deploy into {project} could not be rolled back; its original files "
                            f"are kept in {project / journal.stage}")
                what = "had failed and was rolled back: the folder is as it was"
            elif stage_fd < 0 or journal.state == "committed":
                what = "had finished; its clean-up is done now"
            else:
                try:
                    commit(root_fd, stage_fd, journal)
                    what = (f"was finished: {len(journal.writes)} file(s) written, {len(journal.deletes)} removed, "
                            "as you approved")
                except (OSError, DeployError) as exc:
                    if not rollback(root_fd, stage_fd, journal):
                        return (f"an interrupted deploy into {project} could be neither finished ({exc}) nor rolled "
                                f"back; its original files are kept in {project / journal.stage}")
                    what = f"could not be finished ({exc}) and was rolled back: the folder is as it was"
        finally:
            if stage_fd >= 0:
                os.close(stage_fd)
        remove(project / journal.stage)
        fsync_dir(root_fd)
        return f"an interrupted deploy into {project} {what}"
    finally:
        os.close(root_fd)


def recover_deploys() -> list[str]:
    said = []
    for journal, path, lock_fd in interrupted():
        try:
            if journal is None:
                said.append(f"ignored {path}: not a deploy journal (left as is)")
                continue
            message = recover_deploy(journal)
            if "original files are kept" not in message:
                journal.discard()
            said.append(message)
        finally:
            os.close(lock_fd)
    sweep()
    return said


def abandoned_workspaces() -> list[Path]:
    """Workspace mounts of sessions whose process is gone (mounts of live runs, or not ours, are left alone)."""
    try:
        with open("/proc/mounts") as mounts:
            points = [line.split()[1] for line in mounts if line.split()[0] == MOUNT_SOURCE]
    except OSError:
        return []
    found = []
    for point in points:
        path = Path(point.replace("\\040", " "))
        session = path.parent
        if path.name == "workspace" and (session / "workspace.json").is_file() and inuse.abandoned(session):
            found.append(session)
    return found


def recover_workspaces() -> list[str]:
    from tui_agent.workspace.workspace import Workspace, WorkspaceError

    said = []
    for session in abandoned_workspaces():
        try:
            Workspace.open(session).close()  # the files are kept as a plain folder: resume mounts them again
            said.append(f"a killed run's workspace was unmounted, its files kept: {session}")
        except (OSError, WorkspaceError) as exc:
            said.append(f"a killed run's workspace could not be unmounted ({exc}): {session}")
    return said


def recover_containers() -> list[str]:
    """Sandbox containers (Docker, Podman, remote engines) of runs that were killed: see sandbox.docker.owners."""
    from tui_agent.sandbox.docker import owners

    return owners.recover()


def recover() -> list[str]:
    """Everything above, each told in one line (containers before mounts: a container holds its workspace)."""
    return recover_deploys() + recover_containers() + recover_workspaces()
