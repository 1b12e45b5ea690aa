"""esbuild's metafile (``--metafile=meta.json``): ``{"inputs": {…}, "outputs": {path: {…}}}``.

The ``outputs`` keys are every file esbuild wrote (chunks, CSS, copied assets, source maps),
relative to the directory esbuild ran in, which the metafile does not record. They are placed in
the tree by their longest common trailing path: the one directory mapping (``out/bundles/`` ->
``bundles/``) under which most outputs are collected names applies to all of them; an output
outside that directory was not written into the tree.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Set

from assetpipe.records import Record, Tree, load_json, split_found

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


def _mapping(outputs: list[str], names: Set[str]) -> tuple[str, str] | None:
    """``(output prefix, collected prefix)`` under which most outputs are collected names."""
    by_basename: dict[str, list[str]] = {}
    wanted = {posixpath.basename(output) for output in outputs}
    for name in names:
        basename = posixpath.basename(name)
        if basename in wanted:
            by_basename.setdefault(basename, []).append(name)
    votes: Counter[tuple[str, str]] = Counter()
    for output in outputs:
        parts = output.split("/")
        for name in by_basename.get(parts[-1], ()):
            theirs = name.split("/")
            common = 0
            while common < min(len(parts), len(theirs)) and (
                parts[-1 - common] == theirs[-1 - common]
            ):
                common += 1
            prefix = "/".join(parts[: len(parts) - common])
            votes[(prefix, "/".join(theirs[: len(theirs) - common]))] += 1
    if not votes:
        return None
    return max(votes.items(), key=lambda item: (item[1], -len(item[0][0])))[0]


def read(data: bytes, location: str, tree: Tree) -> Record | None:
    """The metafile ``data`` found at ``location``."""
    outputs = parse(data)
    if outputs is None:
        return None
    mapping = _mapping(outputs, tree.names)
    if mapping is None:
        return Record(location, KIND, missing=tuple(sorted(outputs)))
    theirs, ours = mapping
    listed: set[str] = set()
    for output in outputs:
        if theirs and not output.startswith(theirs + "/"):
            continue
        rest = output[len(theirs) + 1 :] if theirs else output
        listed.add(f"{ours}/{rest}" if ours else rest)
    found, missing = split_found(listed, tree)
    return Record(location, KIND, found, missing)
