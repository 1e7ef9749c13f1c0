"""Claude prices (USD per million tokens) by model prefix, overridable from config; cost of a Usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tui_agent.models.base import Usage


@dataclass(frozen=True)
class Price:
    """USD per million tokens: uncached input, output, cache write (5-minute TTL), cache read."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def of(cls, value: Any) -> "Price":
        """From a Price, a mapping {input, output, cache_write?, cache_read?} or a sequence of 2-4 numbers."""
        if isinstance(value, Price):
            return value
        if isinstance(value, Mapping):
            inp, out = float(value["input"]), float(value["output"])
            cw = value.get("cache_write", inp * 1.25)
            cr = value.get("cache_read", inp * 0.1)
            return cls(inp, out, float(cw), float(cr))
        nums = [float(v) for v in value]
        if len(nums) < 2 or len(nums) > 4:
            raise ValueError(f"a price needs 2 to 4 numbers (input, output, cache_write, cache_read), got {value!r}")
        inp, out = nums[0], nums[1]
        cw = nums[2] if len(nums) > 2 else inp * 1.25
        cr = nums[3] if len(nums) > 3 else inp * 0.1
        return cls(inp, out, cw, cr)


def _p(inp: float, out: float) -> Price:
    # the published rule: a 5-minute cache write costs 1.25x input, a cache read 0.1x input
    return Price(inp, out, round(inp * 1.25, 4), round(inp * 0.1, 4))


# The longest matching prefix wins, so specific generations sit beside the family fallbacks.
DEFAULT_PRICES: dict[str, Price] = {
    # Opus: 4.5 and later are $5/$25; Opus 4, 4.1 and 3 were $15/$75
    "claude-opus": _p(5, 25),
    "claude-opus-4-1": _p(15, 75),
    "claude-opus-4-0": _p(15, 75),
    "claude-opus-4-2025": _p(15, 75),
    "claude-3-opus": _p(15, 75),
    # Sonnet: $3/$15 since 3.5
    "claude-sonnet": _p(3, 15),
    "claude-3-7-sonnet": _p(3, 15),
    "claude-3-5-sonnet": _p(3, 15),
    "claude-3-sonnet": _p(3, 15),
    # Haiku: 4.5 is $1/$5, 3.5 $0.80/$4, 3 $0.25/$1.25
    "claude-haiku": _p(1, 5),
    "claude-3-5-haiku": _p(0.8, 4),
    "claude-3-haiku": Price(0.25, 1.25, 0.30, 0.03),
}


class PriceTable:
    """Prices by model-name prefix; `overrides` (from config) win over the defaults."""

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES)
        for prefix, value in (overrides or {}).items():
            try:
                self.prices[prefix] = Price.of(value)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"bad price for {prefix!r}: {value!r} ({type(exc).__name__}: {exc}); "
                                 "use {input, output, cache_write, cache_read} in USD per million tokens") from None
        self.notes: dict[str, str] = {}  # model -> why its cost is counted as 0

    def price(self, model: str) -> Price | None:
        name = model.split(":", 1)[1] if model.startswith("anthropic:") else model
        best = max((p for p in self.prices if name.startswith(p)), key=len, default=None)
        return self.prices[best] if best is not None else None

    def cost(self, model: str, usage: Usage) -> float:
        price = self.price(model)
        if price is None:
            self.notes.setdefault(model, f"no price known for {model}: its cost is counted as $0 "
                                         "(add it under [prices] in the config)")
            return 0.0
        return (usage.input_tokens * price.input + usage.output_tokens * price.output
                + usage.cache_write_tokens * price.cache_write
                + usage.cache_read_tokens * price.cache_read) / 1_000_000

    def note(self, model: str) -> str | None:
        """Why this model's cost is 0, if it has no known price (after a cost() call)."""
        return self.notes.get(model)


_DEFAULT_TABLE = PriceTable()


def cost(model: str, usage: Usage, prices: Mapping[str, Any] | None = None) -> float:
    """USD cost of `usage` on `model`; unknown models cost 0 (see `note(model)`)."""
    table = PriceTable(prices) if prices else _DEFAULT_TABLE
    value = table.cost(model, usage)
    if prices and table.note(model):
        _DEFAULT_TABLE.notes.setdefault(model, table.note(model) or "")
    return value


def note(model: str) -> str | None:
    """The note left by cost() for a model without a known price, else None."""
    return _DEFAULT_TABLE.note(model)
