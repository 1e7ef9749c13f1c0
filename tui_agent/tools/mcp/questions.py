"""What an MCP server asks the person (elicitation: a form or a URL; sampling: a model call), as plain data."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

ACTIONS = ("accept", "decline", "cancel")
MAX_SAMPLING_TOKENS = 1024  # a server's sampling request never gets more output than this


@dataclass(frozen=True)
class FormField:
    """One field of an elicitation form, from its (flat) JSON schema."""

    name: str
    kind: str  # string | number | integer | boolean | enum | multi (an array of enum strings)
    title: str = ""
    description: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # number, integer: the schema's bounds
    maximum: float | None = None

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class Elicitation:
    """A question from the named server: a form to fill in, or a URL to open (only on the person's say-so)."""

    server: str
    message: str
    mode: str = "form"  # form | url
    fields: tuple[FormField, ...] = ()
    url: str = ""

    @property
    def domain(self) -> str:
        return urlsplit(self.url).hostname or "" if self.url else ""

    def defaults(self) -> dict[str, Any]:
        """The answer of a person who accepts the form as it is shown (defaults filled in)."""
        return {f.name: f.default for f in self.fields if f.default is not None}


@dataclass(frozen=True)
class ElicitAnswer:
    action: str  # accept | decline | cancel
    content: dict[str, Any] | None = None


@dataclass(frozen=True)
class SamplingRequest:
    """A server's request to use the agent's model, as the person approves it: its prompt and what it may cost."""

    server: str
    system: str
    prompt: str  # the messages as text, role by role
    max_tokens: int
    estimate_usd: float = 0.0
    refused: tuple[str, ...] = field(default=())  # what was asked for and will not be given (context, tools)


class ClientHost(Protocol):
    """The person behind the client (the TUI's Permissions panel); without one, everything is declined."""

    async def elicit(self, question: Elicitation) -> ElicitAnswer: ...

    async def approve_sampling(self, request: SamplingRequest) -> bool: ...


def form_fields(schema: dict[str, Any] | None) -> tuple[FormField, ...]:
    """The fields of an elicitation schema: top-level properties only (the spec allows no nesting)."""
    schema = schema if isinstance(schema, dict) else {}
    props: dict[str, Any] = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or ())
    fields = []
    for name, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        kind, choices = str(prop.get("type", "string")), _choices(prop)
        if kind == "array":
            items = prop.get("items")
            kind, choices = "multi", _choices(items if isinstance(items, dict) else {})
        elif choices:
            kind = "enum"
        fields.append(FormField(str(name), kind, str(prop.get("title") or ""), str(prop.get("description") or ""),
                                name in required, prop.get("default"), choices, _bound(prop, "minimum"),
                                _bound(prop, "maximum")))
    return tuple(fields)


def _bound(prop: dict[str, Any], key: str) -> float | None:
    value = prop.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _choices(prop: dict[str, Any]) -> tuple[str, ...]:
    if isinstance(prop.get("enum"), list):
        return tuple(str(v) for v in prop["enum"])
    for key in ("oneOf", "anyOf"):
        if isinstance(prop.get(key), list):
            return tuple(str(o.get("const")) for o in prop[key] if isinstance(o, dict) and "const" in o)
    return ()


def coerce(field_: FormField, text: str) -> Any:
    """A typed value from what the person typed; ValueError names the field when it does not fit."""
    text = text.strip()
    if field_.kind == "boolean":
        if text.lower() in ("true", "yes", "y", "1", "on"):
            return True
        if text.lower() in ("false", "no", "n", "0", "off", ""):
            return False
    elif field_.kind in ("integer", "number"):
        number: float | None = None
        with contextlib.suppress(ValueError):
            number = int(text) if field_.kind == "integer" else float(text)
        low, high = field_.minimum, field_.maximum
        if number is not None and ((low is not None and number < low) or (high is not None and number > high)):
            raise ValueError(f"{field_.label}: {text} is out of range ({'' if low is None else f'{low} '}to"
                             f"{'' if high is None else f' {high}'})")
        if number is not None:
            return number
    elif field_.kind == "enum":
        if text in field_.choices:
            return text
    elif field_.kind == "multi":
        values = [v.strip() for v in text.split(",") if v.strip()]
        if all(v in field_.choices for v in values):
            return values
    else:
        return text
    raise ValueError(f"{field_.label}: {text!r} is not a valid {field_.kind}"
                     + (f" (one of {', '.join(field_.choices)})" if field_.choices else ""))
