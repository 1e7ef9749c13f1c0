"""What tools and resources of `@modelcontextprotocol/server-everything` give the model: images as image blocks (kept
through the event record), resource links and embedded resources with their content, structured content, the
resource tools, and tool annotations that are shown but never loosen the policy."""

from __future__ import annotations

import json

from mcp_fixtures import everything  # noqa: F401  (the fixture)

from tui_agent.agent.conversation import Conversation
from tui_agent.events import Event
from tui_agent.events.turns import ToolCallFinished
from tui_agent.tools.mcp.manager import McpManager
from tui_agent.tools.permissions.policy import Policy

TOOL = "mcp__everything__"


async def test_images_links_embedded_resources_and_structured_content(everything):  # noqa: F811
    async with McpManager([everything]) as m:
        image = await m.call(TOOL + "get-tiny-image", {})
        assert [i["source"]["media_type"] for i in image.images] == ["image/png"]
        assert "[image (image/png" in image.content and "attached]" in image.content
        links = await m.call(TOOL + "get-resource-links", {"count": 2})
        assert links.content.count("[resource link: demo://resource/") == 2 and "text/plain" in links.content
        embedded = await m.call(TOOL + "get-resource-reference", {})
        assert "[resource demo://resource/dynamic/text/1]" in embedded.content
        assert "This is a plaintext resource" in embedded.content  # the content itself, not a placeholder
        structured = await m.call(TOOL + "get-structured-content", {"location": "Chicago"})
        assert "temperature" in json.loads(structured.content.splitlines()[0])

    finished = ToolCallFinished(1, "c1", TOOL + "get-tiny-image", image.content, images=image.images)
    again = Event.from_dict(json.loads(json.dumps(finished.to_dict())))
    conversation = Conversation()
    conversation.apply(again)
    block = conversation.messages[-1]["content"][-1]
    assert block["type"] == "tool_result"
    assert [b["type"] for b in block["content"]] == ["text", "image"]
    assert block["content"][1]["source"]["data"] == image.images[0]["source"]["data"]


async def test_the_resource_tools_list_and_read(everything):  # noqa: F811
    async with McpManager([everything]) as m:
        names = [s.name for s in m.specs()]
        assert "list_mcp_resources" in names and "read_mcp_resource" in names
        listing = await m.call("list_mcp_resources", {})
        assert "everything: demo://resource/static/document/architecture.md" in listing.content
        doc = await m.call("read_mcp_resource", {"server": "everything",
                                                 "uri": "demo://resource/static/document/architecture.md"})
        assert not doc.is_error and "Architecture" in doc.content
        bad = await m.call("read_mcp_resource", {"server": "nowhere", "uri": "demo://x"})
        assert bad.is_error and "nowhere" in bad.content
        missing = await m.call("read_mcp_resource", {"server": "everything"})
        assert missing.is_error and "{server, uri}" in missing.content


async def test_annotations_are_shown_and_never_loosen_the_policy(everything):  # noqa: F811
    async with McpManager([everything]) as m:
        specs = {s.name: s for s in m.specs()}
        assert specs[TOOL + "echo"].description.startswith("[everything] (read-only) ")
        assert m.hints(TOOL + "echo") == ("read-only", "idempotent")
    policy = Policy()
    assert policy.evaluate(TOOL + "echo", {"message": "hi"}).action == "ask"  # a read-only claim runs nothing
    assert policy.evaluate("read_mcp_resource", {"server": "everything", "uri": "demo://x"}).action == "ask"


async def test_prompts_are_listed_and_read_as_text_for_the_goal(everything):  # noqa: F811
    async with McpManager([everything]) as m:
        entries = {e.name: e for e in await m.prompts()}
        assert {"simple-prompt", "args-prompt"} <= set(entries)
        assert entries["args-prompt"].required == ("city",)
        assert entries["simple-prompt"].title.startswith("everything: ")
        text = await m.prompt_text("everything", "args-prompt", {"city": "Lisbon"})
        assert "Lisbon" in text
        try:
            await m.prompt_text("everything", "no-such-prompt")
        except ValueError as exc:
            assert "no-such-prompt" in str(exc)
        else:
            raise AssertionError("an unknown prompt must raise")
