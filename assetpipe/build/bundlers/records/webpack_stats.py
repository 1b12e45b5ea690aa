"""webpack-bundle-tracker's stats file, django-webpack-loader's input (``webpack-stats.json``).

``{"status": "done", "assets": {"main.3f9a….js": {"name": "main.3f9a….js", "path":
"/abs/out/main.3f9a….js"}, …}, "chunks": {"main": ["main.3f9a….js", …]}}``: every emitted file,
asset modules included, with ``name`` relative to webpack's ``output.path`` and ``path`` on the
disk of the machine that built it. While webpack compiles, ``status`` is ``"compile"``; a failed
build has ``"error"`` and a ``message``. Older trackers (0.4) listed ``chunks`` of
``{"name", "path"}`` objects instead of ``assets``.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from assetpipe.build.bundlers.records import (
    Record,
    Tree,
    in_tree,
    join,
    load_json,
    place,
    split_found,
)

KIND = "webpack-bundle-tracker stats"
STATUSES = ("done", "compile", "error")  # what webpack-bundle-tracker writes


def parse(data: bytes) -> dict[str, Any] | None:
    """The stats, or None when ``data`` is not a webpack-bundle-tracker stats file."""
    stats = load_json(data)
    if not isinstance(stats, dict) or stats.get("status") not in STATUSES:
        return None
    if not any(isinstance(stats.get(key), dict) for key in ("assets", "chunks")):
        return None if stats["status"] == "done" else stats
    return stats


def _files(stats: dict[str, Any]) -> list[dict[str, Any]]:
    assets = stats.get("assets")
    if isinstance(assets, dict):
        return [
            a for a in assets.values() if isinstance(a, dict) and isinstance(a.get("name"), str)
        ]
    files: list[dict[str, Any]] = []
    for chunk in (stats.get("chunks") or {}).values():
        if isinstance(chunk, list):
            files += [f for f in chunk if isinstance(f, dict) and isinstance(f.get("name"), str)]
    return files


def read(data: bytes, location: str, tree: Tree, bundle_dir: str | None) -> Record | None:
    """The stats file ``data`` found at ``location``.

    Each file is found by its ``path`` among the sources; a build made elsewhere (another
    checkout, a CI job) by its ``name`` under ``bundle_dir`` (django-webpack-loader's
    ``BUNDLE_DIR_NAME``) or, when that is None, where the trailing parts of the ``path`` values
    meet the collected names, else beside a stats file in the tree.
    """
    stats = parse(data)
    if stats is None:
        return None
    status = stats["status"]
    if status != "done":
        message = stats.get("message") or stats.get("error") or ""
        detail = f": {message}" if isinstance(message, str) and message else ""
        failed = f'status "{status}", the build is not complete{detail}'
        return Record(location, KIND, failed=failed)
    listed: set[str] = set()
    elsewhere: list[tuple[str, str]] = []  # (name, path) of files not found by their path
    for file in _files(stats):
        path = file.get("path")
        path = os.path.normpath(path) if isinstance(path, str) else ""
        name = tree.paths.get(path)
        if name is not None:
            listed.add(name)
        else:
            elsewhere.append((file["name"], path.replace(os.sep, "/")))
    placement = None
    if bundle_dir is None and elsewhere:
        placement = place([path for _, path in elsewhere if path], tree.names)
    for name, path in elsewhere:
        placed = placement.apply(path) if placement is not None and path else None
        if placed is None:
            if bundle_dir is not None:
                placed = join(bundle_dir, name)
            elif in_tree(location):
                placed = join(posixpath.dirname(location), name)
            else:
                placed = name
        listed.add(placed)
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
