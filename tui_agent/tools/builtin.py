"""The built-in tools offered to the model: files in the workspace, a command in the sandbox, the plan."""

from __future__ import annotations

from typing import Awaitable, Callable

from tui_agent.models.base import ToolSpec
from tui_agent.tools.base import ProgressCallback, ToolError, ToolResult

_PATH = {"path": {"type": "string", "description": "Path relative to the workspace root."}}
STATUSES = ("pending", "in_progress", "done")

SPECS = [
    ToolSpec("read_file", "Read a UTF-8 text file of the workspace.",
             {"type": "object", "properties": _PATH, "required": ["path"]}),
    ToolSpec("write_file", "Create or overwrite a text file in the workspace.",
             {"type": "object", "properties": {**_PATH, "content": {"type": "string"}},
              "required": ["path", "content"]}),
    ToolSpec("edit_file", "Replace one exact, unique occurrence of old_string by new_string in a file.",
             {"type": "object", "properties": {**_PATH, "old_string": {"type": "string"},
                                               "new_string": {"type": "string"}},
              "required": ["path", "old_string", "new_string"]}),
    ToolSpec("list_files", "List the files under a folder of the workspace (recursively).",
             {"type": "object", "properties": _PATH, "required": []}),
    ToolSpec("run_command", "Run a shell command in the sandbox (cwd: the workspace; no network).",
             {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}),
    ToolSpec("update_plan", "Replace the plan: the steps toward the goal, each with its status.",
             {"type": "object", "required": ["steps"], "properties": {"steps": {"type": "array", "items": {
                 "type": "object", "required": ["title", "status"],
                 "properties": {"title": {"type": "string"}, "status": {"type": "string", "enum": list(STATUSES)}},
             }}}}),
]
NAMES = frozenset(spec.name for spec in SPECS)
MAX_READ = 200_000  # bytes of a file read_file returns (the rest is named, not read)
MAX_EDIT = 4_000_000  # bytes of a file edit_file rewrites
MAX_LISTED = 2_000  # file names list_files returns
MAX_STEPS, MAX_TITLE = 100, 500  # an update_plan's steps, and characters in a step's title


def _arg(arguments: dict, name: str, default: str | None = None) -> str:
    value = arguments.get(name, default)
    if not isinstance(value, str):
        raise ToolError(f"argument {name!r} must be a string")
    return value


class BuiltinTools:
    """Implements the contract's built-in tools on the workspace's files and a sandbox."""

    def __init__(
        self,
        files,
        run: Callable[[str], Awaitable[tuple[int | None, str]]],
        on_plan: Callable[[tuple], None],
    ) -> None:
        self.files = files  # read_text, write_text, list_files: paths confined to the workspace
        self._run = run  # runs a command in the sandbox, returns (exit code, bounded output)
        self._on_plan = on_plan

    def specs(self) -> list[ToolSpec]:
        return list(SPECS)

    async def call(self, name: str, arguments: dict, progress: ProgressCallback | None = None) -> ToolResult:
        try:
            return await getattr(self, "_" + name)(arguments)
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        except (OSError, ValueError) as exc:  # includes WorkspaceError (a ValueError/OSError subclass or not)
            return ToolResult(f"{name} failed: {exc}", is_error=True)
        except Exception as exc:
            if type(exc).__name__ == "WorkspaceError":
                return ToolResult(str(exc), is_error=True)
            raise

    async def _read_file(self, arguments: dict) -> ToolResult:
        path = _arg(arguments, "path")
        text, size = self.files.read_head(path, MAX_READ)
        if size > MAX_READ:
            text += f"\n[... truncated: the first {MAX_READ:,} of the file's {size:,} bytes are shown ...]"
        return ToolResult(text)

    async def _write_file(self, arguments: dict) -> ToolResult:
        path, content = _arg(arguments, "path"), _arg(arguments, "content")
        self.files.write_text(path, content)
        return ToolResult(f"wrote {path} ({content.count(chr(10)) + 1} lines)")

    async def _edit_file(self, arguments: dict) -> ToolResult:
        path = _arg(arguments, "path")
        old, new = _arg(arguments, "old_string"), _arg(arguments, "new_string")
        text = self.files.read_text(path, most=MAX_EDIT)
        count = text.count(old) if old else 0
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times; add context to make it unique"
            raise ToolError(f"edit_file: old_string {where} in {path}")
        self.files.write_text(path, text.replace(old, new, 1))
        return ToolResult(f"edited {path}")

    async def _list_files(self, arguments: dict) -> ToolResult:
        files = self.files.list_files(_arg(arguments, "path", "."))
        more = f"\n[... and {len(files) - MAX_LISTED:,} more files: list a folder] " if len(files) > MAX_LISTED else ""
        return ToolResult("\n".join(files[:MAX_LISTED]) + more if files else "(no files)")

    async def _run_command(self, arguments: dict) -> ToolResult:
        exit_code, output = await self._run(_arg(arguments, "command"))
        return ToolResult(f"exit code: {exit_code}\n{output}", is_error=exit_code != 0)

    async def _update_plan(self, arguments: dict) -> ToolResult:
        steps = arguments.get("steps")
        if not isinstance(steps, list) or not all(
            isinstance(s, dict) and isinstance(s.get("title"), str) and s.get("status") in STATUSES for s in steps
        ):
            raise ToolError("update_plan: steps must be a list of {title, status: pending|in_progress|done}")
        if len(steps) > MAX_STEPS or any(len(s["title"]) > MAX_TITLE for s in steps):
            raise ToolError(f"update_plan: at most {MAX_STEPS} steps of at most {MAX_TITLE} characters each; "
                            "the plan was not changed")
        plan = tuple({"title": s["title"], "status": s["status"]} for s in steps)
        self._on_plan(plan)
        return ToolResult(f"plan updated ({sum(s['status'] == 'done' for s in plan)}/{len(plan)} done)")
