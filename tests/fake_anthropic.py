"""A fake Anthropic Messages API on 127.0.0.1 (JSON and SSE), scriptable with replies and faults, for tests."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

API_VERSION_HEADER = "anthropic-version"
_ids = itertools.count(1)


@dataclass
class Reply:
    """One assistant message. blocks: {"type": "text", "text"} / {"type": "tool_use", "name", "input", "id"?,
    "raw_json"? (sent verbatim as the streamed input, e.g. invalid JSON)}."""

    blocks: list[dict]
    stop_reason: str | None = None  # default: tool_use if any tool_use block, else end_turn
    input_tokens: int = 100
    output_tokens: int = 20
    cache_read: int = 0
    cache_write: int = 0
    chunk: int = 7  # characters per text / JSON delta
    error_after: int | None = None  # stream: send an `error` event after this many events
    error_type: str = "overloaded_error"
    hang_after: int | None = None  # stream: stop sending (hang) after this many events
    hang_s: float = 30.0
    model: str | None = None


@dataclass
class Fault:
    """An HTTP error answer: e.g. Fault(429, "rate_limit_error", headers={"retry-after": "0"})."""

    status: int
    error_type: str = "api_error"
    message: str = "fake fault"
    headers: dict = field(default_factory=dict)


def text(t: str, **kw: Any) -> Reply:
    return Reply([{"type": "text", "text": t}], **kw)


def tool(name: str, args: dict | None = None, *, raw_json: str | None = None, id: str | None = None) -> dict:
    block = {"type": "tool_use", "name": name, "input": args or {}, "id": id or f"toolu_{next(_ids):04d}"}
    if raw_json is not None:
        block["raw_json"] = raw_json
    return block


def tools(*calls: dict, say: str | None = None, **kw: Any) -> Reply:
    blocks = ([{"type": "text", "text": say}] if say else []) + list(calls)
    return Reply(blocks, **kw)


Script = Reply | Fault | Callable[[dict], "Reply | Fault"]


class FakeAnthropic:
    """Run with `with FakeAnthropic() as fake:`; point the SDK at fake.base_url with key fake.api_key."""

    def __init__(self, api_key: str = "sk-test-fake", default: Script | None = None) -> None:
        self.api_key = api_key
        self.default = default  # answer when the queue is empty (else a 500 saying so)
        self.queue: list[Script] = []
        self.requests: list[dict] = []  # every request body that passed auth
        self.headers: list[dict] = []  # headers of every request (also rejected ones)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="fake-anthropic",
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def push(self, *items: Script) -> "FakeAnthropic":
        with self.lock:
            self.queue.extend(items)
        return self

    def start(self) -> "FakeAnthropic":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def next_script(self, body: dict) -> Reply | Fault:
        with self.lock:
            item = self.queue.pop(0) if self.queue else self.default
        if item is None:
            return Fault(500, "api_error", "fake server: no scripted response left")
        return item(body) if callable(item) else item


def _error_body(error_type: str, message: str) -> dict:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"}


def _message(reply: Reply, body: dict) -> tuple[dict, list[dict]]:
    """The final message, and its content blocks as the API returns them."""
    content = []
    for b in reply.blocks:
        if b["type"] == "tool_use":
            content.append({"type": "tool_use", "id": b["id"], "name": b["name"], "input": b["input"]})
        else:
            content.append(dict(b))
    stop = reply.stop_reason or ("tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn")
    usage = {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens,
             "cache_creation_input_tokens": reply.cache_write, "cache_read_input_tokens": reply.cache_read}
    msg = {"id": f"msg_fake{next(_ids):04d}", "type": "message", "role": "assistant",
           "model": reply.model or body.get("model", "claude-fake"), "content": content,
           "stop_reason": stop, "stop_sequence": None, "usage": usage}
    return msg, content


def _events(reply: Reply, body: dict) -> list[tuple[str, dict]]:
    msg, _ = _message(reply, body)
    start = dict(msg, content=[], stop_reason=None,
                 usage=dict(msg["usage"], output_tokens=1))
    events: list[tuple[str, dict]] = [("message_start", {"type": "message_start", "message": start}),
                                      ("ping", {"type": "ping"})]
    n = reply.chunk
    for i, b in enumerate(reply.blocks):
        if b["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                   "content_block": {"type": "text", "text": ""}}))
            for j in range(0, len(b["text"]), n):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                       "delta": {"type": "text_delta", "text": b["text"][j:j + n]}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}}))
            raw = b.get("raw_json", json.dumps(b["input"]))
            for j in range(0, len(raw), n):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                    "type": "input_json_delta", "partial_json": raw[j:j + n]}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                                     "usage": {"output_tokens": reply.output_tokens}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _handler(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the socket closes

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, obj: dict, headers: dict | None = None) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", "req_fake")
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            with fake.lock:
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.split("?")[0] != "/v1/messages":
                return self._json(404, _error_body("not_found_error", f"no route {self.path}"))
            if self.headers.get("authorization") != f"Bearer {fake.api_key}":
                return self._json(401, _error_body("authentication_error", "invalid x-api-key"))
            if not self.headers.get(API_VERSION_HEADER):
                return self._json(400, _error_body("invalid_request_error", "anthropic-version header is required"))
            try:
                body = json.loads(raw)
            except ValueError:
                return self._json(400, _error_body("invalid_request_error", "body is not JSON"))
            with fake.lock:
                fake.requests.append(body)
            script = fake.next_script(body)
            if isinstance(script, Fault):
                return self._json(script.status, _error_body(script.error_type, script.message), script.headers)
            if not body.get("stream"):
                msg, _ = _message(script, body)
                return self._json(200, msg)
            self._stream(script, body)

        def _stream(self, reply: Reply, body: dict) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("request-id", "req_fake")
            self.end_headers()
            try:
                for i, (name, data) in enumerate(_events(reply, body)):
                    if reply.error_after is not None and i == reply.error_after:
                        self._sse("error", _error_body(reply.error_type, "fake error in the middle of a stream"))
                        return
                    if reply.hang_after is not None and i == reply.hang_after:
                        fake.stopping.wait(reply.hang_s)
                        return
                    self._sse(name, data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _sse(self, name: str, data: dict) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0)  # let the client see chunks one by one

    return Handler
