"""webpack-manifest-plugin's ``manifest.json``: ``{"main.js": "main.3f9a….js", …}``.

Each key is an output's name without its hash, each value its name as the page requests it:
``output.publicPath`` followed by the name relative to ``output.path``, where the plugin writes
the manifest. A value under STATIC_URL is a collected name; a relative one is relative to the
manifest's directory (outside the tree, placed by its trailing path); one on another origin or
path is not in the tree.
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import urlsplit

from assetpipe.build.bundlers.records import (
    Record,
    Tree,
    in_tree,
    join,
    load_json,
    place,
    split_found,
)

KIND = "webpack-manifest-plugin manifest"


def parse(data: bytes) -> dict[str, str] | None:
    """The manifest, or None when ``data`` is not one: a non-empty object of strings, each
    value ending in its key's extension (``main.js`` -> ``main.3f9a….js``)."""
    manifest = load_json(data)
    if not isinstance(manifest, dict) or not manifest:
        return None
    for key, value in manifest.items():
        if not isinstance(value, str):
            return None
        extension = posixpath.splitext(key)[1]
        if not extension or not value.endswith(extension):
            return None
    return manifest


def read(data: bytes, location: str, tree: Tree) -> Record | None:
    """The manifest ``data`` found at ``location`` (a collected name, or a path outside)."""
    manifest = parse(data)
    if manifest is None:
        return None
    directory = posixpath.dirname(location.replace(os.sep, "/"))
    listed: set[str] = set()
    relative: list[str] = []  # beside a manifest outside the tree: placed by their paths
    for value in manifest.values():
        url = urlsplit(value)
        if url.scheme or url.netloc:
            continue  # another origin (a CDN's publicPath): not this tree's name
        if url.path.startswith(tree.static_path):
            listed.add(join("", url.path[len(tree.static_path) :]))
        elif not url.path.startswith("/"):
            path = posixpath.normpath(posixpath.join(directory, url.path.removeprefix("auto/")))
            if in_tree(location):
                listed.add(path.lstrip("/"))
            else:
                relative.append(path)
    if relative:
        placement = place(relative, tree.names)
        for path in relative:
            placed = placement.apply(path) if placement is not None else None
            listed.add(placed if placed is not None else posixpath.basename(path))
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
