"""Rewriting a CSS/JS file too large to hold whole, where that provably gives Django's bytes.

Django rewrites a file by applying each of its patterns to the whole text in turn. For a file
over ``LARGE_FILE`` bytes the hash step first asks this module for a plan, made in one streaming
pass that also checks the file is UTF-8:

- A rule whose fixed text (``url(``, ``@import``, ``//# sourceMappingURL=``) occurs nowhere in
  the file matches nowhere, so it is left out, as long as no rule before it rewrites anything
  (a rewrite could write that text).
- A rule anchored at line starts whose matches cannot hold a newline (Django's
  ``sourceMappingURL`` rules) matches within a line: applied to whole lines, a piece at a time,
  it finds the matches it finds in the whole text. A line longer than a piece that cannot start
  a match is passed through without being held.

When every remaining rule is of the second kind and none skips comments and strings (Django 6.1
finds those with patterns that look arbitrarily far ahead), the file is rewritten in pieces;
otherwise (or when it is not UTF-8) it is rewritten whole, as Django does.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]
from typing import Any, BinaryIO, Protocol, TypeVar

from assetpipe.digests import CHUNK_SIZE

# Bytes read and decoded at a time, and characters rewritten at a time (whole lines, except
# for a longer line that no rule can match). A quarter of CHUNK_SIZE: decoded text takes up to
# four bytes a character.
READ = CHUNK_SIZE // 4
PIECE = READ


@dataclass(frozen=True)
class RuleShape:
    """What a rule's pattern allows, read from its parse tree."""

    fixed_text: re.Pattern[str] | None  # text every match contains, case-insensitively
    fixed_length: int
    starts_lines: bool  # every match starts at a line start and holds no newline


@functools.cache
def rule_shape(pattern: re.Pattern[str]) -> RuleShape:
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    flags = parsed.state.flags
    items = _flatten(list(parsed))
    index = 0
    anchored = False
    while index < len(items) and str(items[index][0]) == "AT":
        anchored |= str(items[index][1]) == "AT_BEGINNING" and bool(flags & re.MULTILINE)
        index += 1
    literal = []
    while index < len(items) and str(items[index][0]) == "LITERAL":
        literal.append(chr(items[index][1]))
        index += 1
    fixed = "".join(literal)
    starts_lines = anchored and parsed.getwidth()[0] > 0 and _line_local(list(parsed), flags)
    return RuleShape(
        # IGNORECASE even where the rule is case-sensitive: a superset never hides a match.
        re.compile(re.escape(fixed), re.IGNORECASE) if fixed else None,
        len(fixed),
        starts_lines,
    )


def _flatten(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The sequence with its groups opened: a group is matched exactly once, in place."""
    flat: list[tuple[Any, Any]] = []
    for op, av in items:
        if str(op) == "SUBPATTERN":
            flat.extend(_flatten(list(av[3])))
        else:
            flat.append((op, av))
    return flat


_SAFE_AT = {"AT_BEGINNING", "AT_END", "AT_BOUNDARY", "AT_NON_BOUNDARY"}
_CATEGORIES_WITH_NEWLINE = {"CATEGORY_SPACE", "CATEGORY_NOT_DIGIT", "CATEGORY_NOT_WORD"}
_CATEGORIES_WITHOUT_NEWLINE = {
    "CATEGORY_NOT_SPACE",
    "CATEGORY_DIGIT",
    "CATEGORY_WORD",
    "CATEGORY_NOT_LINEBREAK",
}


def _line_local(items: list[tuple[Any, Any]], flags: int) -> bool:
    """True if nothing in ``items`` can match a newline or look past the line it is on."""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            ok = av != ord("\n")
        elif name == "NOT_LITERAL":
            ok = av == ord("\n")
        elif name == "ANY":
            ok = not flags & re.DOTALL
        elif name == "IN":
            ok = _class_excludes_newline(av)
        elif name == "AT":
            # ^ and $ only as line anchors: the pieces start and end at line boundaries.
            ok = str(av) in _SAFE_AT and (
                str(av) not in {"AT_BEGINNING", "AT_END"} or bool(flags & re.MULTILINE)
            )
        elif name == "SUBPATTERN":
            _group, add, remove, sub = av
            ok = _line_local(list(sub), (flags | add) & ~remove)
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            ok = _line_local(list(av[2]), flags)
        elif name == "ATOMIC_GROUP":
            ok = _line_local(list(av), flags)
        elif name == "BRANCH":
            ok = all(_line_local(list(branch), flags) for branch in av[1])
        else:  # back references, look-arounds, conditionals: not worth proving
            ok = False
        if not ok:
            return False
    return True


def _class_excludes_newline(members: list[tuple[Any, Any]]) -> bool:
    negated = bool(members) and str(members[0][0]) == "NEGATE"
    holds = False
    for op, av in members[1:] if negated else members:
        name = str(op)
        if name == "LITERAL":
            holds |= av == ord("\n")
        elif name == "RANGE":
            holds |= av[0] <= ord("\n") <= av[1]
        elif name == "CATEGORY" and str(av) in _CATEGORIES_WITH_NEWLINE:
            holds = True
        elif name == "CATEGORY" and str(av) in _CATEGORIES_WITHOUT_NEWLINE:
            pass
        else:
            return False
    return holds == negated


class Rule(Protocol):
    """A hash-step rule as this module needs it."""

    @property
    def pattern(self) -> re.Pattern[str]: ...

    @property
    def ignored(self) -> re.Pattern[str] | None: ...  # comments and strings it skips


R = TypeVar("R", bound=Rule)


class Undecodable(ValueError):
    pass


def active_rules(path: Path, rules: Sequence[R]) -> list[R]:
    """The rules that can rewrite something in the file at ``path``, in order.

    Raises ``Undecodable`` when the file is not UTF-8 (the whole-text rewrite reports why).
    """
    fixed = [rule_shape(rule.pattern).fixed_text for rule in rules]
    searched = [f for f in fixed if f is not None]
    found: set[re.Pattern[str]] = set()
    # An occurrence split between two reads is found in the window that keeps this much.
    keep = max((rule_shape(rule.pattern).fixed_length for rule in rules), default=0)
    tail = ""
    for text in _decoded(path):
        window = tail + text
        found.update(f for f in searched if f not in found and f.search(window))
        tail = window[-keep:] if keep else ""
    active: list[R] = []
    for rule, needle in zip(rules, fixed, strict=True):
        # Once a rule may rewrite, a later one sees rewritten text: it may match there.
        if active or needle is None or needle in found:
            active.append(rule)
    return active


def rewritable_in_pieces(rules: Sequence[Rule]) -> bool:
    return all(rule_shape(r.pattern).starts_lines and r.ignored is None for r in rules)


Rewrite = Callable[[str, int], str]  # a piece of whole lines and its first line's number


def rewrite_in_pieces(
    path: Path,
    rules: Sequence[Rule],
    rewrite: Rewrite,
    out: BinaryIO,
    *,
    piece: int = PIECE,
    read: int = READ,
) -> tuple[str, int]:
    """Write the rewritten file to ``out``; return its MD5 and size.

    ``rewrite`` applies the rules to a piece that starts at a line start and ends after a
    newline (or at the end of the file).
    """
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    line = 1

    def emit(text: str) -> None:
        nonlocal size
        data = text.encode()
        digest.update(data)
        size += len(data)
        out.write(data)

    shapes = [rule_shape(r.pattern) for r in rules]
    for kind, text in _pieces(_decoded(path, read), shapes, piece):
        if kind == "lines":
            emit(rewrite(text, line))
        else:  # part of a long line no rule can match
            emit(text)
        line += text.count("\n")
    return digest.hexdigest(), size


def _pieces(
    texts: Iterator[str], shapes: Sequence[RuleShape], piece: int
) -> Iterator[tuple[str, str]]:
    """("lines", whole lines) and ("through", part of a line that no rule can match)."""
    buffer = ""
    passing_through = False  # inside a long line that no rule can match
    # Long enough to tell whether a line starts with each rule's fixed text.
    piece = max(piece, *(shape.fixed_length for shape in shapes))
    for text in texts:
        if passing_through:
            end = text.find("\n")
            if end < 0:
                yield "through", text
                continue
            yield "through", text[: end + 1]
            text = text[end + 1 :]
            passing_through = False
        buffer += text
        cut = buffer.rfind("\n") + 1
        if cut:
            yield "lines", buffer[:cut]
            buffer = buffer[cut:]
        if len(buffer) >= piece and not any(
            shape.fixed_text is None or shape.fixed_text.match(buffer) for shape in shapes
        ):
            yield "through", buffer
            buffer = ""
            passing_through = True
    if buffer:
        yield "lines", buffer  # the last line, without a newline


def _decoded(path: Path, read: int = READ) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(read):
                text = decoder.decode(chunk)
                if text:
                    yield text
            rest = decoder.decode(b"", final=True)
            if rest:
                yield rest
    except UnicodeDecodeError as exc:
        raise Undecodable(str(exc)) from None
