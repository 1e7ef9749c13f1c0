"""The MCP servers as the person sees them: their state read from the run, and restarting the failed ones."""

from __future__ import annotations

import asyncio


class McpActions:
    """Mixed into AgentApp; uses its `agent_run`, `state`, `main` and `closed`."""

    def _mcp(self):
        return None if self.closed else getattr(self.agent_run, "mcp", None)

    def failed_servers(self) -> list[str]:
        return [srv.name for srv in self.state.servers if srv.state == "failed"]

    def refresh_servers(self) -> None:
        """Read each server's state, tools and reason from the run; re-render the panel when something changed."""
        mcp = self._mcp()
        if mcp is None or self.main is None:
            return
        try:
            servers = tuple(mcp.servers())
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
        mcp = self._mcp()
        if not names or mcp is None:
            self.notify("No MCP server has failed: nothing to restart.", timeout=3)
            return
        self.notify(f"Restarting MCP server{'s' if len(names) > 1 else ''}: {', '.join(names)}", timeout=5)
        self.run_worker(self._restart(mcp, names), group="mcp-restart", exit_on_error=False)

    async def _restart(self, mcp, names: list[str]) -> None:
        await asyncio.gather(*(mcp.restart(name) for name in names), return_exceptions=True)
        self.refresh_servers()
        by_name = {srv.name: srv for srv in self.state.servers}
        for name in names:
            srv = by_name.get(name)
            if srv is not None and srv.state == "ready":
                self.notify(f"MCP server {name} is ready: {len(srv.tools)} tool(s).", timeout=5)
            elif srv is not None:
                self.notify(f"MCP server {name} is {srv.state}: {srv.reason or 'no reason given'}",
                            severity="error", timeout=15)
