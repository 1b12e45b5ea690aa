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

import brotli

from assetpipe.files import BuiltFile, copy_atomic, write_atomic
from assetpipe.state import BuildState

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
    name: str
    suffix: str
    encode: Callable[[bytes], bytes]


ENCODINGS: dict[str, Encoding] = {
    "br": Encoding("br", ".br", _brotli),
    "gzip": Encoding("gzip", ".gz", _gzip),
}


@dataclass
class CompressStats:
    compressed: int = 0  # unique contents run through the encoders
    reused: int = 0  # variants already in place, or copied from the cache
    written: int = 0  # variant files written
    removed: int = 0  # stale variants deleted (their original changed or stopped compressing)
    original_bytes: int = 0  # of the files that have variants
    smallest_bytes: int = 0  # of their smallest variant


def should_compress(name: str, skip_extensions: frozenset[str]) -> bool:
    _, dot, extension = name.rpartition(".")
    return not (dot and extension.lower() in skip_extensions)


class Compressor:
    def __init__(
        self,
        root: Path,
        encodings: Sequence[Encoding],
        state: BuildState,
        existing: set[str],
        *,
        cache_dir: Path | None,
        skip_extensions: frozenset[str] = DEFAULT_SKIP_EXTENSIONS,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.root = root
        self.encodings = list(encodings)
        self.state = state
        self.existing = existing
        self.cache_dir = cache_dir
        self.skip_extensions = skip_extensions
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self.stats = CompressStats()

    def run(self, files: Iterable[BuiltFile]) -> CompressStats:
        if not self.encodings:
            return self.stats
        by_digest: dict[str, list[BuiltFile]] = {}
        for servable in files:
            if servable.size and should_compress(servable.name, self.skip_extensions):
                by_digest.setdefault(servable.digest, []).append(servable)
            else:
                self._remove_variants(servable.name)

        pending: dict[str, list[BuiltFile]] = {}
        for digest, servables in by_digest.items():
            sizes = self._known_sizes(digest)
            if sizes is None:
                pending[digest] = servables
                continue
            for servable in servables:
                if not self._place(servable, sizes, None):
                    pending.setdefault(digest, []).append(servable)

        # Largest first keeps both cores busy until the end.
        order = sorted(pending, key=lambda d: -pending[d][0].size)
        total = len(order)
        if total:
            # Imported here: a run with nothing to compress does not pay for it.
            from concurrent.futures import ThreadPoolExecutor, as_completed

            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                futures = {pool.submit(self._encode, pending[d][0].load): d for d in order}
                for done, future in enumerate(as_completed(futures), 1):
                    digest = futures[future]
                    blobs = future.result()
                    self.stats.compressed += 1
                    sizes = {name: (len(b) if b is not None else None) for name, b in blobs.items()}
                    self.state.compressed[digest] = sizes
                    self._store_blobs(digest, blobs)
                    for servable in pending[digest]:
                        self._place(servable, sizes, blobs)
                    if self.progress:
                        self.progress(done, total)

        # Forget what no file in this build holds, so the state does not grow without bound.
        dropped = len(self.state.compressed.keys() - by_digest.keys())
        self.state.compressed = {d: self.state.compressed[d] for d in by_digest}
        self.state.cache_garbage += dropped
        current = {s.name for group in by_digest.values() for s in group}
        self.state.variants = {n: d for n, d in self.state.variants.items() if n in current}
        for servables in by_digest.values():
            sizes = self.state.compressed.get(servables[0].digest, {})
            kept = [s for s in sizes.values() if s is not None]
            if kept:
                self.stats.original_bytes += servables[0].size * len(servables)
                self.stats.smallest_bytes += min(kept) * len(servables)
        return self.stats

    def _remove_variants(self, name: str) -> None:
        """An original that became empty or uncompressible must not keep stale variants."""
        for encoding in self.encodings:
            variant = name + encoding.suffix
            if variant in self.existing:
                (self.root / variant).unlink(missing_ok=True)
                self.existing.discard(variant)
                self.stats.removed += 1

    def _known_sizes(self, digest: str) -> dict[str, int | None] | None:
        sizes = self.state.compressed.get(digest)
        if sizes is not None and all(e.name in sizes for e in self.encodings):
            return sizes
        # The state may be gone while the cache survived (a new state format, other settings).
        cached: dict[str, int | None] = {}
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

    def _encode(self, load: Callable[[], bytes]) -> dict[str, bytes | None]:
        data = load()
        limit = len(data) * (1 - MIN_SAVING)
        blobs: dict[str, bytes | None] = {}
        for encoding in self.encodings:
            encoded = encoding.encode(data)
            blobs[encoding.name] = encoded if len(encoded) <= limit else None
        return blobs

    def _place(
        self,
        servable: BuiltFile,
        sizes: dict[str, int | None],
        blobs: dict[str, bytes | None] | None,
    ) -> bool:
        """Make the variants of one file match ``sizes``; False if bytes must be computed."""
        existing = self.existing
        if self.state.variants.get(servable.name) == servable.digest and all(
            (servable.name + e.suffix in existing) == (sizes[e.name] is not None)
            for e in self.encodings
        ):
            self.stats.reused += sum(1 for e in self.encodings if sizes[e.name] is not None)
            return True
        for encoding in self.encodings:
            variant = servable.name + encoding.suffix
            path = self.root / variant
            if sizes[encoding.name] is None:
                if variant in existing:
                    path.unlink(missing_ok=True)
                    existing.discard(variant)
                    self.stats.removed += 1
                continue
            if variant in existing and self.state.variants.get(servable.name) == servable.digest:
                self.stats.reused += 1
                continue
            blob = blobs.get(encoding.name) if blobs else None
            if blob is not None:
                write_atomic(path, blob)
            else:
                cached = self._cached_blob(servable.digest, encoding.name)
                if cached is None:
                    return False
                copy_atomic(cached, path)
                self.stats.reused += 1
            existing.add(variant)
            self.stats.written += 1
        self.state.variants[servable.name] = servable.digest
        return True

    def _blob_path(self, digest: str, encoding: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / digest[:2] / f"{digest}.{encoding}"

    def _cached_blob(self, digest: str, encoding: str) -> Path | None:
        path = self._blob_path(digest, encoding)
        return path if path is not None and path.is_file() else None

    def _store_blobs(self, digest: str, blobs: dict[str, bytes | None]) -> None:
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
        if self.state.cache_garbage <= 64 + len(self.state.compressed) // 4:
            return
        self.state.cache_garbage = 0
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return
        live = set(self.state.compressed)
        for bucket in self.cache_dir.iterdir():
            if not bucket.is_dir():
                continue
            for blob in bucket.iterdir():
                if blob.name.partition(".")[0] not in live:
                    blob.unlink(missing_ok=True)
