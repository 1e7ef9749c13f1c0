"""The keys of each screen: one table drives its footer bindings and its command palette entries."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

PANELS = Binding.Group("Panels", compact=True)
BROWSE = Binding.Group("Fixes", compact=True)


@dataclass(frozen=True)
class Key:
    keys: str
    action: str
    label: str
    help: str
    display: str | None = None
    group: Binding.Group | None = None
    show: bool = True


QUIT = Key("ctrl+q", "app.quit", "Quit", "Close this window: a run still going goes on in the background "
          "(tui-agent attach opens it again; x stops it); an ended run closes")

MAIN = (
    QUIT,
    Key("p,space", "pause", "Pause", "Pause the loop at the next safe point"),
    Key("p,space", "resume", "Resume", "Resume the paused loop"),
    Key("s", "step", "Step", "Run one iteration, then pause again"),
    Key("y", "allow", "Allow", "Allow the selected tool call once"),
    Key("a", "always", "Always", "Allow the selected tool call and keep a rule so it is not asked again"),
    Key("n", "deny", "Deny", "Deny the selected tool call"),
    Key("e", "edit", "Edit", "Edit the selected tool call's arguments before it runs, then allow it"),
    Key("d", "deploy", "Deploy", "Review all changes and copy them into your folder"),
    Key("h", "hunks", "Hunks", "Review each file and hunk: accept, reject, edit; recheck the subset, then deploy it",
        show=False),
    Key("u", "undo", "Undo", "Put your folder back as it was before the last deploy (again: redo)",
        show=False),
    Key("x", "stop", "Stop", "Stop the loop; the sandbox is stopped cleanly"),
    Key("v", "sessions", "Sessions", "Browse the recorded sessions: replay, resume or fork one (once this run is "
        "over: it opens in place of this one)", show=False),
    Key("i", "inspect", "Inspect", "Inspect each iteration: requests, responses, tool calls, tokens, cost"),
    Key("r", "restart_servers", "Restart MCP", "Restart the MCP servers that failed"),
    Key("b", "breakpoints", "Breakpoints", "List, add and remove breakpoints"),
    Key("m", "cycle_mode", "Mode", "Switch the permission mode: auto (the sandbox runs freely), ask (every call "
        "asks), plan (read-only); rules apply in every mode"),
    Key("1", "focus_panel('plan')", "Plan", "Focus the Plan panel", group=PANELS),
    Key("2", "focus_panel('output')", "Output", "Focus the Output panel", group=PANELS),
    Key("3", "focus_panel('fixes')", "Fixes", "Focus the Fixes panel", group=PANELS),
    Key("4", "focus_panel('permissions')", "Permissions", "Focus the Permissions panel", group=PANELS),
    Key("left_square_bracket", "browse(-1)", "Previous fix", "Show the previous fix", "[", BROWSE),
    Key("right_square_bracket", "browse(1)", "Next fix", "Show the next fix", "]", BROWSE),
    Key("c", "cumulative", "All changes", "Show all changes since the start (or each fix again)", show=False),
    Key("o", "cause", "Failing output", "Show the failing output that led to the shown fix", show=False),
    Key("z", "zoom", "Zoom", "Zoom the focused panel to the whole screen (and back)", show=False),
)

WATCH = (
    Key("f", "toggle_fix", "Auto-fix", "Turn auto-fix on or off"),
    Key("d", "deploy", "Deploy", "Review the proposed fix and copy it into your folder"),
    Key("r", "recheck", "Re-check", "Run the check now"),
    Key("y", "allow", "Allow", "Allow the tool call the agent asks for"),
    Key("n", "deny", "Deny", "Deny the tool call the agent asks for"),
    Key("p", "resume", "Resume", "Resume the fix the agent paused (e.g. no progress)"),
    Key("x", "stop_fix", "Stop fix", "Stop the agent's fix; your folder stays as it is"),
    Key("ctrl+q", "quit", "Quit", "Stop watching and quit"),
)


def bindings(table: tuple[Key, ...]) -> list[Binding | tuple[str, str] | tuple[str, str, str]]:
    return [Binding(k.keys, k.action, k.label, show=k.show, key_display=k.display, group=k.group, tooltip=k.help)
            for k in table]


def palette(table: tuple[Key, ...]) -> list[tuple[str, str, str]]:
    """(title, help, action) for the command palette, one per action."""
    seen: set[str] = set()
    entries = []
    for k in table:
        if k.action not in seen:
            seen.add(k.action)
            key = k.display or k.keys.split(",")[0]
            entries.append((f"{k.label} ({key})", k.help, k.action))
    return entries
