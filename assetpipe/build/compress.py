"""Precompressed variants (``.br``, ``.gz``) beside each servable file.

Each unique content is compressed once per run at most: the unhashed original and its
byte-identical hashed copy share one compression, and compressed bytes are kept in a cache
outside STATIC_ROOT so that ``--clear``, a deleted STATIC_ROOT or a fresh checkout with a
persisted state copy them back instead of compressing again. Output is deterministic: fixed
encoder settings, gzip with no name and mtime 0; a file over ``LARGE_FILE`` bytes is streamed
through the same encoders in chunks, which gives the same bytes without holding it in memory.

The cache is trusted nowhere it can be wrong: each blob starts with a header naming the content
it encodes and the MD5 of its payload, and is decoded while it is copied, so a blob is placed only
when it decodes to exactly the content it is filed under (a cache restored from another job cannot
put foreign bytes into STATIC_ROOT); a bad blob is discarded and its content compressed again,
with a warning. Every decode, of a cached blob or of a variant fetched from the bucket, stops as
soon as its output exceeds the original's size, so a small "bomb" costs a chunk of memory at
most. The cache is an optimisation, so failing to read or write it is a warning, never a failed
build.

Each project (STATIC_ROOT) has its own cache directory beside its own state file, and prunes only
that directory against only its own state: one shared ``state_dir`` never lets one project's
pruning remove blobs another project's state references.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import brotli

from assetpipe.build.allocator import release_large_blocks
from assetpipe.build.cache_blobs import HEADER, Corrupt, copy_blob, copy_stream, write_blob
from assetpipe.build.outputs import (
    LARGE_FILE,
    BuiltFile,
    Outputs,
    WriteError,
    replacing,
    temp_path_for,
    write_atomic,
)
from assetpipe.build.state import CompressState

# The extensions never compressed are the option's defaults.
from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.digests import CHUNK_SIZE, md5_bytes
from assetpipe.naming import VARIANT_SUFFIXES, looks_hashed, suffixes_fit

# A variant is kept only when it saves at least this fraction of the original's size.
MIN_SAVING = 0.05
# Cache marker beside where a blob would be, for content whose variant was not worth keeping.
NOT_WORTH_IT = ".none"
# Names the cache directory; a change to the encoder settings or the blob format must change it.
CACHE_VERSION = 5
# A cached blob: this, the MD5 of the content it encodes, the MD5 of the payload, the payload.
BLOB_MAGIC = b"APB3"


# Brotli 11 with 64 KiB input blocks: on a 1 MiB file the encoder needs half the memory of its
# default (256 KiB blocks on quality 11) for the same size within 0.03% on real trees; files
# under 64 KiB compress to the same bytes either way.
_BROTLI = {"quality": 11, "lgblock": 16}


def _brotli(data: bytes) -> bytes:
    return bytes(brotli.compress(data, **_BROTLI))


def _gzip(data: bytes) -> bytes:
    encoder = _Gzip()
    return encoder.process(data) + encoder.finish()


class StreamEncoder(Protocol):
    def process(self, data: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


# Deflate, no name, mtime 0, maximum compression, OS "unknown". Written here rather than by
# gzip.compress or zlib: their OS byte differs between Python versions and platforms.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


class _Gzip:
    """gzip level 9, fed in chunks: the same bytes on every machine for the same input."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._crc = 0
        self._size = 0
        self._header = _GZIP_HEADER

    def process(self, data: bytes) -> bytes:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        return self._take_header() + self._deflate.compress(data)

    def finish(self) -> bytes:
        trailer = struct.pack("<II", self._crc, self._size & 0xFFFFFFFF)
        return self._take_header() + self._deflate.flush() + trailer

    def _take_header(self) -> bytes:
        header, self._header = self._header, b""
        return header


def _brotli_stream() -> StreamEncoder:
    encoder: StreamEncoder = brotli.Compressor(**_BROTLI)
    return encoder


# Output piece of a decoder: a decode stops within one piece of its limit. brotli's output
# buffer grows in blocks, so its pieces may be up to about twice this.
DECODE_PIECE = 64 * 1024


class StreamDecoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]:
        """The output of ``data``, in pieces of at most about ``DECODE_PIECE`` bytes."""
        ...

    def finish(self) -> None:
        """Raise :class:`BadEncoding` unless the input was one whole encoding."""
        ...


class BadEncoding(ValueError):
    """Bytes that are not one whole, valid encoding."""


class TooLarge(BadEncoding):
    """A decode whose output passed the size it had to have: stopped there."""

    def __init__(self, produced: int, limit: int) -> None:
        super().__init__(f"decodes to more than {limit:,} bytes")
        self.produced = produced  # output bytes made before stopping
        self.limit = limit


class _BrotliDecoder:
    def __init__(self) -> None:
        self._decoder = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._decoder.is_finished():
            if data:
                raise BadEncoding("data after the end of the brotli stream")
            return
        # The output buffer stops growing at the limit; the rest comes from empty calls.
        yield self._decoder.process(data, output_buffer_limit=DECODE_PIECE)
        while not self._decoder.can_accept_more_data():
            yield self._decoder.process(b"", output_buffer_limit=DECODE_PIECE)

    def finish(self) -> None:
        if not self._decoder.is_finished():
            raise BadEncoding("truncated brotli stream")


class _GzipDecoder:
    def __init__(self) -> None:
        self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a gzip member, CRC checked

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._decoder.eof:
                raise BadEncoding("data after the end of the gzip member")
            yield self._decoder.decompress(data, DECODE_PIECE)
            data = self._decoder.unconsumed_tail
        while not self._decoder.eof and (out := self._decoder.decompress(b"", DECODE_PIECE)):
            yield out

    def finish(self) -> None:
        if not self._decoder.eof or self._decoder.unused_data:
            raise BadEncoding("truncated gzip stream or data after it")


@dataclass(frozen=True)
class Encoding:
    name: str  # the Content-Encoding
    suffix: str
    encode: Callable[[bytes], bytes]
    stream: Callable[[], StreamEncoder]  # the same encoder, fed in chunks
    # The encoder and its settings, as published variants record them (``encoder`` metadata):
    # a variant made otherwise is not this build's, whatever it decodes to.
    tag: str
    decoder: Callable[[], StreamDecoder]  # to verify bytes from outside the build, bounded
    # Whether fetching a published variant beats encoding it here: brotli 11 costs about 2 ms
    # even for a 1 KiB file and 1.5 s per MiB, more than a GET; gzip 9 is 20 to 40 times
    # faster, so it is made here.
    fetch: bool = False


ENCODINGS: dict[str, Encoding] = {
    "br": Encoding(
        "br", VARIANT_SUFFIXES["br"], _brotli, _brotli_stream, "brotli quality=11 lgblock=16",
        _BrotliDecoder, fetch=True,
    ),
    "gzip": Encoding(
        "gzip", VARIANT_SUFFIXES["gzip"], _gzip, _Gzip, "deflate level=9 mtime=0 os=255",
        _GzipDecoder,
    ),
}  # fmt: skip
# What decoding may raise on bytes that are not a valid encoding.
DECODE_ERRORS = (brotli.error, zlib.error, BadEncoding)


def decode_bounded(encoding: Encoding, data: bytes, limit: int) -> bytes:
    """What ``data`` decodes to; raises :class:`TooLarge` as soon as the output passes
    ``limit`` bytes (having made at most ``limit`` plus one piece), or another of
    ``DECODE_ERRORS`` if it is not one whole encoding."""
    decoder = encoding.decoder()
    out = bytearray()
    for piece in decoder.feed(data):
        out += piece
        if len(out) > limit:
            raise TooLarge(len(out), limit)
    decoder.finish()
    return bytes(out)


class ContentCheck:
    """Checks, as a blob is copied, that it decodes to exactly the content (size and MD5) it is
    filed under; raises :class:`Corrupt` as soon as it cannot (``blobs.PayloadCheck``)."""

    def __init__(self, encoding: Encoding, size: int, digest: str) -> None:
        self._decoder = encoding.decoder()
        self._size = size
        self._digest = digest
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.produced = 0

    def update(self, chunk: bytes) -> None:
        try:
            for piece in self._decoder.feed(chunk):
                self.produced += len(piece)
                if self.produced > self._size:
                    raise Corrupt
                self._md5.update(piece)
        except DECODE_ERRORS as exc:
            raise Corrupt from exc

    def finish(self) -> None:
        try:
            self._decoder.finish()
        except DECODE_ERRORS as exc:
            raise Corrupt from exc
        if self.produced != self._size or self._md5.hexdigest() != self._digest:
            raise Corrupt


# encoding -> the variant's size, or None when it was not worth keeping
Sizes = dict[str, int | None]
# Encoded bytes, or a temporary file holding them (a large file's variant).
Encoded = bytes | Path
# encoding -> the variant, or None when it was not worth keeping
Blobs = dict[str, Encoded | None]


@dataclass
class CompressStats:
    encoded: int = 0  # unique contents run through the encoders
    # Files with variants, counted once each whatever the number of encodings, so a cold and
    # a warm run of the same tree add up to the same total:
    compressed: int = 0  # variants made from bytes encoded in this run
    reused: int = 0  # variants already in place, or copied from the cache
    fetched: int = 0  # variants an earlier build published, fetched and verified
    in_bucket: int = 0  # variants left in the bucket, none written here ("variants": "bucket")
    written: int = 0  # variant files written
    original_bytes: int = 0  # of the files that have variants
    smallest_bytes: int = 0  # of their smallest variant
    warnings: list[str] = field(default_factory=list)  # about the cache, never fatal


@dataclass(frozen=True)
class FetchedVariant:
    """A variant an earlier build published, as the bucket holds it: not trusted yet."""

    name: str  # the file in STATIC_ROOT it would be a variant of
    encoding: str
    data: bytes
    tag: str | None  # the encoder it was published as made with (None: not recorded)
    where: str  # for messages: s3://bucket/key


class RemoteVariants(Protocol):
    """Where earlier builds published their variants: the bucket, as a build cache."""

    def fetch(self, wanted: Sequence[tuple[str, str]]) -> Iterable[FetchedVariant]:
        """Those of ``wanted`` ((name, encoding) pairs) that exist; the others are skipped."""
        ...

    def present(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The sizes of those of ``wanted`` that exist, without their bytes."""
        ...


class ProgressBar(Protocol):
    def advance(self, size: int) -> None: ...

    def close(self) -> None: ...


def should_compress(name: str, skip_extensions: frozenset[str]) -> bool:
    _, dot, extension = name.rpartition(".")
    return not (dot and extension.lower() in skip_extensions)


def variants_fit(name: str) -> bool:
    """Whether every variant's name is a legal file name (a long hashed name may leave no room)."""
    return suffixes_fit(name, VARIANT_SUFFIXES.values())


class Compressor:
    def __init__(
        self,
        root: Path,
        encodings: Sequence[Encoding],
        state: CompressState,
        existing: Outputs,
        *,
        cache_dir: Path | None,
        skip_extensions: frozenset[str] = DEFAULT_SKIP_EXTENSIONS,
        workers: int | None = None,
        progress: Callable[[int, int], ProgressBar] | None = None,
        every_variant: bool = False,
        remote: RemoteVariants | None = None,
        local: bool = True,
    ) -> None:
        self.root = root
        self.encodings = list(encodings)
        self.state = state
        self.existing = existing
        self.cache_dir = cache_dir
        self.skip_extensions = skip_extensions
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress  # called with (contents, bytes) to encode
        # An edge picks variants by name alone (edge.negotiation): every file that may have
        # variants gets them, empty or not worth it, so that no rewrite meets a missing key.
        self.every_variant = every_variant
        # Asked for the contents neither the state nor the cache has, before encoding them.
        self.remote = remote
        # False (STATIC_ROOT is not served): a content whose variants the remote has gets none
        # here; only those it lacks are encoded, to be published.
        self.local = local or remote is None
        self.stats = CompressStats()

    def run(self, files: Iterable[BuiltFile]) -> CompressStats:
        if not self.encodings:
            return self.stats
        groups = self._group(files)
        pending = self._place_known(groups)
        if pending and self.remote is not None:
            if self.local:
                pending = self._place_fetched(pending, self.remote)
            else:
                pending = self._leave_in_remote(pending, self.remote)
        self._encode_all(pending)
        self._forget_others(groups)
        self._count_savings(groups)
        return self.stats

    # -- grouping and reuse ---------------------------------------------------------------

    def _group(self, files: Iterable[BuiltFile]) -> dict[str, list[BuiltFile]]:
        """Servable files by content digest; the others lose any variants they had."""
        groups: dict[str, list[BuiltFile]] = {}
        for servable in files:
            name = servable.name
            if (
                (servable.size or self.every_variant)
                and should_compress(name, self.skip_extensions)
                and variants_fit(name)
            ):
                groups.setdefault(servable.digest, []).append(servable)
            else:
                # An original that became empty or uncompressible must not keep stale variants.
                for encoding in self.encodings:
                    self._remove(servable.name + encoding.suffix)
        return groups

    def _place_known(self, groups: dict[str, list[BuiltFile]]) -> dict[str, list[BuiltFile]]:
        """Place the variants the state or the cache already has; returns what needs encoding."""
        pending: dict[str, list[BuiltFile]] = {}
        in_bucket = self.state.in_bucket
        for digest, servables in groups.items():
            if digest in in_bucket:
                if not self.local:
                    self._left_in_remote(servables)
                    continue
                in_bucket.discard(digest)  # wanted here again: fetched or encoded below
            sizes = self._known_sizes(digest)
            for servable in servables:
                if sizes is None or not self._place_without_encoding(servable, sizes):
                    pending.setdefault(digest, []).append(servable)
        return pending

    def _known_sizes(self, digest: str) -> Sizes | None:
        sizes = self.state.compressed.get(digest)
        if (
            sizes is not None
            and all(e.name in sizes for e in self.encodings)
            and not (self.every_variant and None in sizes.values())
        ):
            return sizes
        # The state may be gone while the cache survived (a new state format, other settings).
        cached: Sizes = {}
        for encoding in self.encodings:
            blob = self._blob_path(digest, encoding.name)
            if blob is None:
                return None
            try:
                if blob.is_file():
                    cached[encoding.name] = blob.stat().st_size - HEADER
                elif not self.every_variant and blob.with_name(blob.name + NOT_WORTH_IT).is_file():
                    cached[encoding.name] = None
                else:
                    return None
            except OSError:
                return None
        self.state.compressed[digest] = cached
        return cached

    def _place_fetched(
        self, pending: dict[str, list[BuiltFile]], remote: RemoteVariants
    ) -> dict[str, list[BuiltFile]]:
        """Place the variants earlier builds published; returns what still needs encoding.

        Each content is asked for under one of its names, a hashed one where it has one (a
        key that holds that content, if any does). A fetched variant is used only when it
        decodes to exactly the content's bytes (by MD5), is worth keeping by this build's rule
        and was made with this build's encoder settings; anything else is encoded here."""
        fetched = [e for e in self.encodings if e.fetch]
        if not fetched:
            return pending
        by_name = {_fetch_name(servables): digest for digest, servables in pending.items()}
        wanted = [(name, e.name) for name in by_name for e in fetched]
        found: dict[str, Blobs] = {}
        still = dict(pending)

        def take(checked: tuple[FetchedVariant, Blobs | None]) -> None:
            variant, blobs = checked
            if blobs is None:
                return
            digest = by_name[variant.name]
            found.setdefault(digest, {}).update(blobs)
            if len(found[digest]) == len(self.encodings):
                # Placed at once: the fetched bytes are not held beyond their content.
                self._store(digest, found.pop(digest), still.pop(digest), fetched=True)

        # Decoding to verify, and making the encodings not worth fetching, run on the pool
        # while the next variants download; a bounded window keeps memory flat.
        from concurrent.futures import Future, ThreadPoolExecutor

        window: deque[Future[tuple[FetchedVariant, Blobs | None]]] = deque()
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for variant in remote.fetch(wanted):
                servable = pending[by_name[variant.name]][0]
                window.append(pool.submit(self._check_fetched, variant, servable, fetched[0]))
                while len(window) > 2 * self.workers:
                    take(window.popleft().result())
            while window:
                take(window.popleft().result())
        return still

    def _check_fetched(
        self, variant: FetchedVariant, servable: BuiltFile, first: Encoding
    ) -> tuple[FetchedVariant, Blobs | None]:
        """The variant if it verifies; with the first fetched encoding, also those made here."""
        encoding = ENCODINGS[variant.encoding]
        content = self._verified(variant, encoding, servable)
        if content is None:
            return variant, None
        blobs: Blobs = {variant.encoding: variant.data}
        if encoding is first:
            for made_here in self.encodings:
                if not made_here.fetch:
                    blobs[made_here.name] = self._encode(servable, made_here, content)
        return variant, blobs

    def _leave_in_remote(
        self, pending: dict[str, list[BuiltFile]], remote: RemoteVariants
    ) -> dict[str, list[BuiltFile]]:
        """Leave the contents the remote has variants of there; returns what needs encoding.

        Nothing is downloaded, so nothing is verified: the variants stay where they were
        published, by the deploying build, and STATIC_ROOT, which lacks them, is not served."""
        by_name = {_fetch_name(servables): digest for digest, servables in pending.items()}
        wanted = [(name, e.name) for name in by_name for e in self.encodings]
        found = remote.present(wanted)
        still: dict[str, list[BuiltFile]] = {}
        for name, digest in by_name.items():
            sizes: Sizes = {}
            for encoding in self.encodings:
                size = found.get((name, encoding.name))
                if size is not None:
                    sizes[encoding.name] = size
            if len(sizes) < len(self.encodings):
                still[digest] = pending[digest]
                continue
            self.state.compressed[digest] = sizes
            self.state.in_bucket.add(digest)
            self._left_in_remote(pending[digest])
        return still

    def _left_in_remote(self, servables: list[BuiltFile]) -> None:
        for servable in servables:
            for encoding in self.encodings:
                self._remove(servable.name + encoding.suffix)
            self.state.variants[servable.name] = servable.digest
            self.stats.in_bucket += 1

    def _verified(
        self, variant: FetchedVariant, encoding: Encoding, servable: BuiltFile
    ) -> bytes | None:
        """The content ``variant`` decodes to, if it is this build's variant of ``servable``."""
        if variant.tag is not None and variant.tag != encoding.tag:
            return None  # another encoder's bytes: correct, perhaps, but not this build's
        try:
            # Bounded: an object of a few KB may decode to gigabytes.
            decoded: bytes | None = decode_bounded(encoding, variant.data, servable.size)
        except DECODE_ERRORS:
            decoded = None
        if (
            decoded is not None
            and len(decoded) == servable.size
            and md5_bytes(decoded) == servable.digest
        ):
            limit = float("inf") if self.every_variant else servable.size * (1 - MIN_SAVING)
            return decoded if len(variant.data) <= limit else None
        if decoded is None or looks_hashed(variant.name):
            # A content-addressed key that does not hold its content: altered or corrupt.
            self.stats.warnings.append(
                f"{variant.where} is not a {encoding.name} encoding of {variant.name}; "
                "compressing it again"
            )
        return None

    # -- placing one file's variants ------------------------------------------------------

    def _place_without_encoding(self, servable: BuiltFile, sizes: Sizes) -> bool:
        """Variants already in place, or copied from the cache; False if bytes are missing."""
        if not self._in_place(servable, sizes):
            for encoding in self.encodings:
                size = sizes[encoding.name]
                if not self._needs_writing(servable, encoding, size):
                    continue
                assert size is not None
                if not self._copy_cached(servable, encoding, size):
                    return False
            self.state.variants[servable.name] = servable.digest
        self.stats.reused += int(_has_variants(sizes))
        return True

    def _place_encoded(
        self, servable: BuiltFile, blobs: Blobs, *, fetched: bool, twin: BuiltFile | None = None
    ) -> None:
        """Write ``servable``'s variants; as links to ``twin``'s (same content) where it can."""
        for encoding in self.encodings:
            blob = blobs[encoding.name]
            variant = servable.name + encoding.suffix
            if blob is not None and self._needs_writing(servable, encoding, _size(blob)):
                if twin is None or not self._link(
                    twin.name + encoding.suffix, variant, servable.digest
                ):
                    self._write(variant, blob, servable.digest)
            elif blob is None:
                self._remove(variant)
        self.state.variants[servable.name] = servable.digest
        if _has_variants(blobs):
            if fetched:
                self.stats.fetched += 1
            else:
                self.stats.compressed += 1

    def _in_place(self, servable: BuiltFile, sizes: Sizes) -> bool:
        if self.state.variants.get(servable.name) != servable.digest:
            return False
        for e in self.encodings:
            variant = servable.name + e.suffix
            if sizes[e.name] is None:
                if variant in self.existing:
                    return False
            elif not self.existing.holds(variant, servable.digest):
                return False
        return True

    def _needs_writing(self, servable: BuiltFile, encoding: Encoding, size: int | None) -> bool:
        """Whether this variant must be written; one that is not worth keeping is removed."""
        variant = servable.name + encoding.suffix
        if size is None:
            self._remove(variant)
            return False
        return not self.existing.holds(variant, servable.digest)

    def _write(self, variant: str, content: Encoded, digest: str) -> None:
        """Write a variant from encoded bytes or from a temporary file holding them."""
        with replacing(self.root / variant) as temp:
            if isinstance(content, Path):
                with open(content, "rb") as source, open(temp, "wb") as out:
                    copy_stream(source, out)
            else:
                temp.write_bytes(content)
        self.existing.wrote(variant, digest)
        self.stats.written += 1

    def _link(self, source: str, variant: str, digest: str) -> bool:
        if not self.existing.link(source, variant, digest):
            return False
        self.stats.written += 1
        return True

    def _remove(self, variant: str) -> None:
        self.existing.remove(variant)

    # -- encoding -------------------------------------------------------------------------

    def _encode_all(self, pending: dict[str, list[BuiltFile]]) -> None:
        if not pending:
            return
        # Largest first keeps every core busy until the end; each encoding of a content is a
        # task of its own, so a large file's brotli and gzip run on different cores.
        order = sorted(pending, key=lambda d: -pending[d][0].size)
        progress = (
            self.progress(len(order), sum(pending[d][0].size for d in order))
            if self.progress
            else None
        )
        # Imported here: a run with nothing to compress does not pay for it.
        from concurrent.futures import ThreadPoolExecutor, as_completed

        release_large_blocks()
        done: dict[str, Blobs] = {}
        # A streamed encode (a file over LARGE_FILE) holds a window-sized encoder, the most
        # memory of any task: those run one at a time in a lane of their own, beside the pool.
        with (
            ThreadPoolExecutor(max_workers=self.workers) as pool,
            ThreadPoolExecutor(max_workers=1) as lane,
        ):
            futures = {
                (lane if _streamed_path(pending[d][0]) else pool).submit(
                    self._encode, pending[d][0], e
                ): (d, e.name)
                for d in order
                for e in self.encodings
            }
            for future in as_completed(futures):
                # Popped: a finished future holds its encoded bytes for as long as it is kept.
                digest, name = futures.pop(future)
                blobs = done.setdefault(digest, {})
                blobs[name] = future.result()
                if len(blobs) == len(self.encodings):
                    self._store(digest, done.pop(digest), pending[digest])
                    if progress:
                        progress.advance(pending[digest][0].size)
        if progress:
            progress.close()

    def _encode(
        self, servable: BuiltFile, encoding: Encoding, content: bytes | None = None
    ) -> Encoded | None:
        """``servable``'s variant, or None if not worth keeping; ``content``: its bytes, if
        at hand already."""
        limit = float("inf") if self.every_variant else servable.size * (1 - MIN_SAVING)
        path = _streamed_path(servable) if content is None else None
        if path is not None:
            temp = self._encode_streaming(path, encoding)
            if temp.stat().st_size <= limit:
                return temp
            temp.unlink()
            return None
        encoded = encoding.encode(servable.read() if content is None else content)
        return encoded if len(encoded) <= limit else None

    def _encode_streaming(self, path: Path, encoding: Encoding) -> Path:
        """Encode ``path`` in chunks into a temporary file beside where its variant goes."""
        temp = temp_path_for(path)
        encoder = encoding.stream()
        try:
            with open(path, "rb") as source, open(temp, "wb") as out:
                while chunk := source.read(CHUNK_SIZE):
                    out.write(encoder.process(chunk))
                out.write(encoder.finish())
        except BaseException as exc:
            with suppress(OSError):
                temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise WriteError(Path(str(path) + encoding.suffix), exc) from exc
            raise
        return temp

    def _store(
        self, digest: str, blobs: Blobs, servables: list[BuiltFile], *, fetched: bool = False
    ) -> None:
        self.stats.encoded += not fetched
        self.state.in_bucket.discard(digest)
        sizes = {name: (_size(b) if b is not None else None) for name, b in blobs.items()}
        self.state.compressed[digest] = sizes
        try:
            if not fetched:  # the bucket keeps fetched ones; a later run may fetch them again
                self._cache_blobs(digest, blobs)
            first, *twins = servables
            self._place_encoded(first, blobs, fetched=fetched)
            for twin in twins:
                self._place_encoded(twin, blobs, fetched=fetched, twin=first)
        finally:
            for blob in blobs.values():
                if isinstance(blob, Path):
                    with suppress(OSError):
                        blob.unlink(missing_ok=True)

    # -- what the state keeps -------------------------------------------------------------

    def _forget_others(self, groups: dict[str, list[BuiltFile]]) -> None:
        """Forget what no file in this build holds, so the state does not grow without bound."""
        state = self.state
        state.cache_garbage += len(state.compressed.keys() - groups.keys())
        state.compressed = {d: state.compressed[d] for d in groups}
        state.in_bucket &= groups.keys()
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

    def _copy_cached(self, servable: BuiltFile, encoding: Encoding, size: int) -> bool:
        """Copy the cached blob into place if it is whole and intact; False if not."""
        blob = self._blob_path(servable.digest, encoding.name)
        if blob is None:
            return False
        variant = servable.name + encoding.suffix
        try:
            copy_blob(
                blob,
                self.root / variant,
                size,
                BLOB_MAGIC,
                servable.digest,
                ContentCheck(encoding, servable.size, servable.digest),
            )
        except Corrupt:
            self._discard_blob(blob)
            return False
        except WriteError:
            raise  # STATIC_ROOT, not the cache, failed
        except OSError as exc:
            self.stats.warnings.append(f"could not read the compressed cache: {exc}")
            return False
        self.existing.wrote(variant, servable.digest)
        self.stats.written += 1
        return True

    def _discard_blob(self, blob: Path) -> None:
        self.stats.warnings.append(f"corrupt cached blob {blob} discarded; compressing again")
        with suppress(OSError):
            blob.unlink(missing_ok=True)

    def _cache_blobs(self, digest: str, blobs: Blobs) -> None:
        try:
            for encoding, blob in blobs.items():
                path = self._blob_path(digest, encoding)
                if path is None:
                    return
                if blob is None:
                    # Remember that this content does not compress well, without its bytes.
                    write_atomic(path.with_name(path.name + NOT_WORTH_IT), b"")
                else:
                    write_blob(path, blob, BLOB_MAGIC, digest)
        except OSError as exc:
            # Best effort: the build goes on without the cache for the rest of the run.
            self.stats.warnings.append(f"could not write the compressed cache: {exc}")
            self.cache_dir = None

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


def _fetch_name(servables: list[BuiltFile]) -> str:
    """The name to ask the bucket for a content by: a hashed one if it has one."""
    return next((s.name for s in servables if looks_hashed(s.name)), servables[0].name)


def _streamed_path(servable: BuiltFile) -> Path | None:
    """Where to stream ``servable`` from: a file over LARGE_FILE on disk, never read whole."""
    return servable.path if servable.size > LARGE_FILE else None


def _size(blob: Encoded) -> int:
    return blob.stat().st_size if isinstance(blob, Path) else len(blob)


def _has_variants(kept: Sizes | Blobs) -> bool:
    return any(value is not None for value in kept.values())
