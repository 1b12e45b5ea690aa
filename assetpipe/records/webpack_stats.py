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
from typing import Any

from assetpipe.records import Record, Tree, join, load_json, split_found

KIND = "webpack-bundle-tracker stats"


def parse(data: bytes) -> dict[str, Any] | None:
    """The stats, or None when ``data`` is not a webpack-bundle-tracker stats file."""
    stats = load_json(data)
    if not isinstance(stats, dict) or not isinstance(stats.get("status"), str):
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


def read(data: bytes, location: str, tree: Tree, bundle_dir: str) -> Record | None:
    """The stats file ``data`` found at ``location``; ``bundle_dir``: the collected directory
    its names are relative to (django-webpack-loader's ``BUNDLE_DIR_NAME``, or the directory
    of a stats file in the tree), for a build made on another machine than its ``path``."""
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
    for file in _files(stats):
        path = file.get("path")
        name = tree.paths.get(os.path.normpath(path)) if isinstance(path, str) else None
        listed.add(name if name is not None else join(bundle_dir, file["name"]))
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
