"""Split a SQL script into statements, remembering the line each one starts on.

The migration runner executes a script statement by statement so that a failure names the
file and the line, even for errors the server reports without a position ("relation already
exists"). The lexer knows what can hide a semicolon: quotes, E'' strings, quoted identifiers,
dollar quotes, line and (nested) block comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$")


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # 1-based line of the script where the statement's first token is

    def line_of(self, position: int) -> int:
        """The script line of a 1-based character position inside this statement."""
        return self.line + self.text[: max(position - 1, 0)].count("\n")


class ScriptSyntaxError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def split(script: str) -> list[Statement]:
    """Statements of SCRIPT without their trailing semicolons; comments-only parts are dropped."""
    statements: list[Statement] = []
    i, n = 0, len(script)
    has_code = False
    first_code = 0

    def flush(end: int) -> None:
        nonlocal has_code
        if has_code:
            text = script[first_code:end].strip()
            statements.append(Statement(text, script.count("\n", 0, first_code) + 1))
        has_code = False

    while i < n:
        c = script[i]
        if c == "-" and script.startswith("--", i):
            j = script.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and script.startswith("/*", i):
            i = _skip_block_comment(script, i)
            continue
        if c.isspace():
            i += 1
            continue
        if c == ";":
            flush(i)
            i += 1
            continue
        if not has_code:
            has_code, first_code = True, i
        if c == "'":
            escapes = i > 0 and script[i - 1] in "eE" and not _ident_char(script, i - 2)
            i = _skip_quoted(script, i, "'", escapes)
        elif c == '"':
            i = _skip_quoted(script, i, '"', False)
        elif c == "$" and not _ident_char(script, i - 1):
            m = _DOLLAR_TAG.match(script, i)
            if m:
                end = script.find(m.group(0), m.end())
                if end < 0:
                    raise ScriptSyntaxError(
                        f"unterminated dollar-quoted string {m.group(0)}", script.count("\n", 0, i) + 1
                    )
                i = end + len(m.group(0))
            else:
                i += 1
        else:
            i += 1
    flush(n)
    return statements


def _ident_char(script: str, i: int) -> bool:
    return i >= 0 and (script[i].isalnum() or script[i] in "_$")


def _skip_quoted(script: str, i: int, quote: str, backslash_escapes: bool) -> int:
    j = i + 1
    n = len(script)
    while j < n:
        c = script[j]
        if backslash_escapes and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and script[j + 1] == quote:  # doubled quote
                j += 2
                continue
            return j + 1
        j += 1
    raise ScriptSyntaxError(f"unterminated quoted text starting with {quote}", script.count("\n", 0, i) + 1)


def _skip_block_comment(script: str, i: int) -> int:
    depth = 0
    n = len(script)
    j = i
    while j < n:
        if script.startswith("/*", j):
            depth += 1
            j += 2
        elif script.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    raise ScriptSyntaxError("unterminated /* comment", script.count("\n", 0, i) + 1)
