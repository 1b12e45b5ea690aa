"""webpack-manifest-plugin's ``manifest.json``: ``{"main.js": "main.3f9a….js", …}``.

Each key is an output's name without its hash, each value its name as the page requests it:
``output.publicPath`` followed by the name relative to ``output.path``, where the plugin writes
the manifest. A value under STATIC_URL is a collected name; a relative one is relative to the
manifest's directory; one on another origin or path is not in the tree.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

from assetpipe.records import Record, Tree, join, load_json, split_found

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
    """The manifest ``data``, collected as ``location``."""
    manifest = parse(data)
    if manifest is None:
        return None
    directory = posixpath.dirname(location)
    listed: set[str] = set()
    for value in manifest.values():
        url = urlsplit(value)
        if url.scheme or url.netloc:
            continue  # another origin (a CDN's publicPath): not this tree's name
        if url.path.startswith(tree.static_path):
            listed.add(join("", url.path[len(tree.static_path) :]))
        elif not url.path.startswith("/"):
            listed.add(join(directory, url.path.removeprefix("auto/")))
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
