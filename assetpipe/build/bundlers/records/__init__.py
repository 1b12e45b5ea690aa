"""Bundlers' own records of the files they wrote, one reader per format.

Each reader takes a record's bytes and where it lies, plus the collected tree as plain data
(:class:`Tree`), never the storage, and returns a :class:`Record`: the collected names it lists,
what it lists but the tree lacks, and what the bundler said went wrong. ``None`` means the bytes
are not that format. :mod:`assetpipe.build.bundlers.prehashed` decides which files to read and
what the listed names become.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tree:
    """The collected tree: its names, and the absolute file-system paths of their sources."""

    names: Set[str]
    # absolute source path -> collected name, for sources on the local file system
    paths: Mapping[str, str] = field(default_factory=dict)
    static_path: str = "/static/"  # STATIC_URL's path


@dataclass(frozen=True)
class Record:
    """What one bundler record says about the collected tree."""

    location: str  # the record's collected name, or its path outside the tree
    kind: str  # "webpack-bundle-tracker stats", ...
    outputs: frozenset[str] = frozenset()  # listed, collected names
    missing: tuple[str, ...] = ()  # listed, not in the tree
    failed: str | None = None  # why it gives no files: a build not done, an unreadable file

    def problems(self) -> list[str]:
        """One line per problem, each naming the record and, when a file is missing, the file."""
        lines = [f"{self.location} ({self.kind}): {self.failed}"] if self.failed else []
        lines += [
            f"{self.location} ({self.kind}) lists {name}, which is not collected"
            for name in self.missing
        ]
        return lines


def load_json(data: bytes) -> Any:
    """``data`` parsed, or None when it is not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return None


def join(directory: str, name: str) -> str:
    """A collected name: ``name`` under ``directory`` (``""``: the root), normalised."""
    return posixpath.normpath(posixpath.join(directory, name)).lstrip("/")


def in_tree(location: str) -> bool:
    """Whether a record's ``location`` is a collected name (else a path outside the tree)."""
    return not posixpath.isabs(location) and not os.path.isabs(location)


def split_found(listed: Set[str], tree: Tree) -> tuple[frozenset[str], tuple[str, ...]]:
    """``listed`` names as (in the tree, sorted missing ones)."""
    found = frozenset(name for name in listed if name in tree.names)
    return found, tuple(sorted(listed - found))


@dataclass(frozen=True)
class Placement:
    """Paths under ``theirs`` (a bundler's directory) are collected under ``ours``."""

    theirs: str
    ours: str

    def apply(self, path: str) -> str | None:
        """``path``'s collected name; None when it lies outside ``theirs``."""
        if self.theirs and not path.startswith(self.theirs + "/"):
            return None
        rest = path[len(self.theirs) + 1 :] if self.theirs else path
        return f"{self.ours}/{rest}" if self.ours else rest


def place(paths: Iterable[str], names: Set[str]) -> Placement | None:
    """The placement under which most ``paths`` (as a bundler wrote them, ``/``-separated)
    are collected ``names``: the longest common trailing path of each path and each name of
    the same basename votes for one; None when no basename is collected."""
    paths = list(paths)
    wanted = {posixpath.basename(path) for path in paths}
    by_basename: dict[str, list[str]] = {}
    for name in names:
        basename = posixpath.basename(name)
        if basename in wanted:
            by_basename.setdefault(basename, []).append(name)
    votes: Counter[Placement] = Counter()
    for path in paths:
        parts = path.split("/")
        for name in by_basename.get(parts[-1], ()):
            theirs = name.split("/")
            common = 0
            while common < min(len(parts), len(theirs)) and (
                parts[-1 - common] == theirs[-1 - common]
            ):
                common += 1
            votes[
                Placement(
                    "/".join(parts[: len(parts) - common]), "/".join(theirs[: len(theirs) - common])
                )
            ] += 1
    if not votes:
        return None
    return max(votes.items(), key=lambda item: (item[1], -len(item[0].theirs)))[0]
