"""An MCP tool or resource result as the model sees it: text, kept resource links and resources, images as images."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types

from tui_agent.tools.base import ToolResult

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # what the Anthropic API takes
MAX_IMAGE_B64 = 5 * 1024 * 1024 * 4 // 3  # the API's 5 MB per image, base64-encoded
MAX_IMAGES = 8


def image_block(mime_type: str | None, data: str) -> dict[str, Any] | None:
    """An Anthropic image block, or None for a type or size the model cannot take."""
    if mime_type not in IMAGE_TYPES or not data or len(data) > MAX_IMAGE_B64:
        return None
    return {"type": "image", "source": {"type": "base64", "media_type": mime_type, "data": data}}


def _size(data: str) -> int:
    return len(data) * 3 // 4


def resource_text(res: types.TextResourceContents | types.BlobResourceContents, images: list[dict]) -> str:
    """One resource's contents: its text, or its image (added to `images`), or what it is."""
    if isinstance(res, types.TextResourceContents):
        return res.text
    block = image_block(res.mime_type, res.blob) if len(images) < MAX_IMAGES else None
    if block is not None:
        images.append(block)
        return f"[image {res.uri} ({res.mime_type}, {_size(res.blob)} bytes): attached]"
    return f"[binary resource {res.uri} ({res.mime_type or 'unknown type'}, {_size(res.blob)} bytes) not shown]"


def flatten(result: types.CallToolResult) -> ToolResult:
    """A tool result: text blocks, resource links with what they say of themselves, embedded resources' contents,
    images as image blocks (audio is named), and the structured content when no text came with it."""
    parts: list[str] = []
    images: list[dict] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent):
            image = image_block(block.mime_type, block.data) if len(images) < MAX_IMAGES else None
            if image is not None:
                images.append(image)
            state = "attached" if image is not None else "not shown"
            parts.append(f"[image ({block.mime_type}, {_size(block.data)} bytes): {state}]")
        elif isinstance(block, types.AudioContent):
            parts.append(f"[audio ({block.mime_type}, {_size(block.data)} bytes): not shown]")
        elif isinstance(block, types.ResourceLink):
            about = ", ".join(x for x in (block.name, block.mime_type, block.description) if x)
            parts.append(f"[resource link: {block.uri}" + (f" ({about})]" if about else "]")
                         + " (read it with read_mcp_resource)")
        elif isinstance(block, types.EmbeddedResource):
            parts.append(f"[resource {block.resource.uri}]\n" + resource_text(block.resource, images))
        else:
            parts.append(f"[{getattr(block, 'type', type(block).__name__)} content not shown]")
    if result.structured_content is not None and not any(isinstance(b, types.TextContent) for b in result.content):
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return ToolResult("\n".join(parts), is_error=bool(result.is_error), images=tuple(images))


def tool_hints(tool: types.Tool) -> tuple[str, ...]:
    """The tool's annotations in words; claims of the server, never trusted to loosen the policy."""
    a = tool.annotations
    if a is None:
        return ()
    named = (("read-only", a.read_only_hint), ("destructive", a.destructive_hint),
             ("idempotent", a.idempotent_hint), ("open-world", a.open_world_hint))
    return tuple(word for word, flag in named if flag)


def hints_text(tool: types.Tool) -> str:
    hints = [h for h in tool_hints(tool) if h in ("read-only", "destructive")]
    return f" ({', '.join(hints)})" if hints else ""
