"""Permission policy: allow / ask / deny rules on a tool name and its arguments (deny wins), and the audit log."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tui_agent import trust
from tui_agent.tools.permissions import hints as claims
from tui_agent.tools.permissions.rules import (
    COMMAND_TOOLS, PATH_TOOLS, Argument, Rule, RuleError, argument_for, escape, parse_rules,
)

READ_ONLY_TOOLS = ("read_file", "list_files", "update_plan")
WORKSPACE_TOOLS = ("write_file", "edit_file", "run_command")  # change only the scratch copy, in the sandbox
MODES = ("auto", "ask", "plan")  # auto: the sandboxed tools run without asking; ask: today's asking; plan: read-only
ACTIONS = ("deny", "ask", "allow")  # evaluation order: deny wins over ask over allow
PERMISSIONS_FILE = Path(".tui-agent") / "permissions.json"


class PolicyError(ValueError):
    """A permissions file or rule that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Verdict:
    action: str  # "allow" | "ask" | "deny"
    rule: str | None = None  # the rule that decided, None for the default
    by: str = "rule"  # "rule" | "default" | "mode"
    reason: str = ""  # why the default asks or denies, when it is not obvious (told to the model when denied)


def _default_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(state) / "tui-agent" / "audit.jsonl"


class AuditLog:
    """Append-only JSONL of every permission decision: who, what, when, which rule, what was decided."""

    def __init__(self, path: Path | None = None, session_id: str = "") -> None:
        self.path = Path(path) if path is not None else _default_path()
        self.session_id = session_id

    def record(self, name: str, arguments: dict, decision: str, by: str, rule: str | None = None,
               call_id: str | None = None, session_id: str | None = None, **extra: object) -> dict:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ts": round(time.time(), 3),
            "session_id": session_id if session_id is not None else self.session_id,
            "call_id": call_id, "tool": name, "arguments": arguments,
            "decision": decision, "by": by, "rule": rule, **extra,
        }
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        return entry

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]


PLAN_REFUSAL = Verdict("deny", None, by="mode", reason="the run is in plan mode (read-only): nothing may change")


def _default_verdict(name: str, args: list[Argument], mode: str) -> Verdict:
    """Without a rule: reads and the plan run; in auto, edits and sandboxed commands too; plan denies edits."""
    if name in PATH_TOOLS and any(arg.kind == "path" and arg.unsafe for arg in args):
        return Verdict("ask", None, by="default")
    if name in READ_ONLY_TOOLS:
        return Verdict("allow", None, by="default")
    if name in WORKSPACE_TOOLS and mode == "plan":
        return PLAN_REFUSAL
    if name in WORKSPACE_TOOLS and mode == "auto":
        return Verdict("allow", None, by="mode")
    return Verdict("ask", None, by="default")


def read_permissions(path: Path) -> dict[str, list[str]]:
    """The {"allow", "ask", "deny"} lists of a permissions.json, validated; {} when the file is absent."""
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    perms = data.get("permissions", {}) if isinstance(data, dict) else None
    if not isinstance(perms, dict):
        raise PolicyError(f'{path}: expected {{"permissions": {{"allow": [...], "ask": [...], "deny": [...]}}}}')
    out = {}
    for action in ACTIONS:
        if action in perms:
            try:
                parse_rules(perms[action], f"{path}: permissions.{action}")
            except RuleError as exc:
                raise PolicyError(str(exc)) from None
            out[action] = list(perms[action])
    return out


@dataclass
class Policy:
    """Rules allow / ask / deny (deny wins); without a rule, the defaults of _default_verdict."""

    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    project: Path | None = None  # where allow_always persists rules
    audit: AuditLog | None = None
    mode: str = "ask"  # a run's comes from Settings.mode (auto by default); "ask" here keeps a bare Policy() strict
    # a path tool's path as it resolves in the workspace (through symlinks), workspace-relative; None: as written
    resolve: Callable[[str], str | None] | None = None
    # what an MCP tool's server claims of it (read-only, destructive, ...): may only tighten (see hints.py)
    hints: claims.Hints | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PolicyError(f"unknown mode {self.mode!r} (use {', '.join(MODES)})")
        self._parsed: dict[str, list[Rule]] = {}
        for action in ACTIONS:
            try:
                self._parsed[action] = parse_rules(list(getattr(self, action)), f"permissions.{action}")
            except RuleError as exc:
                raise PolicyError(str(exc)) from None

    @classmethod
    def load(cls, project: Path, extra: dict | None = None, *, audit: AuditLog | None = None,
             trusted: bool = True, mode: str = "ask") -> "Policy":
        """Rules from PROJECT/.tui-agent/permissions.json plus `extra` ({"allow": [...], ...}, from config/flags).

        An untrusted project's file only narrows: its deny and ask rules count, its allow rules do not."""
        rules = read_permissions(Path(project) / PERMISSIONS_FILE)
        if not trusted:
            rules.pop("allow", None)
        merged = {action: list(rules.get(action, [])) for action in ACTIONS}
        for action, more in (extra or {}).items():
            if action not in ACTIONS:
                raise PolicyError(f"permissions: unknown key {action!r} (use allow, ask, deny)")
            if isinstance(more, str):
                more = [more]
            merged[action] += [r for r in more if r not in merged[action]]
        return cls(allow=merged["allow"], ask=merged["ask"], deny=merged["deny"], project=Path(project), audit=audit,
                   mode=mode)

    @property
    def path(self) -> Path | None:
        return self.project / PERMISSIONS_FILE if self.project is not None else None

    def evaluate(self, name: str, arguments: dict) -> Verdict:
        """Deny wins, then ask, then allow, over every spelling of the argument; then the mode's default.
        An MCP server's claims only tighten: plan mode refuses a tool not marked read-only, a destructive one
        is allowed only by a rule naming it exactly."""
        arguments = arguments if isinstance(arguments, dict) else {}
        args = self._arguments(name, arguments)
        said = tuple(self.hints(name)) if self.hints is not None and claims.is_mcp(name) else ()
        for action in ("deny", "ask"):
            if action == "ask" and self.mode == "plan" and name in WORKSPACE_TOOLS:
                return PLAN_REFUSAL  # read-only: no allow or ask rule lets an edit or a command through
            if action == "ask" and self.mode == "plan" and (why := claims.plan_refusal(name, said)):
                return Verdict("deny", None, by="mode", reason=why)
            for rule in self._parsed[action]:
                if any(rule.matches(name, arg, for_allow=False) for arg in args):
                    return Verdict(action, rule.text)
        opaque = ""
        if args[0].kind == "command" and not args[0].literal and self.names_command(name):
            opaque = f"the command is not literal ({args[0].opaque}), so the rules can't say what it runs"
        destructive = claims.destructive(name, said)
        for rule in self._parsed["allow"]:
            if opaque and not rule.exactly(name, args[0].value):
                continue  # only the person's approval of exactly this text covers what the rules can't read
            if destructive and not claims.names_exactly(rule.tool, name):
                continue  # a server-wide rule does not cover what its server calls destructive
            if all(rule.matches(name, arg, for_allow=True) for arg in args):
                return Verdict("allow", rule.text)
        if opaque:
            return Verdict("ask", None, by="default", reason=opaque)
        if destructive:
            return Verdict("ask", None, by="default", reason=claims.destructive_reason(name))
        return _default_verdict(name, args, self.mode)

    def _arguments(self, name: str, arguments: dict) -> list[Argument]:
        """The call's argument, and for a path tool the path it resolves to in the workspace when that differs."""
        arg = argument_for(name, arguments)
        if name not in PATH_TOOLS or self.resolve is None or arg.unsafe:
            return [arg]
        real = self.resolve(arg.value)
        if real is None:  # leads outside the workspace: as unsafe as an escape
            return [arg, Argument("path", arg.value, unsafe=True)]
        return [arg] if real == arg.value else [arg, Argument("path", real)]

    def names_command(self, name: str) -> bool:
        """Does a deny or ask rule name this command tool? (Then a command that isn't literal asks.)"""
        return any(rule.matches_name(name) for action in ("deny", "ask") for rule in self._parsed[action])

    def denies_path(self, name: str, path: str) -> str | None:
        """The deny rule of tool `name` matching this workspace-relative path (as written), if any."""
        arg = argument_for(name, {"path": path})
        return next((rule.text for rule in self._parsed["deny"] if rule.matches(name, arg, for_allow=False)), None)

    def write_denied(self, path: str) -> str | None:
        """The deny rule that forbids writing this workspace-relative path (write_file or edit_file), if any:
        for the deploy plan, since run_command can change any workspace file behind the rules' back."""
        return self.denies_path("write_file", path) or self.denies_path("edit_file", path)

    def add_rule(self, action: str, text: str) -> None:
        rule = Rule.parse(text)
        if text not in getattr(self, action):
            getattr(self, action).append(text)
            self._parsed[action].append(rule)

    def allow_always(self, name: str, arguments: dict) -> str:
        """Allow this exact call from now on in this project: persist a rule and return it."""
        rule = rule_for_call(name, arguments)
        self.add_rule("allow", rule)
        if self.project is not None:
            was_trusted = trust.is_trusted(self.project)
            self._persist("allow", rule)
            if was_trusted:  # our own write must not make the next run ask again
                trust.record(self.project)
        if self.audit is not None:
            self.audit.record(name, arguments, "rule_added", by="person", rule=rule)
        return rule

    def record(self, name: str, arguments: dict, decision: str, by: str, rule: str | None = None,
               call_id: str | None = None) -> None:
        """Audit one final decision (no-op without an audit log)."""
        if self.audit is not None:
            self.audit.record(name, arguments, decision, by, rule=rule, call_id=call_id)

    def _persist(self, action: str, rule: str) -> None:
        path = self.path
        assert path is not None
        data: dict = {}
        if path.exists():
            read_permissions(path)  # refuse to overwrite a file we cannot read
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if text.strip() else {}
        perms = data.setdefault("permissions", {})
        rules = perms.setdefault(action, [])
        if rule in rules:
            return
        rules.append(rule)
        path.parent.mkdir(parents=True, exist_ok=True)
        trust.write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", ".permissions-")


def denied_by(policy: Policy):
    """A deploy's check: why a deny rule on writing covers this workspace path, or None."""

    def denied(rel: str) -> str | None:
        for tool in ("write_file", "edit_file"):
            verdict = policy.evaluate(tool, {"path": rel})
            if verdict.action == "deny" and verdict.rule:
                return f"a deny rule covers it: {verdict.rule}"
        return None

    return denied


def rule_for_call(name: str, arguments: dict) -> str:
    """The narrowest rule covering this call: the exact path or command, or the exact tool name."""
    arguments = arguments if isinstance(arguments, dict) else {}
    arg = argument_for(name, arguments)
    if name in PATH_TOOLS and arg.value:
        return f"{name}({escape(arg.value, True)})"
    if name in COMMAND_TOOLS and arg.value:
        return f"{name}({escape(arg.value, False)})"
    return name
