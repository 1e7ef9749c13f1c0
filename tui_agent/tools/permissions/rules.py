"""Permission rules (`Tool`, `Tool(pattern)`): parsing, argument normalisation and matching."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

from tui_agent.tools.permissions.shell import split
from tui_agent.tools.permissions.unwrap import normalise

PATH_TOOLS = ("read_file", "write_file", "edit_file", "list_files")
COMMAND_TOOLS = ("run_command",)
# for MCP and other tools, a rule's pattern matches the first of these string arguments
PRIMARY_ARGUMENTS = ("path", "command", "code", "url", "uri", "repo_path", "file", "query", "name")
# a command with any of these never matches an allow rule by pattern: it could chain or substitute
SHELL_META = re.compile(r"[;&|`<>$()\n\r\\]")
MAX_PATH = 4096
_RULE = re.compile(r"^\s*([A-Za-z0-9_*?.\-]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)


class RuleError(ValueError):
    """A rule that cannot be parsed; the message quotes it."""


@dataclass(frozen=True)
class Argument:
    """The normalised argument a rule's pattern is matched against."""

    kind: str  # "path" | "command" | "other" | "none"
    value: str = ""
    unsafe: bool = False  # escapes the workspace / has shell metacharacters: never allowed by a pattern
    alternates: tuple[str, ...] = ()  # other spellings of the same value (quotes and blanks normalised)
    parts: tuple[str, ...] = ()  # commands: every simple command, wrappers unwrapped, program basenames (deny/ask)
    literal: bool = True  # commands: reducible to literal simple commands (no variable program, eval, $(..)...)
    opaque: str = ""  # commands: why not literal


def normalise_path(raw: object) -> tuple[str, bool]:
    """(normalised path, escapes): `./a//b/../c` -> `a/c`; absolute or `..`-leading paths escape."""
    if not isinstance(raw, str):
        return "", True
    path = raw.strip() or "."
    if "\x00" in path:
        return path, True
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    escapes = norm.startswith("/") or norm == ".." or norm.startswith("../")
    return norm, escapes


def normalise_command(raw: object) -> Argument:
    """A command as rules see it, in time linear in its length: the pieces, the unwrapped parts, literal or not."""
    if not isinstance(raw, str):
        return Argument("command", "", unsafe=True, literal=False, opaque="not a string")
    command = raw.strip()
    parsed = split(command)
    joined = " ".join(parsed.commands[0]) if len(parsed.commands) == 1 else command
    alternates = (joined,) if joined and joined != command else ()
    norm = normalise(command, parsed)
    return Argument("command", command, unsafe=bool(SHELL_META.search(command)),
                    alternates=alternates, parts=norm.parts, literal=norm.literal, opaque=norm.reason)


def argument_for(name: str, arguments: dict) -> Argument:
    """The argument of this call that rule patterns see, normalised so spelling can't sidestep a rule."""
    arguments = arguments if isinstance(arguments, dict) else {}
    if name in PATH_TOOLS:
        norm, escapes = normalise_path(arguments.get("path", "."))
        return Argument("path", norm, unsafe=escapes)
    if name in COMMAND_TOOLS:
        return normalise_command(arguments.get("command"))
    for key in PRIMARY_ARGUMENTS:
        value = arguments.get(key)
        if isinstance(value, str):
            if key in ("path", "repo_path", "file"):
                norm, _ = normalise_path(value)
                return Argument("path", norm, unsafe=norm == ".." or norm.startswith("../") or "\x00" in value)
            if key in ("command", "code"):
                return normalise_command(value)
            return Argument("other", value)
    return Argument("none")


def _glob_regex(pattern: str, path_mode: bool) -> str:
    """`\\x` is a literal x; `*` any text (within one segment for paths); `**` any segments; `?` one char (paths)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*" and path_mode and pattern.startswith("**", i):
            if pattern.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            else:
                out.append(".*")
                i += 2
            continue
        if ch == "*":
            out.append("[^/]*" if path_mode else ".*")
        elif ch == "?" and path_mode:
            out.append("[^/]")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def glob_match(pattern: str, value: str) -> bool:
    """Does the glob (`*` any text, `\\x` a literal x) match all of value? Leftmost chunks: no backtracking."""
    chunks, current, i = [], [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            chunks.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    chunks.append("".join(current))
    if len(chunks) == 1:
        return value == chunks[0]
    first, *middle, last = chunks
    if not value.startswith(first) or len(value) < len(first) + len(last) or not value.endswith(last):
        return False
    pos, end = len(first), len(value) - len(last)
    for chunk in middle:
        found = value.find(chunk, pos, end)
        if found < 0:
            return False
        pos = found + len(chunk)
    return True


def _has_wildcard(pattern: str, path_mode: bool) -> bool:
    """An unescaped `*` (or `?` for paths) in the pattern."""
    return bool(re.search(r"(?<!\\)(?:\\\\)*" + ("[*?]" if path_mode else "[*]"), pattern))


def escape(value: str, path_mode: bool) -> str:
    """A pattern that matches exactly `value`."""
    specials = "\\*?" if path_mode else "\\*"
    return "".join("\\" + c if c in specials else c for c in value)


def unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern, flags=re.DOTALL)


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str  # glob on the tool name
    pattern: str | None  # None: any arguments

    @staticmethod
    def parse(text: str) -> "Rule":
        if not isinstance(text, str):
            raise RuleError(f"rule {text!r}: expected a string like 'run_command(pytest *)'")
        match = _RULE.match(text)
        if not match:
            raise RuleError(f"rule {text!r}: expected 'tool' or 'tool(pattern)', e.g. 'run_command(pytest *)'")
        tool, pattern = match.group(1), match.group(2)
        if pattern is not None:
            pattern = pattern.strip()
            if pattern in ("", "*", "**"):
                pattern = None  # `tool()` / `tool(*)`: any arguments
        return Rule(text.strip(), tool, pattern)

    def matches_name(self, name: str) -> bool:
        if self.tool.startswith("mcp__") and name.startswith("mcp__"):
            # the server is the segment after mcp__ (server names have no `__`); a tool's own name may have some
            rule_server, _, rule_tool = self.tool[5:].partition("__")
            server, _, tool = name[5:].partition("__")
            if not fnmatch.fnmatchcase(server, rule_server):
                return False
            # Claude Code: `mcp__server` alone covers every tool of that server
            return not rule_tool or fnmatch.fnmatchcase(tool, rule_tool)
        return fnmatch.fnmatchcase(name, self.tool)

    def matches(self, name: str, arg: Argument, for_allow: bool) -> bool:
        """Does this rule cover the call? `for_allow`: an unsafe argument only matches an exact rule."""
        if not self.matches_name(name):
            return False
        if self.pattern is None:
            # a bare tool name allows every call of it, except workspace escapes of path tools
            return not (for_allow and arg.unsafe and arg.kind == "path" and name in PATH_TOOLS)
        if arg.kind == "none":
            return False
        if arg.kind == "path":
            if len(arg.value) > MAX_PATH:  # no such path can be written; never let its length slow a match
                return not for_allow
            pattern = self.pattern
            if pattern.startswith("./"):
                pattern = pattern[2:]
            if for_allow and arg.unsafe:
                return False
            return re.fullmatch(_glob_regex(pattern, True), arg.value, re.DOTALL) is not None
        if arg.kind == "command":
            if for_allow:
                if arg.unsafe:  # compound / substituted command: only the person's exact approval covers it
                    return not _has_wildcard(self.pattern, False) and unescape(self.pattern) == arg.value
                return any(self.command_matches(v) for v in (arg.value, *arg.alternates))
            # deny / ask: any piece of a compound command counts, and every unwrapped simple command
            return any(self.command_matches(v) for v in (arg.value, *arg.alternates, *arg.parts))
        return glob_match(self.pattern, arg.value)

    def exactly(self, name: str, value: str) -> bool:
        """Is this a rule for exactly this call (no wildcard in its pattern), as "allow always" writes them?"""
        return (self.matches_name(name) and self.pattern is not None and not _has_wildcard(self.pattern, False)
                and unescape(self.pattern) == value)

    def command_matches(self, value: str) -> bool:
        """`pattern` on a command; `X *` and `X:*` also match `X` alone. Linear in the command's length."""
        pattern = self.pattern or ""
        for tail in (":*", " *"):
            if pattern.endswith(tail) and not pattern.endswith("\\" + tail[-1]):
                head = pattern[: -len(tail)].rstrip()
                if glob_match(head, value):
                    return True
                return glob_match(head + " *", value) or any(
                    glob_match(head + sep + "*", value) for sep in ("\t", "\n"))
        return glob_match(pattern, value)


def parse_rules(rules: list, where: str) -> list[Rule]:
    """Parse a list of rule strings; errors name `where` (a file and key)."""
    if not isinstance(rules, list):
        raise RuleError(f"{where}: expected a list of rules, got {type(rules).__name__}")
    parsed = []
    for i, text in enumerate(rules):
        try:
            parsed.append(Rule.parse(text))
        except RuleError as exc:
            raise RuleError(f"{where}[{i}]: {exc}") from None
    return parsed
