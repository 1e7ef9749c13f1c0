"""The client under test for the official MCP conformance suite: `python tests/mcp_conformance_client.py SERVER_URL`.

It drives the agent's own client code (tui_agent.tools.mcp: McpManager, its OAuth provider and token store): connect,
list the tools, call each one the suite offers with arguments made from its schema. The person at the browser step
is played by following the authorization URL (the suite's authorization server redirects at once to our loopback
callback). MCP_CONFORMANCE_CONTEXT may carry a pre-registered client (client_id / client_secret).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_agent.tools.mcp.callbacks import ClientSide  # noqa: E402
from tui_agent.tools.mcp.config import ServerConfig  # noqa: E402
from tui_agent.tools.mcp.manager import McpManager  # noqa: E402
from tui_agent.tools.mcp.questions import ElicitAnswer, Elicitation, SamplingRequest  # noqa: E402

# A test client ID metadata document URL, configured here only (never in shipped defaults); the SDK uses it
# only when the authorization server advertises client_id_metadata_document_supported.
TEST_CIMD_URL = "https://conformance-test.local/client-metadata.json"


def sample(schema: dict, text: str = "test") -> object:
    """A value that satisfies a (simple) JSON schema: its default, first enum value, or a plain one of its type."""
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: sample(v if isinstance(v, dict) else {}, text) for k, v in props.items()
                if k in (schema.get("required") or []) or "default" in (v or {})}
    return {"string": text, "integer": 1, "number": 1, "boolean": True, "array": []}.get(str(kind), text)


def calls(tool_name: str, schema: dict, offered: dict[str, dict]) -> list[dict]:
    """The arguments to call a tool with: from its schema; an echo tool gets the schema the model was given."""
    if tool_name == "json_schema_echo":
        others = sorted((name != "json_schema_2020_12_tool", name) for name in offered if name != tool_name)
        return [{"schema": offered[others[0][1]]}] if others else []
    args: list[dict] = [dict(sample(schema) or {})]  # type: ignore[call-overload]
    if "x-mcp-header" in json.dumps(schema):  # header mirroring: plain values, then ones that need base64
        args.append(dict(sample(schema, "h\u00e9llo w\u00f6rld \u2713")))  # type: ignore[call-overload]
    return args


class AcceptDefaults:
    """The person at the Permissions panel pressing "accept" on every form as shown (its defaults filled in)."""

    async def elicit(self, question: Elicitation) -> ElicitAnswer:
        return ElicitAnswer("accept", question.defaults())

    async def approve_sampling(self, request: SamplingRequest) -> bool:
        return False  # no model here: sampling is refused, as a person without budget would


def visit(url: str) -> None:
    """What a person's browser does: open the URL and follow its redirect (to our loopback callback)."""
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - loopback URLs from the suite
        response.read()


async def run(url: str) -> int:
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    oauth: dict = {"client_metadata_url": TEST_CIMD_URL}
    if context.get("client_id"):
        oauth = {"client_id": context["client_id"], "client_secret": context.get("client_secret")}
    loop = asyncio.get_running_loop()
    events: list[str] = []
    config = ServerConfig("conformance", "http", url=url, oauth=oauth)
    with tempfile.TemporaryDirectory(prefix="mcp-conf-") as folder:
        def emit(server: str, message: str) -> None:
            events.append(message)

        manager = McpManager([config], max_restarts=0, on_event=emit, connect_timeout=25.0,
                             client_side=ClientSide(emit, host=AcceptDefaults()))
        manager.oauth_folder = Path(folder)

        def person(server: str, link: str) -> None:  # visits every sign-in URL shown, in a worker thread
            events.append(f"sign in at {link}")
            loop.run_in_executor(None, visit, link)

        manager.show_sign_in = person
        async with manager:
            status = manager.servers()[0]
            if status.state != "ready":
                print(f"not connected: {status.reason}", file=sys.stderr)
                return 1
            failures = 0
            # the tools as the model sees them (names, schemas), called through the agent's own route
            offered = {spec.name.split("__", 2)[2]: dict(spec.input_schema) for spec in manager.specs()}
            for name, schema in offered.items():
                if name.startswith("invalid_"):
                    continue
                for arguments in calls(name, schema, offered):
                    result = await manager.call(f"mcp__conformance__{name}", arguments)
                    print(f"{name}: {'error' if result.is_error else 'ok'}: {result.content[:200]}", file=sys.stderr)
    return 0 if not failures else 1


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: mcp_conformance_client.py SERVER_URL", file=sys.stderr)
        return 2
    return asyncio.run(run(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
