"""The person's commands: pause, step, stop, answer a tool call, deploy, focus, browse. No loop logic here."""

from __future__ import annotations

import asyncio

from tui_agent.commands import Deploy, Pause, Resume, Step, Stop
from tui_agent.sanitize import sanitize
from tui_agent.tui.screens.deploy import Checklist, DeployScreen

ANSWERS = {"allow": "allow", "always": "always", "deny": "deny"}


class PersonActions:
    """Mixed into AgentApp; uses its `run`, `state`, `main` and `settings`."""

    _deploy_process: asyncio.subprocess.Process | None = None

    # --- which keys apply now (hidden: False, shown dimmed: None) ------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        state = self.state
        live = self.agent_run is not None and state.finished is None
        if action in ("pause", "resume"):
            paused = state.paused or state.pause_requested
            if (action == "pause") == paused:
                return False
            return True if live else None
        if action in ("step", "stop"):
            return True if live else None
        if action in ANSWERS or action == "edit":
            return True if state.pending and not self.replaying else None
        if action == "restart_servers":
            return bool(self.failed_servers()) and not self.closed  # shown only when a server has failed
        if action == "deploy":
            if self.replaying:
                return True if self.agent_run is not None else None  # says, in the core's words, that it is a replay
            return True if state.deploy_ready is not None and state.deployed is None else None
        return True

    def _no_run(self) -> bool:
        if self.agent_run is None:
            self.notify("No run to control (the sandbox is starting, or this is a replay).", severity="warning")
            return True
        return False

    # --- the loop ------------------------------------------------------------------------

    def action_pause(self) -> None:
        if not self._no_run():
            self.agent_run.send(Pause())
            self.state.pause_requested = True
            self.refresh_views()

    def action_resume(self) -> None:
        if not self._no_run():
            self.state.pause_requested = False
            self.agent_run.send(Resume())
            self.drain()
            self.refresh_views()

    def action_step(self) -> None:
        if not self._no_run():
            self.agent_run.send(Step())
            self.drain()
            self.refresh_views()

    def action_stop(self) -> None:
        if not self._no_run() and self.state.finished is None:
            self.agent_run.send(Stop("stopped by the person"))
            self.state.stop_requested = True
            self.refresh_views()

    # --- tool permissions ----------------------------------------------------------------

    def _answer(self, action: str) -> None:
        call_id = self.main.permissions.selected
        if call_id is None:
            self.notify("No tool call is waiting for you.")
            return
        self.answer_call(call_id, ANSWERS[action])  # now, or ahead when paused at a breakpoint before the ask

    def action_allow(self) -> None:
        self._answer("allow")

    def action_always(self) -> None:
        self._answer("always")

    def action_deny(self) -> None:
        self._answer("deny")

    # --- the deploy gate -----------------------------------------------------------------

    def action_deploy(self) -> None:
        state = self.state
        if self.replaying and self.agent_run is not None:
            self.agent_run.send(Deploy())  # a replay refuses, in its own words
            self.drain()
            return
        if state.deploy_ready is None:
            self.notify("Nothing to deploy yet: the check must pass first.", severity="warning")
            return
        criteria, last = state.criteria, state.last_check
        checklist = Checklist(
            project=state.project or str(self.settings.project), check_passed=bool(last and last.passed),
            iterations=state.iterations_done, max_iterations=criteria.get("max_iterations"),
            cost_usd=state.cost_usd, budget_usd=criteria.get("budget_usd"), files=tuple(state.deploy_ready.files),
            deploy_command=self.settings.deploy_command,
        )
        self.clear_notifications()  # nothing may cover the dialog's buttons
        self.push_screen(DeployScreen(state.deploy_ready.diff, checklist), self._deploy_answered)

    def _deploy_answered(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("Deploy cancelled: your folder was not changed.")
            return
        if self._no_run():
            return
        reply = self.agent_run.send(Deploy())  # the engine's safe copy-back; emits Deployed or DeployRefused
        self.drain()
        if reply.ok and self.settings.deploy_command:
            self.run_worker(self._deploy_command(self.settings.deploy_command), group="deploy", exit_on_error=False)

    async def _deploy_command(self, command: str) -> None:
        """The configured deploy command, on the host in the project folder, after the person approved."""
        log = self.main.output
        log.heading(f"\x1b[1m── deploy command: {command}\x1b[0m", mark="deploy")
        self._deploy_process = proc = await asyncio.create_subprocess_shell(
            command, cwd=str(self.settings.project), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        while chunk := await proc.stdout.read(65536):
            log.append(sanitize(chunk.decode("utf-8", errors="replace")))
        code = await proc.wait()
        ok = code == 0
        log.heading(f"\x1b[1;{32 if ok else 31}m── deploy command exited {code}\x1b[0m")
        self.notify(f"Deploy command {'finished' if ok else f'failed (exit {code})'}: {command}",
                    severity="information" if ok else "error", timeout=30)

    async def stop_deploy_command(self) -> None:
        proc = self._deploy_process
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    # --- focus and browsing --------------------------------------------------------------

    def action_focus_panel(self, panel: str) -> None:
        self.main.focus_target(panel).focus()

    def action_browse(self, delta: int) -> None:
        if not self.main.fixes.browse(delta):
            self.notify("No earlier fix." if delta < 0 else "This is the latest fix.", timeout=2)

    def action_cumulative(self) -> None:
        fixes = self.main.fixes
        fixes.toggle_cumulative(None if fixes.cumulative else self.cumulative_diff())

    def action_cause(self) -> None:
        fix = self.main.fixes.current
        if fix is None or fix.cause is None:
            self.notify("No fix shown, so no failing output to show.", timeout=3)
            return
        if self.main.output.jump(f"check-{fix.cause.iteration}"):
            self.main.output.focus()
        else:
            self.notify("That output is no longer kept (the output log is bounded).", severity="warning")

    def action_zoom(self) -> None:
        screen = self.main
        if screen.maximized is not None:
            screen.minimize()
        elif screen.focused is not None:
            screen.maximize(screen.focused)
