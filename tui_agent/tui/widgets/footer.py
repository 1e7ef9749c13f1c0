"""KeysFooter: Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes (unmounts and mounts ~30 key widgets, each styled) on every bindings update, and a
bindings update comes with every focus change and every status refresh: that cost most of a key's latency.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """Shows the same keys as Footer; skips the rebuild when the keys, their labels and their states are unchanged."""

    _shown: tuple | None = None

    def _keys(self) -> tuple:
        active = self.screen.active_bindings
        return (self.compact, self.show_command_palette,
                tuple((b.key, b.action, b.description, b.show, enabled, tooltip, b.group)
                      for _node, b, enabled, tooltip in active.values()))

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        if self.is_attached and self._keys() != self._shown:
            await self.recompose()
