"""Commands as rules see them: every simple command of a line, wrappers (env, sudo, sh -c...) unwrapped, basenames.

`normalise("cd a && /usr/bin/env -i X=1 nice -n 5 rm -f x")` gives the parts `cd a` and `rm -f x`; `sh -c '...'`
is parsed again (to a depth). What can't be reduced to literal words (a variable as the program, eval, inline
interpreter code, a shell reading its script from stdin) makes the result not literal, with the reason.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from tui_agent.tools.permissions.shell import Parsed, split

MAX_DEPTH = 8
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish", "csh", "tcsh"})
OPAQUE = frozenset({"eval", "source", "."})
# interpreter -> the options whose value (or the rest of the cluster) is inline code
INLINE = {"python": "c", "perl": "eEx", "ruby": "e", "node": "ep", "nodejs": "ep", "deno": "", "php": "rR",
          "lua": "e", "tclsh": "", "osascript": "e", "Rscript": "e", "pwsh": "c", "jq": ""}
AWKS = frozenset({"awk", "gawk", "mawk", "nawk", "busybox-awk"})
_PYTHON = re.compile(r"python[0-9.]*$|pypy[0-9.]*$")
_NUMBER = re.compile(r"[+-]?[0-9]+$")
_DURATION = re.compile(r"[0-9.]+[smhd]?$")


@dataclass(frozen=True)
class Normalised:
    parts: tuple[str, ...]  # each simple command, program basename first, wrappers removed
    literal: bool
    reason: str = ""


class _Opaque(Exception):
    pass


def _skip_options(words: list[str], i: int, with_value: str, long_with_value: tuple[str, ...] = (),
                  stop_at_first: bool = True) -> int:
    """Index of the first word after the options starting at i (`--` ends them; `-xVALUE` clusters understood)."""
    while i < len(words):
        w = words[i]
        if w == "--":
            return i + 1
        if not w.startswith("-") or w == "-":
            return i
        if w.startswith("--"):
            name = w[2:].split("=", 1)[0]
            i += 2 if name in long_with_value and "=" not in w else 1
            continue
        cluster = w[1:]
        i += 1
        for k, flag in enumerate(cluster):
            if flag in with_value:
                if k == len(cluster) - 1:
                    i += 1  # the value is the next word
                break
    return i


def _env(words: list[str]) -> tuple[list[str], str | None]:
    i = 1
    while i < len(words):
        w = words[i]
        if w in ("-S", "--split-string") or w.startswith(("-S", "--split-string=")):
            value = w.split("=", 1)[1] if "=" in w and w.startswith("--") else (w[2:] or
                                                                                (words[i + 1] if i + 1 < len(words)
                                                                                 else ""))
            rest = words[i + 2:] if w in ("-S", "--split-string") else words[i + 1:]
            return [], " ".join([value, *rest])
        if w in ("-u", "--unset", "-C", "--chdir"):
            i += 2
        elif w.startswith("-") and w != "-":
            i += 1
            if w == "--":
                break
        elif "=" in w:
            i += 1
        else:
            break
    return words[i:], None


def _unwrap_once(words: list[str]) -> tuple[list[str], str | None] | None:
    """The wrapped command (words, or a script to parse) if words[0] is a wrapper; None if it is not one."""
    prog = words[0]
    if prog == "env":
        return _env(words)
    if prog in ("command", "builtin"):
        return words[_skip_options(words, 1, ""):], None
    if prog == "exec":
        return words[_skip_options(words, 1, "a"):], None
    if prog in ("nohup", "setsid", "time", "chronic"):
        return words[_skip_options(words, 1, "o"):], None
    if prog == "nice":
        i = _skip_options(words, 1, "n", ("adjustment",))
        return words[i:], None
    if prog == "ionice":
        return words[_skip_options(words, 1, "cnpPu", ("class", "classdata")):], None
    if prog == "stdbuf":
        return words[_skip_options(words, 1, "ioe", ("input", "output", "error")):], None
    if prog == "timeout":
        i = _skip_options(words, 1, "sk", ("signal", "kill-after"))
        if i < len(words) and _DURATION.match(words[i]):
            i += 1
        return words[i:], None
    if prog in ("sudo", "doas"):
        i = _skip_options(words, 1, "CDghprtTUu", ("chdir", "close-from", "group", "host", "prompt", "role",
                                                 "type", "command-timeout", "other-user", "user"))
        while i < len(words) and "=" in words[i] and not words[i].startswith("="):
            i += 1
        return words[i:], None
    if prog == "xargs":
        i = _skip_options(words, 1, "adEILnPs", ("arg-file", "delimiter", "eof", "replace", "max-lines",
                                                 "max-args", "max-procs", "max-chars", "process-slot-var"))
        return (words[i:] or ["echo"]), None
    if prog in ("find",) and any(w in ("-exec", "-execdir", "-ok", "-okdir") for w in words):
        i = next(k for k, w in enumerate(words) if w in ("-exec", "-execdir", "-ok", "-okdir"))
        end = next((k for k in range(i + 1, len(words)) if words[k] in (";", "+")), len(words))
        return words[i + 1:end], None
    return None


def _shell_script(words: list[str]) -> str | None:
    """The script of `sh -c SCRIPT ...`; raises _Opaque for a shell that reads its script from stdin."""
    i = 1
    while i < len(words):
        w = words[i]
        if w in ("--", "-"):
            i += 1
            break
        if not w.startswith(("-", "+")):
            break
        if w.startswith("-") and not w.startswith("--") and "c" in w[1:]:
            if i + 1 >= len(words):
                raise _Opaque(f"{words[0]} -c without a script")
            return words[i + 1]
        if w in ("-s", "--stdin") or (w.startswith("-") and not w.startswith("--") and "s" in w[1:]):
            raise _Opaque(f"{words[0]} reading commands from stdin")
        i += 2 if w in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file") else 1
    if i >= len(words):
        raise _Opaque(f"{words[0]} reading commands from stdin")
    return None  # `sh script.sh`: a file the rules see by its name only


def _inline_code(prog: str, words: list[str]) -> bool:
    key = "python" if _PYTHON.match(prog) else prog
    if prog in AWKS:
        return not any(w == "-f" or w.startswith("--file") for w in words[1:])
    if key not in INLINE:
        return False
    flags = INLINE[key]
    if not flags:
        return True
    for w in words[1:]:
        if w == "--":
            return False
        if w.startswith("--") and w[2:].split("=")[0] in ("eval", "print", "command", "execute"):
            return True
        if w.startswith("-") and not w.startswith("--") and any(f in flags for f in w[1:]):
            return True
        if not w.startswith("-"):
            return key == "python" and w == "-"
    return key == "python" and len(words) == 1  # a bare python reads stdin


def _expand(words: list[str], depth: int, out: list[str], why: list[str]) -> None:
    for _ in range(MAX_DEPTH * 4):
        if not words:
            return
        words = [posixpath.basename(words[0]) or words[0], *words[1:]]
        prog = words[0]
        if prog in OPAQUE:
            if prog == "eval":
                _parse(" ".join(words[1:]), depth + 1, out, why)
            raise _Opaque(f"{prog} runs text as commands")
        if prog in SHELLS:
            script = _shell_script(words)
            if script is not None:
                _parse(script, depth + 1, out, why)
                return
        if _inline_code(prog, words):
            raise _Opaque(f"{prog} runs inline code")
        wrapped = _unwrap_once(words)
        if wrapped is None:
            out.append(" ".join(words))
            return
        if words != [prog] or wrapped[1] is not None:
            out.append(" ".join(words))  # the wrapper itself, as written, is a part too
        rest, script = wrapped
        if script is not None:
            _parse(script, depth + 1, out, why)
            return
        words = rest
    raise _Opaque("wrappers nested too deep")


def _parse(command: str, depth: int, out: list[str], why: list[str], parsed: Parsed | None = None) -> None:
    """Parts of `command` into out; what is not literal into why (the literal parts still count for deny)."""
    if depth > MAX_DEPTH:
        why.append("shells nested too deep")
        return
    parsed = parsed or split(command)
    if not parsed.literal:
        why.append(parsed.reason)
    for words in parsed.commands:
        try:
            _expand(list(words), depth, out, why)
        except _Opaque as exc:
            why.append(str(exc))


def normalise(command: str, parsed: Parsed | None = None) -> Normalised:
    """Every simple command of `command` as a rule sees it; literal=False (and why) when that can't be known.

    `parsed`: split(command), when the caller has it already."""
    parts: list[str] = []
    why: list[str] = []
    _parse(command, 0, parts, why, parsed)
    return Normalised(tuple(dict.fromkeys(parts)), not why, why[0] if why else "")
