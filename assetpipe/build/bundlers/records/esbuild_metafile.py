"""esbuild's metafile (``--metafile=meta.json``): ``{"inputs": {…}, "outputs": {path: {…}}}``.

The ``outputs`` keys are every file esbuild wrote (chunks, CSS, copied assets, source maps),
relative to the directory esbuild ran in, which the metafile does not record. They are placed in
the tree by their longest common trailing path: the one directory mapping (``out/bundles/`` ->
``bundles/``) under which most outputs are collected names applies to all of them; an output
outside that directory was not written into the tree.
"""

from __future__ import annotations

import posixpath

from assetpipe.build.bundlers.records import Record, Tree, load_json, place, split_found

KIND = "esbuild metafile"


def parse(data: bytes) -> list[str] | None:
    """The output paths, or None when ``data`` is not an esbuild metafile."""
    meta = load_json(data)
    if not isinstance(meta, dict) or set(meta) != {"inputs", "outputs"}:
        return None
    outputs = meta["outputs"]
    if not isinstance(meta["inputs"], dict) or not isinstance(outputs, dict):
        return None
    if not all(isinstance(entry, dict) and "bytes" in entry for entry in outputs.values()):
        return None
    return [posixpath.normpath(key.replace("\\", "/")) for key in outputs]


def read(data: bytes, location: str, tree: Tree) -> Record | None:
    """The metafile ``data`` found at ``location``."""
    outputs = parse(data)
    if outputs is None:
        return None
    mapping = place(outputs, tree.names)
    if mapping is None:
        return Record(location, KIND, missing=tuple(sorted(outputs)))
    listed = {name for name in map(mapping.apply, outputs) if name is not None}
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
