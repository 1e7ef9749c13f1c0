"""Built-in tools over MCP resources: `list_mcp_resources {server?}` and `read_mcp_resource {server, uri}`.

They are tools like any other (the policy asks before each, by default); what they return keeps its content and
images reach the model as images."""

from __future__ import annotations

from typing import Any

from mcp import Client

from tui_agent.models.base import ToolSpec
from tui_agent.tools.base import ToolResult
from tui_agent.tools.mcp.results import resource_text

LIST, READ = "list_mcp_resources", "read_mcp_resource"
MAX_LISTED = 200

SPECS = (
    ToolSpec(LIST, "List the resources the MCP servers offer (uri, name, type, description).",
             {"type": "object", "properties": {"server": {"type": "string", "description": "only this server"}}}),
    ToolSpec(READ, "Read one resource of an MCP server by its uri.",
             {"type": "object", "properties": {"server": {"type": "string"}, "uri": {"type": "string"}},
              "required": ["server", "uri"]}),
)


def offers_resources(client: Client | None) -> bool:
    return client is not None and client.server_capabilities.resources is not None


async def list_resources(clients: dict[str, Client], server: str | None) -> ToolResult:
    if server is not None and server not in clients:
        return ToolResult(f"no MCP server {server!r} offers resources (servers: {', '.join(clients) or 'none'})", True)
    lines: list[str] = []
    for name, client in clients.items():
        if server is not None and name != server:
            continue
        cursor = None
        while len(lines) < MAX_LISTED:
            page = await client.list_resources(cursor=cursor)
            for res in page.resources:
                about = ", ".join(x for x in (res.name, res.mime_type, res.description) if x)
                lines.append(f"{name}: {res.uri}" + (f" ({about})" if about else ""))
            cursor = page.next_cursor
            if not cursor:
                break
    if len(lines) >= MAX_LISTED:
        lines = lines[:MAX_LISTED] + [f"[more than {MAX_LISTED} resources; name a server to narrow the list]"]
    return ToolResult("\n".join(lines) or "no resources")


async def read_resource(clients: dict[str, Client], arguments: dict[str, Any]) -> ToolResult:
    server, uri = arguments.get("server"), arguments.get("uri")
    if not isinstance(server, str) or not isinstance(uri, str) or not uri or len(uri) > 4096:
        return ToolResult("read_mcp_resource needs {server, uri} (strings; uri up to 4096 characters)", True)
    client = clients.get(server)
    if client is None:
        return ToolResult(f"no MCP server {server!r} offers resources (servers: {', '.join(clients) or 'none'})", True)
    result = await client.read_resource(uri)
    images: list[dict] = []
    parts = [f"[resource {c.uri}]\n" + resource_text(c, images) for c in result.contents]
    return ToolResult("\n".join(parts) or f"{uri}: empty", images=tuple(images))
