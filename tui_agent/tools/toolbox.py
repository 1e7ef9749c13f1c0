"""All tools offered to the model, from every provider (built-ins, MCP servers), by name."""

from __future__ import annotations

from tui_agent.models.base import ToolSpec
from tui_agent.tools.base import ProgressCallback, ToolProvider, ToolResult


class Toolbox:
    def __init__(self, providers: list[ToolProvider]) -> None:
        self.providers = providers

    async def start(self) -> None:
        """Start the providers that need it (MCP servers); a server that fails is marked failed, not fatal."""
        for provider in self.providers:
            if hasattr(provider, "start"):
                await provider.start()

    def specs(self) -> list[ToolSpec]:
        return [spec for provider in self.providers for spec in provider.specs()]

    def _owner(self, name: str) -> ToolProvider | None:
        for provider in self.providers:  # asked each time: an MCP server's tool list can change
            if any(spec.name == name for spec in provider.specs()):
                return provider
        return None

    def has(self, name: str) -> bool:
        return self._owner(name) is not None

    def hints(self, name: str) -> tuple[str, ...]:
        """What a tool's server claims of it (MCP annotations), shown next to the call; () for the rest."""
        provider = self._owner(name)
        hints = getattr(provider, "hints", None)
        return tuple(hints(name)) if callable(hints) else ()

    async def call(self, name: str, arguments: dict, progress: ProgressCallback | None = None) -> ToolResult:
        provider = self._owner(name)
        if provider is None:
            known = ", ".join(spec.name for spec in self.specs())
            return ToolResult(f"unknown tool {name!r}; the tools are: {known}", is_error=True)
        return await provider.call(name, arguments, progress)
