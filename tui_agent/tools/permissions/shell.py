"""A shell command split into its simple commands, in one linear pass: the words each runs, and what can't be known.

Not a shell: enough of POSIX sh (quotes, escapes, operators, subshells, redirections, comments, assignments) to
say which programs a command line starts with which literal words. Whatever depends on run time (an expansion,
a substitution, a here-document, a loop) marks the line `literal=False`: a rule can't promise anything about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# a run of characters with no special meaning outside quotes
_PLAIN = re.compile(r"[^\s'\"\\$`|&;()<>#]+")
_SPACE = re.compile(r"[^\S\n]+")  # any blank but a newline (a newline ends a command)
# plain words, each followed by blanks: taken in one step once a command has its program (the common long case)
_WORDS = re.compile(r"(?:[^\s'\"\\$`|&;()<>#]+[ \t]+)+")
_OPERATOR = re.compile(r"\|\||&&|;;&?|;&|\|&|[|&;\n()]")
_REDIRECT = re.compile(r"[0-9]*(?:<<<|<<-?|<>|>>|>\||>&|<&|&>>|&>|[<>])")
_SINGLE_END = re.compile(r"'")
_DOUBLE_RUN = re.compile(r'[^"\\$`]+')
_GLOB = re.compile(r"[*?\[]")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
# words that start a shell construct whose words are commands themselves (skipped) or run-time logic (not literal)
KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}"})
OPAQUE_KEYWORDS = frozenset({"for", "case", "esac", "select", "function", "coproc", "[[", "]]", "(("})


@dataclass
class Word:
    text: list[str] = field(default_factory=list)
    literal: bool = True  # no expansion or substitution in it
    glob: bool = False  # an unquoted * ? [ in it

    def value(self) -> str:
        return "".join(self.text)


@dataclass(frozen=True)
class Parsed:
    """The simple commands of a line (each a tuple of words), whether all of it is literal, and why not."""

    commands: tuple[tuple[str, ...], ...]
    literal: bool
    reason: str = ""  # what is not literal, for the person


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.i, self.n = text, 0, len(text)
        self.commands: list[tuple[str, ...]] = []
        self.words: list[str] = []
        self.reason = ""
        self.word: Word | None = None
        self.redirect_target = False
        self.at_start = True  # the next word is in command position

    def opaque(self, why: str) -> None:
        if not self.reason:
            self.reason = why

    def _ensure_word(self) -> Word:
        if self.word is None:
            self.word = Word()
        return self.word

    def end_word(self) -> None:
        word, self.word = self.word, None
        if word is None:
            return
        value = word.value()
        if self.redirect_target:
            self.redirect_target = False
            if not word.literal:
                self.opaque(f"a computed redirection target: {value}")
            return
        if self.at_start and not self.words:
            if word.literal and value in KEYWORDS:
                return
            if word.literal and value in OPAQUE_KEYWORDS:
                self.opaque(f"a shell construct: {value}")
                return
            if _ASSIGNMENT.match(value):
                if not word.literal:
                    self.opaque(f"a computed assignment: {value}")
                return
        if not word.literal:
            self.opaque(f"a computed word: {value}" if self.words else f"a computed program: {value}")
        elif word.glob and not self.words:
            self.opaque(f"a program named by a pattern: {value}")
        self.words.append(value)

    def end_command(self) -> None:
        self.end_word()
        if self.redirect_target:
            self.redirect_target = False
        if self.words:
            self.commands.append(tuple(self.words))
        self.words = []
        self.at_start = True

    def dollar(self, quoted: bool) -> None:
        """`$` at i: an expansion unless nothing follows that could name one."""
        nxt = self.text[self.i + 1] if self.i + 1 < self.n else ""
        word = self._ensure_word()
        if nxt and (nxt.isalnum() or nxt in "_{(@*#?$!-'\"" and not (quoted and nxt in "'\"")):
            word.literal = False
            if nxt == "(":
                self.opaque("a command substitution $(...)")
            elif nxt == "'" and not quoted:
                # $'...': ANSI-C quoting, literal but with escapes we don't decode
                self.opaque("an ANSI-C quoted word $'...'")
        word.text.append("$")
        self.i += 1

    def single(self) -> None:
        end = self.text.find("'", self.i + 1)
        if end < 0:
            self.opaque("an unterminated quote")
            end = self.n
        self._ensure_word().text.append(self.text[self.i + 1:end])
        self.i = end + 1

    def double(self) -> None:
        word = self._ensure_word()
        self.i += 1
        text, n = self.text, self.n
        while self.i < n:
            m = _DOUBLE_RUN.match(text, self.i)
            if m:
                word.text.append(m.group())
                self.i = m.end()
                continue
            ch = text[self.i]
            if ch == '"':
                self.i += 1
                return
            if ch == "\\":
                nxt = text[self.i + 1:self.i + 2]
                if nxt in ('"', "\\", "$", "`"):
                    word.text.append(nxt)
                elif nxt != "\n":
                    word.text.append("\\" + nxt)
                self.i += 2
            elif ch == "$":
                self.dollar(quoted=True)
            else:  # backtick
                word.literal = False
                self.opaque("a command substitution `...`")
                word.text.append(ch)
                self.i += 1
        self.opaque("an unterminated quote")

    def operator(self, op: str) -> None:
        self.end_command()
        if op == "(" and self.i + 1 < self.n and self.text[self.i + 1] == "(":
            self.opaque("an arithmetic command ((...))")
        self.i += len(op)

    def scan(self) -> Parsed:
        text, n = self.text, self.n
        while self.i < n:
            if self.word is None and self.words and not self.redirect_target:
                m = _WORDS.match(text, self.i)
                if m:
                    self.words.extend(m.group().split())
                    self.i = m.end()
                    continue
            ch = text[self.i]
            m = _PLAIN.match(text, self.i)
            if m:
                word = self._ensure_word()
                chunk = m.group()
                word.text.append(chunk)
                if _GLOB.search(chunk):
                    word.glob = True
                self.i = m.end()
                continue
            if ch == "#" and self.word is None:
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
                continue
            if ch == "#":
                self.word.text.append(ch)  # type: ignore[union-attr]
                self.i += 1
                continue
            m = _SPACE.match(text, self.i)
            if m:
                self.end_word()
                self.i = m.end()
                continue
            if ch == "'":
                self.single()
            elif ch == '"':
                self.double()
            elif ch == "\\":
                nxt = text[self.i + 1:self.i + 2]
                if nxt != "\n":
                    self._ensure_word().text.append(nxt)
                self.i += 2
            elif ch == "$":
                self.dollar(quoted=False)
            elif ch == "`":
                self._ensure_word().literal = False
                self.opaque("a command substitution `...`")
                self._ensure_word().text.append(ch)
                self.i += 1
            elif ch in "<>" or ch == "&" and text.startswith(("&>",), self.i):
                self.redirect()
            else:
                op = _OPERATOR.match(text, self.i)
                assert op is not None
                self.operator(op.group())
        self.end_command()
        return Parsed(tuple(self.commands), not self.reason, self.reason)

    def redirect(self) -> None:
        # a word made only of digits just before `<`/`>` is the fd, not an argument
        if self.word is not None and self.word.literal and self.word.value().isdigit():
            self.word = None
        else:
            self.end_word()
        text = self.text
        if text.startswith(("<(", ">("), self.i):
            self.opaque("a process substitution")
            self._ensure_word().literal = False
            self.i += 1
            return
        m = _REDIRECT.match(text, self.i)
        assert m is not None
        op = m.group()
        if op.startswith("<<") and not op.startswith("<<<"):
            self.opaque("a here-document")
        self.i = m.end()
        self.redirect_target = True


def split(command: str) -> Parsed:
    """The simple commands of `command` (words unquoted), in one pass over it; linear in its length."""
    return _Scanner(command).scan()
