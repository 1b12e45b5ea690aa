"""The documentation's pages as the tests read them: their text and their fenced code blocks."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

# An opening fence: its indentation, its backticks and its language.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`]*)$")
# <!-- snippet: compile-only -->, <!-- snippet: django>=6.0 -->, on the line before a fence.
_MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(?P<marker>.+?)\s*-->\s*$")


def pages() -> list[Path]:
    """Every Markdown page of the site, and the README."""
    return [*sorted(DOCS.rglob("*.md")), REPO / "README.md"]


def text(name: str) -> str:
    """A page's source, by its path under docs/."""
    return (DOCS / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, from 1
    language: str
    code: str
    marker: str | None  # the snippet marker on the line before the fence, if any

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    """The fenced code blocks of a page, dedented to their fence's indentation."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        start = index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][len(indent) :] if lines[index].strip() else "")
            index += 1
        index += 1  # the closing fence
        marker = _MARKER.match(lines[start - 1]) if start else None
        yield Block(
            path=path,
            line=start + 1,
            language=opening["info"].strip().split(" ")[0],
            code=textwrap.dedent("\n".join(body)) + "\n",
            marker=marker["marker"] if marker else None,
        )


def python_blocks() -> list[Block]:
    return [block for path in pages() for block in blocks(path) if block.language == "python"]
