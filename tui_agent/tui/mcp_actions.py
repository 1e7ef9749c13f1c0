"""The MCP servers as the person sees them: their state read from the run, and restarting the failed ones."""

from __future__ import annotations

from tui_agent.commands import RestartServers


class McpActions:
    """Mixed into AgentApp; uses its `agent_run`, `state`, `main` and `closed`."""

    restarting: set[str] = set()

    def failed_servers(self) -> list[str]:
        return [srv.name for srv in self.state.servers if srv.state == "failed"]

    def refresh_servers(self) -> None:
        """Read each server's state, tools and reason from the run; re-render the panel when something changed."""
        if self.agent_run is None or self.closed or self.main is None:
            return
        try:
            servers = self.agent_run.servers()
        except Exception:  # a manager being closed: keep what was shown
            return
        self.show_servers(servers)

    def show_servers(self, servers) -> None:
        if tuple(servers) != self.state.servers:
            self.state.servers = tuple(servers)
            self.main.permissions.show(self.state, self.rules())
            self.refresh_bindings()

    def action_restart_servers(self) -> None:
        names = self.failed_servers()
        if not names or self.agent_run is None or self.closed:
            self.notify("No MCP server has failed: nothing to restart.", timeout=3)
            return
        reply = self.agent_run.send(RestartServers(tuple(names)))
        if not reply.ok:
            self.notify(f"Not restarted: {reply.note}", severity="warning", timeout=5)
            return
        self.restarting = self.restarting | set(names)
        self.notify(f"Restarting MCP server{'s' if len(names) > 1 else ''}: {', '.join(names)}", timeout=5)

    def server_changed(self, name: str, message: str) -> None:
        """A server's progress line: once a restarted server is ready or failed again, say so."""
        if name not in self.restarting or not (message == "ready" or message.startswith("failed")):
            return
        self.restarting = self.restarting - {name}
        self.refresh_servers()
        srv = next((srv for srv in self.state.servers if srv.name == name), None)
        if srv is not None and srv.state == "ready":
            self.notify(f"MCP server {name} is ready: {len(srv.tools)} tool(s).", timeout=5)
        elif srv is not None:
            self.notify(f"MCP server {name} is {srv.state}: {srv.reason or 'no reason given'}",
                        severity="error", timeout=15)
