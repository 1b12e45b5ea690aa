"""Precompressed variants (``.br``, ``.gz``) beside each servable file.

Each unique content is compressed once per run at most: the unhashed original and its
byte-identical hashed copy share one compression, and compressed bytes are kept in a cache
outside STATIC_ROOT so that ``--clear``, a deleted STATIC_ROOT or a fresh checkout with a
persisted state copy them back instead of compressing again. Output is deterministic: fixed
encoder settings, gzip with no name and mtime 0.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import brotli

from assetpipe.files import BuiltFile, copy_atomic, write_atomic
from assetpipe.naming import VARIANT_SUFFIXES
from assetpipe.state import CompressState

# A variant is kept only when it saves at least this fraction of the original's size.
MIN_SAVING = 0.05
# Cache marker beside where a blob would be, for content whose variant was not worth keeping.
NOT_WORTH_IT = ".none"
# Names the cache directory; a change to the encoder settings must change it.
CACHE_VERSION = 1

DEFAULT_SKIP_EXTENSIONS: frozenset[str] = frozenset(
    {
        # images (SVG is text and compresses well, so it is not here)
        "jpg", "jpeg", "png", "gif", "webp", "avif", "ico", "bmp", "heic",
        # fonts that carry their own compression
        "woff", "woff2",
        # archives and already-compressed data
        "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "zst", "7z", "rar", "jar", "whl",
        # audio and video
        "mp3", "ogg", "oga", "opus", "m4a", "aac", "flac", "wav",
        "mp4", "m4v", "mov", "webm", "mkv", "avi", "mpeg", "mpg", "wmv", "flv", "3gp", "swf",
        # documents that are compressed containers
        "pdf", "docx", "xlsx", "pptx", "odt", "epub",
    }
)  # fmt: skip


def _brotli(data: bytes) -> bytes:
    return bytes(brotli.compress(data, quality=11))


def _gzip(data: bytes) -> bytes:
    # mtime=0 and no file name in the header: the same input gives the same bytes everywhere.
    return gzip.compress(data, compresslevel=9, mtime=0)


@dataclass(frozen=True)
class Encoding:
    name: str  # the Content-Encoding
    suffix: str
    encode: Callable[[bytes], bytes]


ENCODINGS: dict[str, Encoding] = {
    name: Encoding(name, VARIANT_SUFFIXES[name], encode)
    for name, encode in (("br", _brotli), ("gzip", _gzip))
}

# encoding -> the variant's size, or None when it was not worth keeping
Sizes = dict[str, int | None]
# encoding -> the variant's bytes, or None when they were not worth keeping
Blobs = dict[str, bytes | None]


@dataclass
class CompressStats:
    encoded: int = 0  # unique contents run through the encoders
    # Files with variants, counted once each whatever the number of encodings, so a cold and
    # a warm run of the same tree add up to the same total:
    compressed: int = 0  # variants made from bytes encoded in this run
    reused: int = 0  # variants already in place, or copied from the cache
    written: int = 0  # variant files written
    original_bytes: int = 0  # of the files that have variants
    smallest_bytes: int = 0  # of their smallest variant


class ProgressBar(Protocol):
    def advance(self, size: int) -> None: ...

    def close(self) -> None: ...


def should_compress(name: str, skip_extensions: frozenset[str]) -> bool:
    _, dot, extension = name.rpartition(".")
    return not (dot and extension.lower() in skip_extensions)


class Compressor:
    def __init__(
        self,
        root: Path,
        encodings: Sequence[Encoding],
        state: CompressState,
        existing: set[str],
        *,
        cache_dir: Path | None,
        skip_extensions: frozenset[str] = DEFAULT_SKIP_EXTENSIONS,
        workers: int | None = None,
        progress: Callable[[int, int], ProgressBar] | None = None,
    ) -> None:
        self.root = root
        self.encodings = list(encodings)
        self.state = state
        self.existing = existing
        self.cache_dir = cache_dir
        self.skip_extensions = skip_extensions
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress  # called with (contents, bytes) to encode
        self.stats = CompressStats()

    def run(self, files: Iterable[BuiltFile]) -> CompressStats:
        if not self.encodings:
            return self.stats
        groups = self._group(files)
        self._encode_all(self._place_known(groups))
        self._forget_others(groups)
        self._count_savings(groups)
        return self.stats

    # -- grouping and reuse ---------------------------------------------------------------

    def _group(self, files: Iterable[BuiltFile]) -> dict[str, list[BuiltFile]]:
        """Servable files by content digest; the others lose any variants they had."""
        groups: dict[str, list[BuiltFile]] = {}
        for servable in files:
            if servable.size and should_compress(servable.name, self.skip_extensions):
                groups.setdefault(servable.digest, []).append(servable)
            else:
                # An original that became empty or uncompressible must not keep stale variants.
                for encoding in self.encodings:
                    self._remove(servable.name + encoding.suffix)
        return groups

    def _place_known(self, groups: dict[str, list[BuiltFile]]) -> dict[str, list[BuiltFile]]:
        """Place the variants the state or the cache already has; returns what needs encoding."""
        pending: dict[str, list[BuiltFile]] = {}
        for digest, servables in groups.items():
            sizes = self._known_sizes(digest)
            for servable in servables:
                if sizes is None or not self._place_without_encoding(servable, sizes):
                    pending.setdefault(digest, []).append(servable)
        return pending

    def _known_sizes(self, digest: str) -> Sizes | None:
        sizes = self.state.compressed.get(digest)
        if sizes is not None and all(e.name in sizes for e in self.encodings):
            return sizes
        # The state may be gone while the cache survived (a new state format, other settings).
        cached: Sizes = {}
        for encoding in self.encodings:
            blob = self._blob_path(digest, encoding.name)
            if blob is None:
                return None
            if blob.is_file():
                cached[encoding.name] = blob.stat().st_size
            elif blob.with_name(blob.name + NOT_WORTH_IT).is_file():
                cached[encoding.name] = None
            else:
                return None
        self.state.compressed[digest] = cached
        return cached

    # -- placing one file's variants ------------------------------------------------------

    def _place_without_encoding(self, servable: BuiltFile, sizes: Sizes) -> bool:
        """Variants already in place, or copied from the cache; False if bytes are missing."""
        if not self._in_place(servable, sizes):
            for encoding in self.encodings:
                if not self._needs_writing(servable, encoding, sizes[encoding.name]):
                    continue
                cached = self._cached_blob(servable.digest, encoding.name)
                if cached is None:
                    return False
                self._write(servable.name + encoding.suffix, cached)
            self.state.variants[servable.name] = servable.digest
        self.stats.reused += int(_has_variants(sizes))
        return True

    def _place_encoded(self, servable: BuiltFile, blobs: Blobs) -> None:
        for encoding in self.encodings:
            blob = blobs[encoding.name]
            if blob is not None and self._needs_writing(servable, encoding, len(blob)):
                self._write(servable.name + encoding.suffix, blob)
            elif blob is None:
                self._remove(servable.name + encoding.suffix)
        self.state.variants[servable.name] = servable.digest
        self.stats.compressed += int(_has_variants(blobs))

    def _in_place(self, servable: BuiltFile, sizes: Sizes) -> bool:
        return self.state.variants.get(servable.name) == servable.digest and all(
            (servable.name + e.suffix in self.existing) == (sizes[e.name] is not None)
            for e in self.encodings
        )

    def _needs_writing(self, servable: BuiltFile, encoding: Encoding, size: int | None) -> bool:
        """Whether this variant must be written; one that is not worth keeping is removed."""
        variant = servable.name + encoding.suffix
        if size is None:
            self._remove(variant)
            return False
        made_from = self.state.variants.get(servable.name)
        return variant not in self.existing or made_from != servable.digest

    def _write(self, variant: str, content: bytes | Path) -> None:
        """Write a variant from encoded bytes or from a cached blob's path."""
        if isinstance(content, Path):
            copy_atomic(content, self.root / variant)
        else:
            write_atomic(self.root / variant, content)
        self.existing.add(variant)
        self.stats.written += 1

    def _remove(self, variant: str) -> None:
        if variant in self.existing:
            (self.root / variant).unlink(missing_ok=True)
            self.existing.discard(variant)

    # -- encoding -------------------------------------------------------------------------

    def _encode_all(self, pending: dict[str, list[BuiltFile]]) -> None:
        if not pending:
            return
        # Largest first keeps every core busy until the end.
        order = sorted(pending, key=lambda d: -pending[d][0].size)
        progress = (
            self.progress(len(order), sum(pending[d][0].size for d in order))
            if self.progress
            else None
        )
        # Imported here: a run with nothing to compress does not pay for it.
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self._encode, pending[d][0].load): d for d in order}
            for future in as_completed(futures):
                digest = futures[future]
                self._store(digest, future.result(), pending[digest])
                if progress:
                    progress.advance(pending[digest][0].size)
        if progress:
            progress.close()

    def _encode(self, load: Callable[[], bytes]) -> Blobs:
        data = load()
        limit = len(data) * (1 - MIN_SAVING)
        blobs: Blobs = {}
        for encoding in self.encodings:
            encoded = encoding.encode(data)
            blobs[encoding.name] = encoded if len(encoded) <= limit else None
        return blobs

    def _store(self, digest: str, blobs: Blobs, servables: list[BuiltFile]) -> None:
        self.stats.encoded += 1
        sizes = {name: (len(b) if b is not None else None) for name, b in blobs.items()}
        self.state.compressed[digest] = sizes
        self._cache_blobs(digest, blobs)
        for servable in servables:
            self._place_encoded(servable, blobs)

    # -- what the state keeps -------------------------------------------------------------

    def _forget_others(self, groups: dict[str, list[BuiltFile]]) -> None:
        """Forget what no file in this build holds, so the state does not grow without bound."""
        state = self.state
        state.cache_garbage += len(state.compressed.keys() - groups.keys())
        state.compressed = {d: state.compressed[d] for d in groups}
        current = {s.name for group in groups.values() for s in group}
        state.variants = {n: d for n, d in state.variants.items() if n in current}

    def _count_savings(self, groups: dict[str, list[BuiltFile]]) -> None:
        for digest, servables in groups.items():
            kept = [s for s in self.state.compressed[digest].values() if s is not None]
            if kept:
                self.stats.original_bytes += servables[0].size * len(servables)
                self.stats.smallest_bytes += min(kept) * len(servables)

    # -- the compressed-bytes cache -------------------------------------------------------

    def _blob_path(self, digest: str, encoding: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / digest[:2] / f"{digest}.{encoding}"

    def _cached_blob(self, digest: str, encoding: str) -> Path | None:
        path = self._blob_path(digest, encoding)
        return path if path is not None and path.is_file() else None

    def _cache_blobs(self, digest: str, blobs: Blobs) -> None:
        for encoding, blob in blobs.items():
            path = self._blob_path(digest, encoding)
            if path is None:
                continue
            if blob is None:
                # Remember that this content does not compress well, without its bytes.
                write_atomic(path.with_name(path.name + NOT_WORTH_IT), b"")
            else:
                write_atomic(path, blob)

    def prune_cache(self) -> None:
        """Drop cached blobs whose content no file in the build has any more.

        Listing the cache costs more than a small change's whole run, so this waits until
        enough contents have been dropped to make it worth it.
        """
        state = self.state
        if state.cache_garbage <= 64 + len(state.compressed) // 4:
            return
        state.cache_garbage = 0
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return
        live = set(state.compressed)
        for bucket in self.cache_dir.iterdir():
            if not bucket.is_dir():
                continue
            for blob in bucket.iterdir():
                if blob.name.partition(".")[0] not in live:
                    blob.unlink(missing_ok=True)


def _has_variants(kept: Sizes | Blobs) -> bool:
    return any(value is not None for value in kept.values())
