"""Names that look content-named by a bundler, and the ``prehashed`` pattern that covers them.

A name alone is no proof (``jquery-ui-1.14.js`` is not hashed, ``Inter-SemiBold.woff2`` is a
font's style), so this only *suggests*: the build lists such files when no bundler record and
no ``prehashed`` pattern declares them, with the pattern that would. The shapes bundlers write,
always the last part of the name before its extension:

- hex, 8 or more (webpack's ``[contenthash]``, Parcel, Vite 4, Django's own 12): after ``.``,
  ``-`` or at the start of the name;
- 8 characters of base64url or base32 (Vite 5+, Rollup 4, esbuild): after ``-`` or ``.``.

The strict shape (the report's) also wants what a word seldom has: hex with a digit and a letter
(or 16 digits or more), base64url or base32 with an uppercase letter and a digit, ``-`` or
``_``. A bundler's record has already said that a file is its output; there the loose shape only
keeps names without a hash (``manifest.json``, ``entry.js``) out of the immutable set.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

_EXTENSION = r"(?P<ext>\.[A-Za-z0-9]+(?:\.map)?)$"
_HEX = re.compile(rf"(?:^|(?P<sep>[.-]))(?P<hash>[0-9a-fA-F]{{8,}}){_EXTENSION}")
_BASE64 = re.compile(rf"(?P<sep>[.-])(?P<hash>[A-Za-z0-9_-]{{8}}){_EXTENSION}")
# What every shape needs, searched first: one cheap pass over every collected name per build.
_QUICK = re.compile(r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+(?:\.map)?$")
_HEX_LETTER = re.compile(r"[a-fA-F]")
_DIGIT = re.compile(r"[0-9]")
_UPPER = re.compile(r"[A-Z]")
_NOT_A_WORD = re.compile(r"[0-9_-]")


def _shape(basename: str, *, strict: bool) -> tuple[str, str] | None:
    """``(separator, extension)`` of the hash in ``basename``, or None when it has none."""
    match = _HEX.search(basename)
    if match is not None:
        token = match["hash"]
        if not strict or len(token) >= 16 or (_HEX_LETTER.search(token) and _DIGIT.search(token)):
            return match["sep"] or "", match["ext"]
    match = _BASE64.search(basename)
    if match is not None and match.start() > 0:
        token = match["hash"]
        if not strict and (_UPPER.search(token) or _DIGIT.search(token)):
            return match["sep"], match["ext"]
        if _UPPER.search(token) and _NOT_A_WORD.search(token) and not token.startswith("-"):
            return match["sep"], match["ext"]
    return None


def looks_content_named(name: str, *, strict: bool = True) -> bool:
    """Whether ``name``'s last segment carries a bundler-style hash (see the module)."""
    return _shape(posixpath.basename(name), strict=strict) is not None


def covering_pattern(name: str) -> str | None:
    """The ``prehashed`` pattern for ``name``'s directory and shape: ``dist/*-[hash].js``."""
    directory, basename = posixpath.split(name)
    shape = _shape(basename, strict=True)
    if shape is None:
        return None
    separator, extension = shape
    pattern = f"*{separator}[hash]{extension}" if separator else f"[hash]{extension}"
    return f"{directory}/{pattern}" if directory else pattern


def undeclared(names: Iterable[str], declared: frozenset[str]) -> dict[str, list[str]]:
    """Content-named-looking ``names`` not in ``declared``, by the pattern that covers them."""
    found: dict[str, list[str]] = {}
    quick = _QUICK.search
    for name in names:
        if quick(name) is None or name in declared:
            continue
        pattern = covering_pattern(name)
        if pattern is not None:
            found.setdefault(pattern, []).append(name)
    return {pattern: sorted(found[pattern]) for pattern in sorted(found)}
