"""The minify step (the ``minify`` option): CSS and JavaScript sources become their minified bytes
before any other step reads them.

It runs between the sources step and the hash step and hands on each minified file as a
:class:`~assetpipe.build.sources.Source` whose digest, size and bytes are the minified ones. So
the hashed name, the rewritten ``url()``/``import`` references, both files in STATIC_ROOT (the
original's name and the hashed copy), the .br/.gz variants and the integrity values are all of
the minified bytes, without those steps knowing; ``staticfiles.json`` stays Django's.

Left as they are:

- a name with ``.min.`` in it, and content that is minified already: lines that average more
  than :data:`MINIFIED_LINE` bytes (hand-written CSS/JS averages 15 to 55, minified files
  hundreds to tens of thousands);
- a file with a ``sourceMappingURL`` comment: its map describes these bytes, and no map is made
  for minified ones;
- what the caller keeps (bundler output: prehashed names and the files bundlers' records list);
- bytes that are not UTF-8, and a result no smaller than the input.

A file the minifier refuses (a syntax error) is kept as it is, with a warning naming it; the
build goes on. What the minifier made of each content, or why it kept it, is cached outside
STATIC_ROOT in blobs bound to the source's digest (:mod:`assetpipe.build.cache_blobs`), keyed by
that digest, the kind and the minifier's name and version, so a run whose files did not change
minifies nothing, and a new minifier release starts afresh.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from assetpipe.build.cache_blobs import Corrupt, read_blob, write_blob
from assetpipe.build.sources import Source
from assetpipe.digests import md5_bytes

# The option's values and the file names each one covers.
KINDS: dict[str, tuple[str, ...]] = {"css": (".css",), "js": (".js", ".mjs", ".cjs")}
# Average bytes per line over which a file counts as minified already.
MINIFIED_LINE = 200
# "//# sourceMappingURL=" and "/*# sourceMappingURL= */" (and the older "@" form).
SOURCE_MAP = re.compile(rb"[#@][ \t]*sourceMappingURL[ \t]*=")

# Blobs of minified bytes, and of a content kept as it is (the payload says why).
MINIFIED_MAGIC = b"APm1"
KEPT_MAGIC = b"APk1"
# A kept content's payload starts with one of these: a warning is repeated on every run.
WARN, QUIET = b"W", b"Q"


class Minifier(Protocol):
    """Minifies one file's text of one kind (``"css"``, ``"js"``); raises on input it refuses."""

    @property
    def version(self) -> str:
        """Name, version and settings: part of every cache key, so a change starts afresh."""
        ...

    def minify(self, kind: str, text: str) -> str: ...


class Tdewolff:
    """tdewolff's minifiers (``tdewolff-minify`` on PyPI: Go, run in process), as configured
    by default: the best bytes after brotli of the minifiers compared in docs/how-to/minify.md."""

    MEDIA_TYPES: ClassVar[dict[str, str]] = {"css": "text/css", "js": "application/javascript"}

    def __init__(self) -> None:
        from importlib.metadata import version

        import minify  # the "minify" extra, loaded only with the option on

        self._minify: Callable[[str, str], str] = minify.string
        self.version = f"tdewolff-minify {version('tdewolff-minify')}"

    def minify(self, kind: str, text: str) -> str:
        return self._minify(self.MEDIA_TYPES[kind], text)


def kind_of(name: str, kinds: Collection[str]) -> str | None:
    """The kind among ``kinds`` that ``name`` is, by its extension."""
    lowered = name.lower()
    for kind in kinds:
        if lowered.endswith(KINDS[kind]):
            return kind
    return None


def left_alone(data: bytes) -> str | None:
    """Why content is not to be minified, or None. (``.min.`` names are the caller's test.)"""
    if SOURCE_MAP.search(data):
        return "it has a sourceMappingURL"
    if len(data) > MINIFIED_LINE * (data.count(b"\n") + 1):
        return f"minified already (lines average over {MINIFIED_LINE} bytes)"
    return None


def minify_bytes(minifier: Minifier, kind: str, data: bytes) -> bytes | str:
    """The minified bytes of ``data``, or why it stays as it is; raises what the minifier
    raises on input it refuses."""
    reason = left_alone(data)
    if reason is not None:
        return reason
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"  # the hash step reports it
    out = minifier.minify(kind, text).encode()
    return out if len(out) < len(data) else "no smaller minified"


@dataclass
class MinifyResult:
    sources: dict[str, Source]  # by key, minified sources in place of the collected ones
    replaced: frozenset[str] = frozenset()  # collected names whose bytes are now minified
    minified: int = 0  # minified in this run
    reused: int = 0  # minified in an earlier run, from the cache
    kept: int = 0  # CSS/JS left as they are
    bytes_before: int = 0
    bytes_after: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"minified {self.minified + self.reused} files ({self.reused} reused), "
            f"{self.bytes_before:,} -> {self.bytes_after:,} bytes; {self.kept} left as they are"
        )


class MinifyStep:
    """Replaces each CSS/JS source of ``kinds`` by its minified bytes, cached in ``cache_dir``."""

    def __init__(self, kinds: Collection[str], cache_dir: Path, minifier: Minifier) -> None:
        self.kinds = tuple(kinds)
        self.cache_dir: Path | None = cache_dir
        self.minifier = minifier
        self._used: set[str] = set()
        self._wrote = False

    def run(self, sources: Mapping[str, Source], keep: Collection[str]) -> MinifyResult:
        """``keep``: collected names to leave as they are (bundler output)."""
        result = MinifyResult(dict(sources))
        replaced = set()
        for key, source in sources.items():
            kind = kind_of(source.name, self.kinds)
            if kind is None:
                continue
            if source.name in keep or ".min." in os.path.basename(source.name):
                result.kept += 1
                continue
            minified = self._minified(source, kind, result)
            if minified is None:
                result.kept += 1
                continue
            result.sources[key] = minified
            replaced.add(source.name)
            result.bytes_before += source.size
            result.bytes_after += minified.size
        result.replaced = frozenset(replaced)
        return result

    def _minified(self, source: Source, kind: str, result: MinifyResult) -> Source | None:
        blob = self._blob(source.digest, kind)
        cached = self._cached(blob, source.digest)
        if cached is not None:
            magic, payload = cached
            if magic == KEPT_MAGIC:
                if payload.startswith(WARN):
                    result.warnings.append(payload[1:].decode())
                return None
            result.reused += 1
            return self._source(source, payload, blob)
        data = source.load()
        try:
            out = minify_bytes(self.minifier, kind, data)
        except Exception as exc:  # the minifier's own errors: the file is kept, the build goes on
            warning = f"{source.name}: not minified, kept as it is ({_first_line(exc)})"
            result.warnings.append(warning)
            self._store(blob, KEPT_MAGIC, WARN + warning.encode(), source.digest)
            return None
        if isinstance(out, str):
            self._store(blob, KEPT_MAGIC, QUIET + out.encode(), source.digest)
            return None
        result.minified += 1
        stored = self._store(blob, MINIFIED_MAGIC, out, source.digest)
        return self._source(source, out, blob if stored else None)

    def _source(self, source: Source, data: bytes, blob: Path | None) -> Source:
        # No path: the bytes are the blob's payload, never the file at the source's path.
        # Without a blob (the cache could not be written) they are kept in memory.
        load: Callable[[], bytes] = (
            (lambda: data) if blob is None else BlobLoader(blob, source.digest)
        )
        return Source(source.name, source.key, md5_bytes(data), len(data), None, load)

    def _blob(self, digest: str, kind: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.md5(
            f"{digest}\0{kind}\0{self.minifier.version}".encode(), usedforsecurity=False
        ).hexdigest()
        self._used.add(key)
        return self.cache_dir / key[:2] / f"{key}.min"

    def _cached(self, blob: Path | None, digest: str) -> tuple[bytes, bytes] | None:
        if blob is None:
            return None
        try:
            magic, payload = read_blob(blob, digest)
        except (Corrupt, OSError):
            return None  # missing, foreign or damaged: made again
        return (magic, payload) if magic in (MINIFIED_MAGIC, KEPT_MAGIC) else None

    def _store(self, blob: Path | None, magic: bytes, payload: bytes, digest: str) -> bool:
        if blob is None:
            return False
        try:
            blob.parent.mkdir(parents=True, exist_ok=True)
            write_blob(blob, payload, magic, digest)
        except OSError:
            self.cache_dir = None  # a read-only state_dir: minified in every run instead
            return False
        self._wrote = True
        return True

    def prune_cache(self) -> None:
        """Drop the blobs of contents no longer in the build, after a run that added any."""
        if not self._wrote or self.cache_dir is None or not self.cache_dir.is_dir():
            return
        for bucket in self.cache_dir.iterdir():
            if bucket.is_dir():
                for blob in bucket.iterdir():
                    if blob.name.partition(".")[0] not in self._used:
                        blob.unlink(missing_ok=True)


class BlobLoader:
    """A minified source's bytes, read from its cache blob and checked each time."""

    __slots__ = ("blob", "digest")

    def __init__(self, blob: Path, digest: str) -> None:
        self.blob = blob
        self.digest = digest

    def __call__(self) -> bytes:
        try:
            magic, payload = read_blob(self.blob, self.digest)
        except Corrupt:
            magic, payload = b"", b""
        if magic != MINIFIED_MAGIC:
            raise OSError(f"the minified bytes cached in {self.blob} changed during the build")
        return payload


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
