"""Git-style ignore rules (.gitignore files, nested, negation, anchoring, **) compiled to one regex per file."""

from __future__ import annotations

import re
from dataclasses import dataclass

ALWAYS_SKIP = frozenset({".git", ".tui-agent"})
# caches no one wants copied, diffed or deployed; a project's .gitignore can still re-include them with "!"
DEFAULT_IGNORE = "__pycache__/\n*.py[cod]\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n"


@dataclass(frozen=True)
class _Pattern:
    regex: str
    negate: bool
    dir_only: bool


def _segment(seg: str) -> str:
    """Translate one path segment of a glob (no '/') to a regex."""
    out, i, n = [], 0, len(seg)
    while i < n:
        c = seg[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(seg[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and seg[j] in "!^":
                j += 1
            if j < n and seg[j] == "]":
                j += 1
            while j < n and seg[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '['
                out.append("\\[")
            else:
                body = seg[i + 1:j]
                neg = body[:1] in ("!", "^")
                body = body[1:] if neg else body
                body = body.replace("\\", "\\\\")
                out.append(f"[^/{body}]" if neg else f"[{body}]")
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_line(line: str) -> _Pattern | None:
    """One .gitignore line to a pattern (None for blanks and comments)."""
    line = line.rstrip("\n").rstrip("\r")
    # trailing spaces are ignored unless escaped with a backslash
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    parts = line.split("/")
    regex = "" if anchored else "(?:.*/)?"
    for i, seg in enumerate(parts):
        last = i == len(parts) - 1
        if seg == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _segment(seg) + ("" if last else "/")
    return _Pattern(regex, negate, dir_only)


class RuleSet:
    """The patterns of one ignore file; paths given relative to its directory."""

    def __init__(self, patterns: list[_Pattern]):
        self.patterns = patterns
        self._files = self._compile([p for p in patterns if not p.dir_only])
        self._dirs = self._compile(patterns)

    @classmethod
    def parse(cls, text: str) -> "RuleSet":
        return cls([p for p in map(parse_line, text.splitlines()) if p is not None])

    @staticmethod
    def _compile(patterns: list[_Pattern]):
        if not patterns:
            return None
        # last matching pattern wins: try them in reverse; the matching group tells which one
        ordered = list(reversed(patterns))
        regex = "|".join(f"({p.regex})" for p in ordered)
        return re.compile(f"(?s:{regex})"), [p.negate for p in ordered]

    def match(self, rel: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a negation, None: no pattern matched."""
        compiled = self._dirs if is_dir else self._files
        if compiled is None:
            return None
        regex, negations = compiled
        m = regex.fullmatch(rel)
        if m is None:
            return None
        return not negations[m.lastindex - 1]


class Ignore:
    """A stack of rule sets (root first); deeper .gitignore files take precedence."""

    __slots__ = ("stack",)

    def __init__(self, stack: tuple[tuple[str, RuleSet], ...] = ()):
        self.stack = stack  # (base dir relative to root, "" for the root; rules)

    def push(self, base: str, rules: RuleSet) -> "Ignore":
        return Ignore(self.stack + ((base, rules),)) if rules.patterns else self

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, rules in reversed(self.stack):
            sub = rel[len(base) + 1:] if base else rel
            verdict = rules.match(sub, is_dir)
            if verdict is not None:
                return verdict
        return False
