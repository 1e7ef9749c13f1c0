"""A server's prompts as text a person can insert into the goal (the TUI's command palette offers them)."""

from __future__ import annotations

from dataclasses import dataclass

import mcp_types as types
from mcp import Client


@dataclass(frozen=True)
class PromptEntry:
    server: str
    name: str
    description: str
    arguments: tuple[str, ...]  # their names; required ones first
    required: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"{self.server}: {self.name}" + (f" — {self.description}" if self.description else "")


async def list_prompts(server: str, client: Client) -> list[PromptEntry]:
    if client.server_capabilities.prompts is None:
        return []
    entries, cursor = [], None
    while True:
        page = await client.list_prompts(cursor=cursor)
        for p in page.prompts:
            args = sorted(p.arguments or [], key=lambda a: not a.required)
            entries.append(PromptEntry(server, p.name, p.description or "", tuple(a.name for a in args),
                                       tuple(a.name for a in args if a.required)))
        cursor = page.next_cursor
        if not cursor:
            return entries


async def prompt_text(client: Client, name: str, arguments: dict[str, str] | None = None) -> str:
    """The prompt's messages as plain text (text content; other content named), ready to go into a goal."""
    result = await client.get_prompt(name, arguments or None)
    parts = []
    for message in result.messages:
        block = message.content
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.EmbeddedResource) and isinstance(block.resource, types.TextResourceContents):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{getattr(block, 'type', 'content')} from the prompt not shown]")
    return "\n\n".join(parts)
