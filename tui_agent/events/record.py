"""Record, plain data with a stable `type` that round-trips through JSON, and Event, the base of every event."""

from __future__ import annotations

import builtins
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Record:
    """Plain data with a stable `type` name that round-trips through JSON: the events here, and commands."""

    type: ClassVar[str] = "record"
    registry: ClassVar[dict[str, builtins.type[Record]]] = {}  # each direct subclass of Record keeps its own

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.registry[cls.type] = cls

    def to_dict(self) -> dict[str, Any]:
        data = {"type": self.type}
        for f in dataclasses.fields(self):
            data[f.name] = _plain(getattr(self, f.name))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        kind = cls.registry.get(data.get("type", ""))
        if kind is None and issubclass(cls, Event):  # its part of the events may not be loaded yet
            from tui_agent.events import load_all

            load_all()
            kind = cls.registry.get(data.get("type", ""))
        if kind is None or not issubclass(kind, cls) or kind is cls:
            raise ValueError(f"unknown {cls.__name__.lower()} type {data.get('type')!r}")
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _freeze(v) for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Event(Record):
    """Base class of what the loop emits: every event has a stable `type` name and round-trips through JSON."""

    type: ClassVar[str] = "event"
    registry: ClassVar[dict[str, builtins.type[Record]]] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
