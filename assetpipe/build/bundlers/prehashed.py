"""Files a bundler already named by content: they keep their names and bytes.

A bundler (Vite, webpack, esbuild, Rollup, Parcel) writes ``assets/main-BV5bdbg-.js`` and the
references between its outputs itself. Hashing such a file again gives it a second name that the
bundler's own references never use, so the browser loads two module instances. These files are
*prehashed*: ``staticfiles.json`` maps each to itself, its bytes are left alone, and it is served
and published as immutable like any Django-hashed name.

The sources, all explicit (a name alone is no proof: ``jquery-ui-1.14.js`` is not hashed):

- a Vite manifest in the collected tree (``manifest.json`` at a bundle root, as django-vite
  recommends, or ``.vite/manifest.json``), parsed: every ``file``, ``css`` and ``assets`` entry;
- the other bundlers' records (:mod:`assetpipe.build.bundlers.records`): webpack-bundle-tracker's
  stats file, in the tree or at django-webpack-loader's ``STATS_FILE``, webpack-manifest-plugin's
  ``manifest.json`` and esbuild's metafile. Each lists every file its build wrote; those whose
  names carry a hash are prehashed (``manifest.json`` or an entry named ``[name].js`` is hashed
  by Django as before). A listed file that is missing, or a build the record says is not done,
  is a problem (a warning; with ``"missing_references": "fail"``, an error);
- the ``prehashed`` option: glob patterns over names relative to STATIC_URL (see
  :func:`compile_patterns`).

Only files whose names fit a record's (:data:`RECORD_NAMES`) are read, and only those on every
build, so a build where nothing changed reads a few small files. Names that look content-named
but that nothing declares are reported with the pattern that would cover them
(:mod:`assetpipe.build.bundlers.content_names`).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assetpipe.build.bundlers import content_names
from assetpipe.build.bundlers.records import (
    Record,
    Tree,
    esbuild_metafile,
    webpack_manifest,
    webpack_stats,
)
from assetpipe.naming import PREHASHED_KEY

MANIFEST_KEY = PREHASHED_KEY  # staticfiles.json's extra key: sorted prehashed names
VITE_MANIFEST_NAMES = ("manifest.json", ".vite/manifest.json")
# ``[hash]`` in a pattern: what bundlers put in a name (hex, base32, base64url), 8 or more.
HASH_PLACEHOLDER = "[hash]"
_HASH_CHARS = r"[A-Za-z0-9_-]{8,}"
_QUOTES = "\"'`"

OPTION = "STORAGES['staticfiles']['OPTIONS']['prehashed']"
# Basenames of the records read in the tree, by reader (in the docs; _RECORD_NAME matches them).
RECORD_NAMES = {
    "webpack_stats": ("*stats*.json",),
    "webpack_manifest": ("manifest.json", "*-manifest.json", "*.manifest.json"),
    "esbuild_metafile": ("*meta*.json",),
}
# The same as one regex over the whole name: one search per ``.json`` file per build.
_RECORD_NAME = re.compile(
    r"(?:^|/)(?:"
    r"(?P<webpack_stats>[^/]*stats[^/]*)"
    r"|(?P<webpack_manifest>manifest|[^/]*[-.]manifest)"
    r"|(?P<esbuild_metafile>[^/]*meta[^/]*)"
    r")\.json$"
)
# django-webpack-loader's defaults for a WEBPACK_LOADER config.
DEFAULT_STATS_FILE = "webpack-stats.json"
DEFAULT_BUNDLE_DIR_NAME = "webpack_bundles/"


@dataclass(frozen=True)
class StatsFile:
    """A webpack-bundle-tracker stats file django-webpack-loader reads (``STATS_FILE``)."""

    path: str
    bundle_dir: str  # BUNDLE_DIR_NAME: the collected directory its names are relative to


@dataclass(frozen=True)
class Detection:
    """What the build learns about bundler output in the collected tree."""

    prehashed: frozenset[str]
    problems: list[str] = field(default_factory=list)  # missing files, builds not done
    # content-named-looking names nothing declares, by the pattern that would cover them
    undeclared: dict[str, list[str]] = field(default_factory=dict)


def compile_patterns(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for the ``prehashed`` option's patterns; None when there are none.

    ``*`` is any run of characters within one path segment, ``?`` one such character, ``**/``
    any number of directories (``**`` at the end: everything below), ``[hash]`` 8 or more of
    ``A-Z a-z 0-9 - _``. Every other character stands for itself.
    """
    if isinstance(patterns, str) or not isinstance(patterns, (list, tuple)):
        raise ImproperlyConfigured(f"{OPTION} must be a list of glob patterns, not {patterns!r}")
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ImproperlyConfigured(f"{OPTION} has {pattern!r}; expected a non-empty string")
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise ImproperlyConfigured(
                f"{OPTION} has {pattern!r}; patterns are relative to STATIC_URL, "
                "e.g. 'dist/*' or 'bundles/**/*-[hash].js'"
            )
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_translate(p)})" for p in patterns))


def _translate(pattern: str) -> str:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith(HASH_PLACEHOLDER, i):
            parts.append(_HASH_CHARS)
            i += len(HASH_PLACEHOLDER)
        elif pattern.startswith("**/", i):
            parts.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        else:
            char = pattern[i]
            parts.append({"*": "[^/]*", "?": "[^/]"}.get(char) or re.escape(char))
            i += 1
    return "".join(parts) + r"\Z"


def prehashed_names(
    files: Mapping[str, Callable[[], bytes]], patterns: re.Pattern[str] | None
) -> frozenset[str]:
    """The collected names (``files``: name -> loader) that a bundler named by content."""
    return detect(files, patterns).prehashed


def detect(
    files: Mapping[str, Callable[[], bytes]],
    patterns: re.Pattern[str] | None,
    *,
    source_paths: Callable[[], Mapping[str, str]] = dict,
    static_path: str = "/static/",
    stats_files: Sequence[StatsFile] = (),
    static_root: str | None = None,
    record_files: Sequence[str] = (),
) -> Detection:
    """The prehashed names among ``files`` (collected name -> loader), the problems the
    bundlers' records show, and the names that look content-named but nothing declares.

    ``source_paths`` gives absolute source path -> collected name (called only when a record
    needs it); ``stats_files`` are django-webpack-loader's, read where they are unless they lie
    in ``static_root`` (the collected copy is read as part of the tree); ``record_files`` are
    the ``prehashed_records`` option's, any of the formats.
    """
    names: set[str] = set()
    for manifest in _vite_manifests(files):
        names |= vite_outputs(manifest, files)
    records = _tree_records(files, source_paths, static_path)
    records += _configured_records(stats_files, files, source_paths, static_path, static_root)
    records += _outside_records(record_files, files, source_paths, static_path)
    problems: list[str] = []
    for record in records:
        names.update(
            name for name in record.outputs if content_names.looks_content_named(name, strict=False)
        )
        problems += [p for p in record.problems() if p not in problems]
    if patterns is not None:
        names.update(name for name in files if patterns.match(name))
    prehashed = frozenset(names)
    return Detection(prehashed, problems, content_names.undeclared(files, prehashed))


def _record_candidates(files: Iterable[str]) -> list[tuple[str, str]]:
    """``(reader, name)`` of each collected file whose basename fits a record's."""
    found: list[tuple[str, str]] = []
    for name in files:
        if not name.endswith(".json"):
            continue
        match = _RECORD_NAME.search(name)
        if match is not None:
            found.append((match.lastgroup or "", name))
    return found


def _tree_records(
    files: Mapping[str, Callable[[], bytes]],
    source_paths: Callable[[], Mapping[str, str]],
    static_path: str,
) -> list[Record]:
    candidates = _record_candidates(files)
    if not candidates:
        return []
    # Only a stats file looks its files up by source path: the mapping costs a pass over the tree.
    needs_paths = any(reader == "webpack_stats" for reader, _ in candidates)
    tree = Tree(files.keys(), source_paths() if needs_paths else {}, static_path)
    records: list[Record] = []
    for reader, name in candidates:
        data = files[name]()
        record: Record | None
        if reader == "webpack_stats":
            record = webpack_stats.read(data, name, tree, None)
        elif reader == "webpack_manifest":
            record = webpack_manifest.read(data, name, tree)
        else:
            record = esbuild_metafile.read(data, name, tree)
        if record is not None:
            records.append(record)
    return records


def _configured_records(
    stats_files: Sequence[StatsFile],
    files: Mapping[str, Callable[[], bytes]],
    source_paths: Callable[[], Mapping[str, str]],
    static_path: str,
    static_root: str | None,
) -> list[Record]:
    records: list[Record] = []
    tree: Tree | None = None
    for stats in stats_files:
        path = os.path.abspath(stats.path)
        if static_root is not None:
            relative = os.path.relpath(path, os.path.abspath(static_root)).replace(os.sep, "/")
            if relative in files:
                continue  # collected: read with the tree
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            records.append(
                Record(path, webpack_stats.KIND, failed=f"cannot be read ({exc.strerror})")
            )
            continue
        if tree is None:
            tree = Tree(files.keys(), source_paths(), static_path)
        record = webpack_stats.read(data, path, tree, stats.bundle_dir)
        records.append(
            record
            or Record(path, webpack_stats.KIND, failed="is not a webpack-bundle-tracker stats file")
        )
    return records


def _outside_records(
    record_files: Sequence[str],
    files: Mapping[str, Callable[[], bytes]],
    source_paths: Callable[[], Mapping[str, str]],
    static_path: str,
) -> list[Record]:
    """The records at ``record_files``, each read by whichever reader recognises it."""
    records: list[Record] = []
    tree: Tree | None = None
    for given in record_files:
        path = os.path.abspath(given)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            records.append(
                Record(path, "bundler record", failed=f"cannot be read ({exc.strerror})")
            )
            continue
        if tree is None:
            tree = Tree(files.keys(), source_paths(), static_path)
        record = (
            webpack_stats.read(data, path, tree, None)
            or webpack_manifest.read(data, path, tree)
            or esbuild_metafile.read(data, path, tree)
        )
        records.append(
            record
            or Record(
                path,
                "bundler record",
                failed="is none of webpack-bundle-tracker's stats, webpack-manifest-plugin's "
                "manifest or esbuild's metafile",
            )
        )
    return records


def webpack_loader_stats(config: object) -> list[StatsFile]:
    """The stats files of django-webpack-loader's ``WEBPACK_LOADER`` setting (``{}``: none)."""
    if not isinstance(config, Mapping):
        return []
    found: list[StatsFile] = []
    for entry in config.values():
        if not isinstance(entry, Mapping):
            continue
        path = entry.get("STATS_FILE", DEFAULT_STATS_FILE)
        bundle_dir = entry.get("BUNDLE_DIR_NAME", DEFAULT_BUNDLE_DIR_NAME)
        if isinstance(path, (str, os.PathLike)) and isinstance(bundle_dir, str):
            found.append(StatsFile(str(path), bundle_dir.replace("\\", "/")))
    return found


def _vite_manifests(files: Mapping[str, Callable[[], bytes]]) -> list[str]:
    return [
        name
        for name in files
        if name.endswith("manifest.json")
        and any(name == m or name.endswith("/" + m) for m in VITE_MANIFEST_NAMES)
    ]


def vite_outputs(manifest: str, files: Mapping[str, Callable[[], bytes]]) -> set[str]:
    """What the Vite manifest ``manifest`` lists, as collected names; empty if not Vite's."""
    entries = parse_vite_manifest(files[manifest]())
    if entries is None:
        return set()
    root = bundle_root(manifest)
    listed: set[str] = set()
    for entry in entries.values():
        for output in (entry["file"], *entry.get("css", ()), *entry.get("assets", ())):
            listed.add(posixpath.normpath(root + output))
    listed = {name for name in listed if name in files}
    # Source maps carry their file's hashed name; Vite leaves them out of the manifest.
    listed |= {name + ".map" for name in listed if name + ".map" in files}
    return listed | _referenced_siblings(listed, files)


def bundle_root(manifest: str) -> str:
    """The directory Vite's output paths are relative to (its ``outDir``), with a slash."""
    directory = posixpath.dirname(manifest)
    if posixpath.basename(directory) == ".vite":
        directory = posixpath.dirname(directory)
    return f"{directory}/" if directory else ""


def parse_vite_manifest(data: bytes) -> dict[str, dict[str, Any]] | None:
    """The manifest's entries, or None when ``data`` is not a Vite manifest."""
    try:
        entries = json.loads(data)
    except ValueError:
        return None
    if not isinstance(entries, dict) or not entries:
        return None
    for entry in entries.values():
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            return None
        for key in ("css", "assets"):
            value = entry.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return None
    return entries


def _referenced_siblings(listed: set[str], files: Mapping[str, Callable[[], bytes]]) -> set[str]:
    """Unlisted files beside listed ones that a listed chunk names in a string literal.

    Vite 7 and older leave worker chunks out of the manifest; the chunk that starts the worker
    names it (``new URL("/static/assets/worker-ALnvsRt3.js", import.meta.url)``).
    """
    directories = {posixpath.dirname(name) for name in listed}
    candidates = {
        name
        for name in files
        if name not in listed
        and not name.endswith(".map")
        and posixpath.dirname(name) in directories
    }
    if not candidates:
        return set()
    chunks = [files[name]() for name in sorted(listed) if name.endswith((".js", ".mjs"))]
    return {
        name
        for name in candidates
        if any(_names_in_literal(chunk, posixpath.basename(name)) for chunk in chunks)
    }


def _names_in_literal(chunk: bytes, basename: str) -> bool:
    return any(
        f"/{basename}{quote}".encode() in chunk or f"{quote}{basename}{quote}".encode() in chunk
        for quote in _QUOTES
    )


def manifest_extra(prehashed: Iterable[str]) -> dict[str, list[str]]:
    """The extra ``staticfiles.json`` key; empty (no key) when there is nothing prehashed."""
    names = sorted(prehashed)
    return {MANIFEST_KEY: names} if names else {}
