"""The MCP servers in the Permissions panel: their state polled and from their progress lines; restarts told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from tui_agent.tools.mcp.manager import ServerStatus


class ServersView:
    """Mixed into AgentApp: it reads the app's agent_run, state, main, rules() and notify()."""

    def refresh_servers(self) -> None:
        """Read each server's state, tools and reason from the run; re-render the panel when something changed."""
        app: Any = self
        if app.agent_run is None or app.closed or app._main is None or not app._main.ready:
            return
        try:
            servers = app.agent_run.servers()
        except Exception:  # a manager being closed: keep what was shown
            return
        app.show_servers(servers)

    def show_servers(self, servers: Iterable[ServerStatus]) -> None:
        app: Any = self
        if tuple(servers) != app.state.servers:
            app.state.servers = tuple(servers)
            app.main.permissions.show(app.state, app.rules())
            app.main.refresh_bindings()

    def server_changed(self, name: str, message: str) -> None:
        """A server's progress line: once a server the person restarted is ready or failed again, say so."""
        app: Any = self
        if name not in app.state.restarting or not (message == "ready" or message.startswith("failed")):
            return
        app.state.restarting.discard(name)
        self.refresh_servers()
        srv = next((srv for srv in app.state.servers if srv.name == name), None)
        if srv is not None and srv.state == "ready":
            app.notify(f"MCP server {name} is ready: {len(srv.tools)} tool(s).", timeout=5)
        elif srv is not None:
            app.notify(f"MCP server {name} is {srv.state}: {srv.reason or 'no reason given'}", severity="error",
                       timeout=15)
