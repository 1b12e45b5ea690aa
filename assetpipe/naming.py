"""What names in a build mean: Django's hashed names, the precompressed variants' suffixes,
the image variants' suffixes, and which names a ``staticfiles.json`` says are content-named.

Every step that has to tell a hashed name from a plain one, or a variant from its original,
asks here, so hashing, compressing, publishing, serving and pruning agree.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any

# The build's manifest, by the name Django's ManifestStaticFilesStorage gives it
# (``manifest_name``). Code that has a storage at hand asks it (a subclass may rename it); this is
# the name everything else assumes.
MANIFEST_NAME = "staticfiles.json"

# Django's hashed names are ``name.<first 12 hex digits of the MD5><ext>``, where ext is the
# last extension or nothing (``LICENSE.2c54f4e1ca1c``); see ManifestStaticFilesStorage.hashed_name.
HASH_LENGTH = 12
HASHED_NAME_PATTERN = rf"\.[0-9a-f]{{{HASH_LENGTH}}}(\.[^/.]*)?$"
_HASHED_NAME = re.compile(HASHED_NAME_PATTERN)

# Precompressed variants written beside a servable file: Content-Encoding -> file suffix.
VARIANT_SUFFIXES: dict[str, str] = {"br": ".br", "gzip": ".gz"}
# The same, the other way round: suffix -> Content-Encoding.
VARIANT_ENCODINGS: dict[str, str] = {s: e for e, s in VARIANT_SUFFIXES.items()}


# Image variants written beside a raster image (``hero.1a2b3c4d5e6f.jpg.avif``): unlike the
# precompressed variants they are files of their own media type, chosen by ``Accept``.
# Format -> (file suffix, media type), in the order a server prefers them.
IMAGE_VARIANTS: dict[str, tuple[str, str]] = {
    "avif": (".avif", "image/avif"),
    "webp": (".webp", "image/webp"),
}
# Extensions (lower case, without the dot) of the raster images that may get image variants.
RASTER_EXTENSIONS: frozenset[str] = frozenset({"jpg", "jpeg", "png", "gif"})


def is_raster_image(name: str) -> bool:
    """Whether ``name`` is a raster image that may have image variants (by its extension)."""
    _, dot, extension = name.rpartition(".")
    return bool(dot) and "/" not in extension and extension.lower() in RASTER_EXTENSIONS


def image_variant_name(name: str, image_format: str) -> str:
    return name + IMAGE_VARIANTS[image_format][0]


def split_image_variant(name: str) -> tuple[str, str | None]:
    """``(original, format)`` for an image variant's name; ``(name, None)`` for any other name."""
    for image_format, (suffix, _) in IMAGE_VARIANTS.items():
        if name.endswith(suffix) and is_raster_image(name[: -len(suffix)]):
            return name[: -len(suffix)], image_format
    return name, None


# The longest file name most file systems take, in bytes: the build writes no variant whose name
# would be longer, so neither may an edge ask for one.
NAME_MAX = 255


def suffixes_fit(name: str, suffixes: Iterable[str]) -> bool:
    """Whether ``name`` plus each of ``suffixes`` is a legal file name (a long hashed name may
    leave no room for a variant's suffix)."""
    longest = max((len(suffix) for suffix in suffixes), default=0)
    basename = name.rpartition("/")[2]
    # Characters are at most 4 bytes in UTF-8: most names need no encoding to tell.
    return 4 * len(basename) + longest <= NAME_MAX or len(basename.encode()) + longest <= NAME_MAX


def looks_hashed(name: str) -> bool:
    """Whether the last path segment of ``name`` is spelled like a Django hashed name."""
    return _HASHED_NAME.search(name.rsplit("/", 1)[-1]) is not None


def looks_hashed_or_variant(name: str) -> bool:
    """Whether ``name`` is a hashed name or a variant (precompressed, image or both) of one:
    immutable either way."""
    return looks_hashed(variant_original(name))


def variant_original(name: str) -> str:
    """The file a variant was made from (``hero.jpg`` for ``hero.jpg.avif`` and for a
    ``hero.jpg.avif.br``, were one written; ``app.js`` for a delta ``app.js.<id>.dcz``);
    ``name`` itself for any other name."""
    return split_image_variant(split_delta(split_variant(name)[0])[0])[0]


def split_variant(name: str) -> tuple[str, str | None]:
    """``(original, encoding)`` for a variant's name; ``(name, None)`` for any other name."""
    for suffix, encoding in VARIANT_ENCODINGS.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], encoding
    return name, None


def variant_name(name: str, encoding: str) -> str:
    return name + VARIANT_SUFFIXES[encoding]


# Deltas (RFC 9842 ``dcz``): a content-named CSS/JS file compressed with an earlier version of
# the same file as its dictionary, written beside it as ``app.0123456789ab.js.<id>.dcz``, where
# the id is the first 16 hex digits of the dictionary's SHA-256: what a browser names in
# ``Available-Dictionary`` tells, without a table, which file to look for.
DELTA_ENCODING = "dcz"
DICTIONARY_ID_LENGTH = 16
_DELTA = re.compile(rf"\.([0-9a-f]{{{DICTIONARY_ID_LENGTH}}})\.dcz$")
# staticfiles.json's extra key with the build's dictionaries (build.dictionaries), only while
# the ``dictionaries`` option is on: {hashed name: {"match": ..., "dest": ..., "deltas": [...]}},
# the deltas as the base64 SHA-256 of each dictionary, the form ``Available-Dictionary`` has.
DICTIONARIES_KEY = "dictionaries"


def dictionary_id(sha256: bytes) -> str:
    """The id a delta's name carries for the dictionary whose SHA-256 this is."""
    return sha256.hex()[:DICTIONARY_ID_LENGTH]


def dictionary_hash(encoded: str) -> bytes | None:
    """A SHA-256 from its base64 form (as the manifest and ``Available-Dictionary`` carry it);
    None for anything else."""
    if len(encoded) != 44 or not encoded.endswith("="):
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True)
    except ValueError:
        return None
    return decoded if len(decoded) == 32 else None


def delta_name(name: str, dictionary: str) -> str:
    """The delta of ``name`` against the dictionary of this id."""
    return f"{name}.{dictionary}.{DELTA_ENCODING}"


def split_delta(name: str) -> tuple[str, str | None]:
    """``(original, dictionary id)`` for a delta's name; ``(name, None)`` for any other name."""
    found = _DELTA.search(name)
    if found is None or found.start() == 0 or name[found.start() - 1] == "/":
        return name, None
    return name[: found.start()], found.group(1)


# staticfiles.json's extra key that lists the prehashed names (build.bundlers.prehashed), sorted.
PREHASHED_KEY = "prehashed"


def read_paths(manifest: bytes) -> dict[str, str]:
    """The ``paths`` of a ``staticfiles.json``; empty for anything that is not a manifest."""
    try:
        paths = json.loads(manifest).get("paths", {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(paths, dict):
        return {}
    return {k: v for k, v in paths.items() if isinstance(k, str) and isinstance(v, str)}


def read_prehashed(manifest: bytes) -> frozenset[str]:
    """The prehashed names a ``staticfiles.json`` records; empty for Django's own manifests."""
    try:
        names = json.loads(manifest).get(PREHASHED_KEY, [])
    except (ValueError, AttributeError):
        return frozenset()
    if not isinstance(names, list):
        return frozenset()
    return frozenset(name for name in names if isinstance(name, str))


def read_dictionaries(manifest: bytes) -> dict[str, dict[str, Any]]:
    """The dictionaries a ``staticfiles.json`` records (:data:`DICTIONARIES_KEY`), entries of
    the wrong shape left out; empty without the option."""
    try:
        found = json.loads(manifest).get(DICTIONARIES_KEY, {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        name: entry
        for name, entry in found.items()
        if isinstance(name, str)
        and isinstance(entry, dict)
        and isinstance(entry.get("match"), str)
        and isinstance(entry.get("dest"), str)
        and isinstance(entry.get("deltas"), list)
        and all(isinstance(d, str) and dictionary_hash(d) is not None for d in entry["deltas"])
    }


def manifest_deltas(manifest: bytes) -> dict[str, list[str]]:
    """Hashed name -> the names of the deltas a ``staticfiles.json`` lists for it."""
    return {
        name: [
            delta_name(name, dictionary_id(h)) for h in map(dictionary_hash, entry["deltas"]) if h
        ]
        for name, entry in read_dictionaries(manifest).items()
    }


def immutable_names(manifest: bytes) -> frozenset[str]:
    """The names a ``staticfiles.json`` says are content-named: its hashed and prehashed outputs.

    This, not a name's spelling, is what makes a name immutable: an unhashed original may look
    like a hashed name (``jquery.0123456789ab.js``). Empty for anything that is not a manifest.
    Serving, publishing and pruning all ask here.
    """
    hashed = {v for k, v in read_paths(manifest).items() if v != k}
    return frozenset(hashed) | read_prehashed(manifest)
