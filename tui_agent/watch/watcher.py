"""Watch mode: file-system events → debounced sync of the changed paths → the check → a proposed fix."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Callable

from tui_agent.agent.control import StopRequested
from tui_agent.agent.loop import AgentLoop, BadCheck, SandboxFailed
from tui_agent.commands import Command, Deploy, Reply
from tui_agent.events import (
    AutoFixToggled, ChangesQueued, ChangesSynced, Deployed, DeployReady, DeployRefused, Error, Event, FixRebased,
    FixRefused, WatchStarted, WatchStopped,
)
from tui_agent.runner import Run
from tui_agent.watch.notify import Batch, FolderNotifier
from tui_agent.watch.round import new_round
from tui_agent.watch.sync import ProjectSync
from tui_agent.workspace.deploy_risk import shown
from tui_agent.workspace.workspace import DeployError

STEP_MS = 10  # watchfiles yields a batch once no change came for this long ...
DEBOUNCE_MS = 500  # ... or this long after the first change of a batch
SETTLE_S = 0.3  # in a burst (a big batch, or batches in a row), wait until it is this quiet before checking
BURST = 20  # a batch with this many paths is a burst


class Watcher:
    """Keeps a project folder green: `await run()` until stop(); the person acts with deploy(), set_auto_fix(),
    recheck() and the current round's controller (`round.control`: permissions, pause, stop the fix)."""

    def __init__(self, run: Run, *, auto_fix: bool = True, step_ms: int = STEP_MS, debounce_ms: int = DEBOUNCE_MS,
                 settle_s: float = SETTLE_S) -> None:
        self.run, self.workspace = run, run.workspace
        self.sync = ProjectSync(run.workspace)  # the person's changes into the workspace
        self.project = Path(run.workspace.project)
        self.auto_fix = auto_fix
        self.step_ms, self.debounce_ms, self.settle_s = step_ms, debounce_ms, settle_s
        self.sinks: list[Callable[[Event], None]] = [run.recorder.write]
        self.phase = "starting"  # starting | checking | fixing | idle | stopped
        self.passed: bool | None = None  # the last check's verdict
        self.checks = 0
        self.round: AgentLoop | None = None
        self.fix_files: set[str] = set()  # the fix held in the workspace (offered once the check passes with it)
        self.proposal: DeployReady | None = None
        self.pending: set[str] = set()  # the person's changed paths not yet taken in
        self.watcher_kind = "native"
        self._halt = threading.Event()
        self._stop_reason = ""
        self._wake = asyncio.Event()
        self._last_batch = 0.0
        self._burst = False
        self._recheck = False

    # --- events --------------------------------------------------------------------------

    def subscribe(self, sink: Callable[[Event], None]) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)

    @property
    def busy(self) -> bool:
        return self.phase in ("starting", "checking", "fixing")

    # --- the person's commands -----------------------------------------------------------

    def stop(self, reason: str = "stopped by the person") -> None:
        self._stop_reason = self._stop_reason or reason
        self._halt.set()
        if self.round is not None:
            self.round.control.stop(reason)
        self._wake.set()

    def set_auto_fix(self, on: bool) -> None:
        if on == self.auto_fix:
            return
        self.auto_fix = on
        self.emit(AutoFixToggled(on))
        if not on and self.phase == "fixing" and self.round is not None:
            self.round.control.stop("auto-fix turned off")
        elif on and self.passed is False and not self.busy:
            self.recheck()

    def recheck(self) -> None:
        """Run the check again now (and fix, if it fails and auto-fix is on)."""
        self._recheck = True
        self._wake.set()

    def send(self, command: Command) -> Reply:
        """Deploy the proposed fix; the other commands go to the fix being made (answer, pause, resume, stop it)."""
        if isinstance(command, Deploy):
            if command.hunks is not None:  # never the whole fix in place of the person's subset
                return Reply(False, "watch mode deploys the proposed fix whole; no per-hunk deploy here")
            event = self.deploy(command.include)
            return Reply(True) if isinstance(event, Deployed) else Reply(False, event.reason)
        if self.round is None:
            return Reply(False, "no fix is being made")
        return self.round.control.send(command)

    def deploy(self, include: tuple = ()) -> Deployed | DeployRefused:
        """The person approved the proposed fix: the safe copy-back into their folder (as a run's Deploy).

        A fix is applied whole: one that changes a flagged file goes only when the person checked every one."""
        event: Deployed | DeployRefused
        unchecked = [p for p, _, _ in self.proposal.flagged if p not in include] if self.proposal else []
        if self.proposal is None:
            event = DeployRefused("there is no proposed fix to deploy")
        elif unchecked:
            event = DeployRefused(f"the fix also changes {', '.join(unchecked)} (flagged: it can run code on your "
                                  "machine or change tui-agent); check it to apply the fix; nothing was deployed")
        elif self.busy or self.pending:
            event = DeployRefused("your latest changes are still being taken in and checked; nothing was deployed")
        else:
            try:
                files = self.sync.deploy()  # our own writes: their events will read as "no change"
            except DeployError as exc:
                event = DeployRefused(str(exc))
            else:
                self.fix_files, self.proposal = set(), None
                event = Deployed(tuple(files))
        self.emit(event)
        return event

    # --- running -------------------------------------------------------------------------

    async def run_until_stopped(self) -> int:
        """Watch until stop(); 0 when the last check passed, 1 when not. BadCheck on the first check propagates."""
        notifier = FolderNotifier(self.project, self._halt, debounce_ms=self.debounce_ms, step_ms=self.step_ms)
        await notifier.start()  # watching from here: no edit made after WatchStarted is missed
        self.watcher_kind = notifier.kind
        reader: asyncio.Future | None = None
        try:
            self.emit(self.run.loop.session_started(mode="watch", auto_fix=self.auto_fix))
            config = self.run.loop.config
            self.emit(WatchStarted(config.session_id, str(self.project), config.check, config.sandbox_name,
                                   str(self.workspace.path), self.auto_fix, self.watcher_kind))
            await self.run.loop.prepare_environment()  # the project's environment, before the first check
            reader = asyncio.ensure_future(self._read(notifier))
            await self._cycle(first=True)
            while not self._halt.is_set():
                await self._next()
        finally:
            self._halt.set()
            if reader is not None:
                await asyncio.gather(reader, return_exceptions=True)
            await notifier.close()
            self.phase = "stopped"
            self.emit(WatchStopped(self._stop_reason or "stopped", self.checks, self.passed))
        return 0 if self.passed else 1

    async def _read(self, notifier: FolderNotifier) -> None:
        """File-system batches → pending paths (filtered); never blocks on the checks."""
        try:
            async for batch in notifier.batches():
                self._take(batch)
        except Exception as exc:  # e.g. the folder itself went away: say so, and stop
            self.emit(Error(f"watching {self.project} failed: {exc}", fatal=True))
            self.stop(f"watching failed: {exc}")

    def _take(self, raw: Batch) -> None:
        root, paths = str(self.project) + "/", set()
        for _change, path in raw:
            if path.startswith(root):
                rel = path[len(root):]
                if self.sync.watched(rel):
                    paths.add(rel)
        if not paths:
            return
        now = time.monotonic()
        self._burst = len(paths) >= BURST or now - self._last_batch < self.settle_s
        self._last_batch = now
        self.pending |= paths
        if self.busy:
            what = "the agent is fixing" if self.phase == "fixing" else "the check is running"
            self.emit(ChangesQueued(tuple(sorted(paths)), f"{what}: taken into account afterwards"))
        self._wake.set()

    async def _next(self) -> None:
        await self._wake.wait()
        if self._halt.is_set():
            return
        while self._burst and (quiet := time.monotonic() - self._last_batch) < self.settle_s:
            await asyncio.sleep(self.settle_s - quiet)  # one or two checks for a burst, not one per batch
        self._wake.clear()
        paths, self.pending = self.pending, set()
        recheck, self._recheck = self._recheck, False
        if paths and await self._take_in(paths):
            return
        if recheck:
            await self._cycle()

    async def _take_in(self, paths: set[str]) -> bool:
        """Sync the person's paths into the workspace (refusing or rebasing a fix in the way); True if checked."""
        result = self.sync.sync_paths(paths, hold=self.fix_files)
        if result.held:
            files = ", ".join(result.held[:5]) + (" …" if len(result.held) > 5 else "")
            what = "the proposed fix" if self.proposal else "the fix"
            self.emit(FixRefused(f"you changed {files} while the agent's fix changed it too: your version is kept "
                                 f"and {what} was dropped; checking your version", tuple(result.held)))
            self._drop_fix()
            again = self.sync.sync_paths(result.held)
            result.files += again.files
            result.removed += again.removed
        if not (result.files or result.removed):
            return False
        self.emit(ChangesSynced(tuple(result.files), tuple(result.removed), round(result.seconds * 1000, 3)))
        if self.fix_files:
            self.proposal = None
            self.emit(FixRebased(tuple(result.files + result.removed), tuple(sorted(self.fix_files))))
        await self._cycle()
        return True

    def _drop_fix(self) -> None:
        self.sync.drop_fix()
        self.fix_files, self.proposal = set(), None

    async def _cycle(self, first: bool = False) -> None:
        """Check the workspace; when it fails (and auto-fix is on) run a fix round; offer a fix that passes."""
        loop = new_round(self.run, self.emit)
        self.round, self.phase = loop, "checking"
        try:
            passed = await loop.check(0)
        except BadCheck as exc:
            if first:
                raise
            self.emit(Error(str(exc)))
            passed = False
        except SandboxFailed as exc:
            self.emit(Error(str(exc)))
            self.passed, self.phase, self.round = None, "idle", None
            return
        except StopRequested:
            self.phase, self.round = "idle", None
            return
        self.checks += 1
        self.passed = passed
        if passed and self.fix_files:
            self._offer()
        elif not passed and self.auto_fix and not self._halt.is_set():
            await self._fix(loop)
        self.round = None
        if self.phase != "stopped":
            self.phase = "idle"

    async def _fix(self, loop: AgentLoop) -> None:
        self.phase = "fixing"
        finished = await loop.run()
        if self._halt.is_set():
            return
        if finished.outcome != "met":
            self._drop_fix()  # the attempt did not make it pass: the workspace is the person's folder again
            return
        self.passed = True
        self.fix_files = set(self.sync.fix_paths())
        if self.fix_files and not self.pending:
            self._offer()  # else the queued edits come first: refuse or rebase, re-check, then offer

    def _offer(self) -> None:
        diff, files = self.sync.fix_diff()
        plan = self.sync.ws.plan_deploy()
        self.proposal = DeployReady(diff, tuple(files), shown(self.sync.ws.path, plan), tuple(plan.skipped))
        self.emit(self.proposal)
