"""The MCP servers as the app shows them: their state read from the run (polled, and on their progress lines) into
RunState, the Permissions panel re-shown when it changed, a server the person restarted told once it settles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from tui_agent.handle import RunHandle
    from tui_agent.tools.mcp.manager import ServerStatus
    from tui_agent.tui.state import RunState

    Notify = Callable[..., None]  # App.notify(message, *, severity=..., timeout=...)


class ServersView:
    """Owned by the app, which hands it what it needs: the state, the run (None while the panels cannot show it),
    how to re-show the panel, how to notify. It holds no reference to the app."""

    def __init__(self, state: RunState, *, run: Callable[[], RunHandle | None], shown: Callable[[], None],
                 notify: Notify) -> None:
        self.state, self.run, self.shown, self.notify = state, run, shown, notify

    def refresh(self) -> None:
        """Read each server's state, tools and reason from the run; re-show the panel when something changed."""
        run = self.run()
        if run is None:
            return
        try:
            servers = run.servers()
        except Exception:  # a manager being closed: keep what was shown
            return
        self.show(servers)

    def show(self, servers: Iterable[ServerStatus]) -> None:
        if tuple(servers) != self.state.servers:
            self.state.servers = tuple(servers)
            self.shown()

    def changed(self, name: str, message: str) -> None:
        """A server's progress line: once a server the person restarted is ready or failed again, say so."""
        state = self.state
        if name not in state.restarting or not (message == "ready" or message.startswith("failed")):
            return
        state.restarting.discard(name)
        self.refresh()
        srv = next((srv for srv in state.servers if srv.name == name), None)
        if srv is not None and srv.state == "ready":
            self.notify(f"MCP server {name} is ready: {len(srv.tools)} tool(s).", timeout=5)
        elif srv is not None:
            self.notify(f"MCP server {name} is {srv.state}: {srv.reason or 'no reason given'}", severity="error",
                        timeout=15)
