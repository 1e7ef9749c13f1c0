"""Claude through the official anthropic SDK: streaming, tool use, prompt caching, cost, and visible retries."""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import re
import time
import typing
from typing import Any

import anthropic
import httpx2

from tui_agent.models.base import (
    MISSING_KEY, BadModelSpec, DeltaCallback, ModelError, ModelRequest, ModelTurn, RetryCallback,
)
from tui_agent.models.anthropic_stream import Accumulator, usage_of
from tui_agent.models.pricing import PriceTable

FALLBACK_MODEL = "claude-sonnet-4-5"
CACHE = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4  # the API allows at most four cache_control markers per request
RETRY_STATUS = {408, 409, 429}
RETRY_ERROR_TYPES = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def known_models() -> list[str]:
    """The model names in the installed SDK's ModelParam Literal."""
    try:
        from anthropic.types.model_param import ModelParam
    except ImportError:
        return []
    names: list[str] = []
    for arg in typing.get_args(ModelParam):
        names.extend(a for a in typing.get_args(arg) if isinstance(a, str))
    return names


def newest_sonnet(names: list[str] | None = None) -> str:
    """The highest-versioned undated `claude-sonnet-*` alias, e.g. claude-sonnet-4-5 < claude-sonnet-4-6 < 5."""
    best: tuple[tuple[int, ...], str] | None = None
    for name in known_models() if names is None else names:
        m = re.fullmatch(r"claude-sonnet-(\d{1,2}(?:-\d{1,2})*)", name)
        if not m:
            continue
        version = tuple(int(p) for p in m.group(1).split("-"))
        if best is None or version > best[0]:
            best = (version, name)
    return best[1] if best else FALLBACK_MODEL


DEFAULT_MODEL = newest_sonnet()


class _Retryable(Exception):
    """A transient failure: retry after `after` seconds (from the server) or after a backoff."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.after = reason, after


class AnthropicModel:
    """The Model protocol over Claude's Messages API (async, streamed)."""

    def __init__(self, model: str | None = None, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 4, timeout_s: float = 600, prices: dict | None = None,
                 backoff_s: float = 1.0, max_backoff_s: float = 60.0, cache_messages: bool = True,
                 announce_tools: bool = True) -> None:
        self.model = model or DEFAULT_MODEL
        self.name = f"anthropic:{self.model}"
        # ANTHROPIC_AUTH_TOKEN (gateways) goes out as the same Bearer header in SDK 2.x
        self.api_key = api_key or os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
        if not self.api_key:
            raise BadModelSpec(MISSING_KEY)
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.max_retries, self.timeout_s = max_retries, timeout_s
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.cache_messages, self.announce_tools = cache_messages, announce_tools
        try:
            self.prices = PriceTable(prices)
        except ValueError as exc:
            raise BadModelSpec(str(exc)) from None
        self._client: anthropic.AsyncAnthropic | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    # --- client ------------------------------------------------------------------------------

    def _get_client(self) -> anthropic.AsyncAnthropic:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:  # an httpx2 pool belongs to one loop
            self._client = anthropic.AsyncAnthropic(
                api_key=self.api_key, base_url=self.base_url, max_retries=0,  # our own loop retries, visibly
                timeout=httpx2.Timeout(self.timeout_s, connect=min(self.timeout_s, 15.0)))
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def pricing_note(self) -> str | None:
        """Set when the model has no known price (its cost counts as 0)."""
        return self.prices.note(self.model)

    # --- request -----------------------------------------------------------------------------

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The Messages API parameters, with cache_control on the system prompt, last tool and last message."""
        params: dict[str, Any] = {"model": self.model, "max_tokens": request.max_tokens}
        used = 0
        if request.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": CACHE}]
            used += 1
        if request.tools:
            tools = [t.to_anthropic() for t in request.tools]
            tools[-1] = dict(tools[-1], cache_control=CACHE)
            params["tools"] = tools
            used += 1
        params["messages"] = self._cached_messages(request.messages, used)
        return params

    def _cached_messages(self, messages: list[dict], used: int) -> list[dict]:
        """A copy whose last message's last block carries cache_control (incremental caching)."""
        out = list(messages)
        present = sum(1 for m in out if isinstance(m.get("content"), list)
                      for b in m["content"] if isinstance(b, dict) and "cache_control" in b)
        if not self.cache_messages or not out or used + present >= MAX_BREAKPOINTS:
            return out
        content = out[-1].get("content")
        content = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        block = content[-1] if content and isinstance(content[-1], dict) else {}
        if (not block or "cache_control" in block or block.get("type") in ("thinking", "redacted_thinking")
                or (block.get("type") == "text" and not block.get("text"))):
            return out  # nothing that can carry a breakpoint
        content[-1] = dict(block, cache_control=CACHE)
        out[-1] = dict(out[-1], content=content)
        return out

    # --- complete ----------------------------------------------------------------------------

    async def complete(self, request: ModelRequest, on_delta: DeltaCallback,
                       on_retry: RetryCallback | None = None) -> ModelTurn:
        params = self.params(request)
        attempt = 0
        while True:
            try:
                return await self._attempt(params, on_delta)
            except _Retryable as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise ModelError(f"Claude API: {exc.reason} (gave up after {self.max_retries} "
                                     f"{'retry' if self.max_retries == 1 else 'retries'})") from exc
                wait = self._wait(attempt, exc.after)
                if on_retry is not None:
                    on_retry(attempt, exc.reason, wait)
                await asyncio.sleep(wait)

    def _wait(self, attempt: int, after: float | None) -> float:
        if after is not None and after >= 0:
            return min(after, max(self.max_backoff_s, 300.0))
        base = min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
        return base * random.uniform(0.5, 1.0)  # jitter

    async def _attempt(self, params: dict, on_delta: DeltaCallback) -> ModelTurn:
        client = self._get_client()
        acc = Accumulator(on_delta, self.announce_tools)
        try:
            stream = await client.messages.create(**params, stream=True)
            async with stream:
                async for event in stream:
                    acc.feed(event.to_dict() if hasattr(event, "to_dict") else dict(event))
        except _Retryable:
            raise
        except Exception as exc:
            raise _classify(exc, self.timeout_s, self.base_url) from exc
        if not acc.stopped:
            raise _Retryable("the stream ended before message_stop")
        message = acc.message()
        usage = usage_of(message.get("usage") or {})
        return ModelTurn(content=tuple(message["content"]), stop_reason=message.get("stop_reason") or "end_turn",
                         usage=usage, cost_usd=self.prices.cost(self.model, usage),
                         tool_calls=tuple(acc.tool_calls), raw=message)


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    return None


def _classify(exc: Exception, timeout_s: float, base_url: str | None) -> Exception:
    """A _Retryable for transient faults, else a ModelError with one clear line."""
    if isinstance(exc, anthropic.APIStatusError):
        etype = exc.type or ""
        msg = exc.api_message or str(exc)
        status = exc.status_code
        where = "in the middle of the stream" if status == 200 else f"HTTP {status}"
        reason = f"{etype or 'error'} ({where}): {msg}"
        should = exc.response.headers.get("x-should-retry") if exc.response is not None else None
        retry = (status in RETRY_STATUS or status >= 500 or (status == 200 and etype in RETRY_ERROR_TYPES))
        if should in ("true", "false"):
            retry = should == "true"
        if retry:
            return _Retryable(reason, _retry_after(exc.response.headers) if status != 200 else None)
        if status in (401, 403):
            return ModelError(f"Claude API refused the key ({status} {etype}): {msg}; check ANTHROPIC_API_KEY")
        return ModelError(f"Claude API error {status} {etype}: {msg}" if status != 200 else f"Claude API: {reason}")
    if isinstance(exc, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return _Retryable(f"timed out (no answer for {timeout_s:g}s)")
    if isinstance(exc, (anthropic.APIConnectionError, httpx2.TransportError)):
        cause = exc.__cause__ or exc
        return _Retryable(f"connection error to {base_url or 'api.anthropic.com'}: {cause}".rstrip(": "))
    return ModelError(f"Claude API: unexpected {type(exc).__name__}: {exc}")
