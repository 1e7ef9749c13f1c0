"""Models by spec: `anthropic:MODEL` (default provider), `replay:SESSION.jsonl`, `scripted:FILE`."""

from __future__ import annotations

from pathlib import Path

from tui_agent.models.base import MISSING_KEY, BadModelSpec, Model

PROVIDERS = ("anthropic", "replay", "scripted")


def create_model(spec: str, *, start_turn: int = 0, prices: dict | None = None) -> Model:
    """Build the model a --model value names; raise BadModelSpec (exit 2) when it cannot."""
    provider, _, rest = spec.partition(":") if ":" in spec else ("anthropic", "", spec)
    if provider == "scripted":
        from tui_agent.models.scripted import ScriptedModel

        return ScriptedModel.from_file(Path(rest), start_turn=start_turn)
    if provider == "replay":
        from tui_agent.models.replay import ReplayModel

        return ReplayModel(Path(rest), start_turn=start_turn)
    if provider == "anthropic":
        from tui_agent.models.anthropic import AnthropicModel

        return AnthropicModel(rest or None, prices=prices)
    raise BadModelSpec(f"unknown model spec {spec!r}: use anthropic:MODEL, replay:SESSION.jsonl or scripted:FILE")


def check_model(spec: str, *, prices: dict | None = None) -> None:
    """What create_model would refuse, found without building the model or loading its SDK: BadModelSpec (exit 2)."""
    provider, _, rest = spec.partition(":") if ":" in spec else ("anthropic", "", spec)
    if provider == "scripted":
        from tui_agent.models.scripted import load_script

        load_script(Path(rest))
    elif provider == "replay":
        from tui_agent.models.replay import ReplayModel

        ReplayModel(Path(rest))
    elif provider == "anthropic":
        import os

        from tui_agent.models.pricing import PriceTable

        if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
            raise BadModelSpec(MISSING_KEY)
        try:
            PriceTable(prices)
        except ValueError as exc:
            raise BadModelSpec(str(exc)) from None
    else:
        create_model(spec)  # the unknown spec's own message
