"""Deltas against earlier builds (RFC 9842 Compression Dictionary Transport, ``dcz``).

A returning visitor's browser still holds the version of ``app.js`` the previous deploy served.
Declared a dictionary (``Use-As-Dictionary``), that old version lets the server send the new one
as a zstd frame made with the old bytes as a raw-content dictionary: after a patch release a few
hundred bytes instead of the whole file. This step writes those deltas once, at build time, for
each content-named CSS/JS file against the versions the same logical name had in the last
``previous_builds`` builds, and says in ``staticfiles.json`` which file is a dictionary for which
URLs and which deltas exist; servers and edges only pick a file.

A delta is written only where it pays: smaller than a tenth less than the brotli variant (or
the file). Each one is decoded again with its dictionary before it is kept, so a delta in
STATIC_ROOT always decodes to its file's exact bytes; the dictionary's SHA-256 is the one in the
delta's header and name, so a browser gets a delta only for bytes it holds. ``dcb`` (shared
brotli) is not written: the ``brotli`` binding has no shared-dictionary API.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assetpipe.build.cache_blobs import Corrupt, read_blob, write_blob
from assetpipe.build.outputs import LARGE_FILE, BuiltFile, Outputs, WriteError, write_atomic
from assetpipe.build.state import DictionaryState
from assetpipe.digests import md5_bytes
from assetpipe.headers import extension
from assetpipe.naming import (
    DICTIONARY_ID_LENGTH,
    delta_name,
    dictionary_id,
    suffixes_fit,
)

# The request destination a dictionary is offered for (``match-dest``), by the file's extension:
# a stylesheet is only a dictionary for stylesheets, a script for scripts.
DESTINATIONS: Mapping[str, str] = {".css": "style", ".js": "script", ".mjs": "script"}
# zstd's level for deltas: 19 is the highest without the "ultra" window sizes a browser may
# refuse; a delta is made once per file and dictionary, so the cost is paid once.
ZSTD_LEVEL = 19
# A delta is kept only when it is at most this fraction of what the browser gets without it.
WORTH_IT = 0.9
# The header of a ``dcz`` response body (RFC 9842, 4.2): a zstd skippable frame holding the
# dictionary's SHA-256.
DCZ_MAGIC = bytes.fromhex("5e2a4d1820000000")
# Cache blobs of deltas: a change to what they hold must change this.
BLOB_MAGIC = b"APD1"
# URLPattern's syntax characters (https://urlpattern.spec.whatwg.org/#parsing-patterns): a
# name that contains one is matched literally.
_PATTERN_SYNTAX = re.compile(r"([:*(){}+?\\])")


class EarlierBuilds(Protocol):
    """Where earlier builds are found when this machine did not make them (the bucket)."""

    def paths(self, count: int) -> list[dict[str, str]]:
        """The ``paths`` of the newest ``count`` builds, newest first."""
        ...

    def read(self, name: str, limit: int) -> bytes | None:
        """An earlier build's file, or None (missing, or larger than ``limit``)."""
        ...


@dataclass
class DeltaStats:
    dictionaries: int = 0  # files declared as dictionaries
    written: int = 0  # deltas made this run
    reused: int = 0  # deltas already in place or in the cache
    not_worth_it: int = 0  # pairs whose delta would not have paid

    def describe(self) -> str:
        return (
            f"{self.dictionaries} dictionaries, {self.written} deltas made, {self.reused} reused"
            + (f", {self.not_worth_it} not worth it" if self.not_worth_it else "")
        )


def match_pattern(name: str) -> str | None:
    """The ``match`` pattern that covers every content-named version of the logical ``name``:
    ``app.*.js`` for ``js/app.js``, relative to the file's own URL so that it holds under any
    STATIC_URL; None for a name that is no CSS/JS."""
    base = posixpath.basename(name)
    ext = extension(base)
    if ext not in DESTINATIONS or not base[: -len(ext)]:
        return None
    parts = (base[: -len(ext)], base[-len(ext) :])
    stem, suffix = (_PATTERN_SYNTAX.sub(r"\\\1", part) for part in parts)
    return f"{stem}.*{suffix}"


def dictionaries(
    names: Mapping[str, str], others: Iterable[str]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The content-named CSS/JS files of a build that can be dictionaries, as
    ``{logical name: (hashed name, match pattern)}``, and the logical names left out because
    their pattern would also match another file the build serves (``app.*.css`` matches
    ``app.min.0123456789ab.css``): a browser must never offer one file's version for another."""
    candidates = {
        logical: hashed
        for logical, hashed in names.items()
        if hashed != logical and match_pattern(logical) is not None
    }
    by_directory: dict[str, list[str]] = {}
    for name in others:
        by_directory.setdefault(posixpath.dirname(name), []).append(posixpath.basename(name))
    for siblings in by_directory.values():
        siblings.sort()
    found: dict[str, tuple[str, str]] = {}
    excluded: list[str] = []
    for logical, hashed in sorted(candidates.items()):
        siblings = by_directory.get(posixpath.dirname(hashed), [])
        if _matches_another(logical, posixpath.basename(hashed), siblings):
            excluded.append(logical)
        else:
            found[logical] = (hashed, str(match_pattern(logical)))
    return found, excluded


def _matches_another(logical: str, own: str, siblings: Sequence[str]) -> bool:
    """Whether :func:`match_pattern` of ``logical`` (``stem.*ext``) matches a name of
    ``siblings`` (sorted basenames in its directory) other than its own hashed name ``own``."""
    base = posixpath.basename(logical)
    suffix = base[-len(extension(base)) :]
    prefix = base[: -len(suffix)] + "."
    for other in siblings[bisect.bisect_left(siblings, prefix) :]:
        if not other.startswith(prefix):
            return False
        if other != own and other[len(prefix) :].endswith(suffix):
            return True
    return False


def dcz_encode(content: bytes, dictionary: bytes, sha256: bytes) -> bytes:
    """A ``dcz`` body: the header naming the dictionary, then a zstd frame made with it."""
    import zstandard

    raw = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compressor = zstandard.ZstdCompressor(
        level=ZSTD_LEVEL, dict_data=raw, write_content_size=True, write_checksum=True
    )
    return DCZ_MAGIC + sha256 + compressor.compress(content)


def dcz_decode(body: bytes, dictionary: bytes, limit: int) -> bytes:
    """The content of a ``dcz`` body made with ``dictionary``; raises ValueError for any other
    body, or when it would decode to more than ``limit`` bytes."""
    import zstandard

    sha256 = hashlib.sha256(dictionary).digest()
    if body[:8] != DCZ_MAGIC or body[8:40] != sha256:
        raise ValueError("not a dcz body for this dictionary")
    raw = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    try:
        return zstandard.ZstdDecompressor(dict_data=raw).decompress(
            body[40:], max_output_size=limit + 1
        )
    except zstandard.ZstdError as exc:
        raise ValueError(str(exc)) from exc


def encoder_version() -> str:
    """What makes a delta's bytes besides its inputs: part of its cache key."""
    import zstandard

    return f"zstd-{zstandard.ZSTD_VERSION}-{ZSTD_LEVEL}"


class DictionaryStep:
    """Writes the deltas of one build and says which files are dictionaries for which URLs."""

    def __init__(
        self,
        root: Path,
        previous_builds: int,
        state: DictionaryState,
        existing: Outputs,
        cache_dir: Path,
        *,
        earlier: EarlierBuilds | None = None,
    ) -> None:
        self.root = root
        self.previous_builds = previous_builds
        self.state = state
        self.existing = existing
        self.cache_dir = cache_dir
        # Where earlier builds are found when neither the state nor STATIC_ROOT has them (the
        # bucket); their bytes are used as they are: a delta names the SHA-256 of what it was
        # made with, so foreign bytes could only make a delta no browser asks for.
        self.earlier = earlier
        self.stats = DeltaStats()
        self.warnings: list[str] = []
        # Earlier files' SHA-256 (base64) by name, as this run found them: the next run's.
        self.hashes: dict[str, str] = {}

    def run(
        self, outputs: Mapping[str, BuiltFile], names: Mapping[str, str]
    ) -> dict[str, dict[str, Any]]:
        """``staticfiles.json``'s ``dictionaries`` entries for this build, its deltas written.

        ``outputs``: logical name -> the hashed file in STATIC_ROOT; ``names``: the build's
        logical -> hashed names, whose values and keys are every file it serves."""
        found, _ = dictionaries(names, {*names, *names.values()})
        self.stats.dictionaries = len(found)
        versions = self._earlier_versions(found)
        entries: dict[str, dict[str, Any]] = {}
        made: dict[str, list[str]] = {}
        for logical, (hashed, pattern) in sorted(found.items()):
            deltas: list[str] = []
            output = outputs.get(logical)
            if output is not None and output.size <= LARGE_FILE:
                for old in versions.get(logical, []):
                    sha256 = self._delta(output, old)
                    if sha256 is not None:
                        encoded = base64.b64encode(sha256).decode("ascii")
                        deltas.append(encoded)
                        made[delta_name(hashed, dictionary_id(sha256))] = [output.digest, encoded]
            entries[hashed] = {
                "match": pattern,
                "dest": DESTINATIONS[extension(hashed)],
                "deltas": sorted(deltas),
            }
        self._remove_stale(made)
        self.state.deltas = made
        self.state.hashes = self.hashes
        self._remember(found)
        return entries

    def _earlier_versions(self, found: Mapping[str, tuple[str, str]]) -> dict[str, list[str]]:
        """Logical name -> the distinct hashed names it had in the earlier builds, newest
        first, at most ``previous_builds`` of them, without this build's own."""
        current = {logical: hashed for logical, (hashed, _) in found.items()}
        earlier = [build for build in self.state.history if build != current]
        if not earlier and self.earlier is not None:
            # A machine that made none of them: the newest published builds (this one may be
            # among them, and then gives no version of its own).
            earlier = self.earlier.paths(self.previous_builds + 1)
        versions: dict[str, list[str]] = {}
        for build in earlier:
            for logical, hashed in current.items():
                old = build.get(logical)
                seen = versions.setdefault(logical, [])
                if old in (None, hashed, *seen) or len(seen) == self.previous_builds:
                    continue
                seen.append(str(old))
        return versions

    def _remember(self, found: Mapping[str, tuple[str, str]]) -> None:
        """Put this build first in the history, unless it is the newest there already."""
        current = {logical: hashed for logical, (hashed, _) in found.items()}
        history = [b for b in self.state.history if b != current]
        self.state.history = [current, *history][: self.previous_builds + 1]

    def _dictionary(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except OSError:
            pass
        if self.earlier is not None:
            return self.earlier.read(name, LARGE_FILE)
        return None

    def _delta(self, output: BuiltFile, old: str) -> bytes | None:
        """The SHA-256 of ``old``'s bytes when a delta of ``output`` against them is in place
        (reused or made now); None when there is none worth keeping."""
        known = self._in_place(output, old)
        if known is not None:
            return known
        dictionary = self._dictionary(old)
        if dictionary is None:
            return None
        sha256 = hashlib.sha256(dictionary).digest()
        self.hashes[old] = base64.b64encode(sha256).decode("ascii")
        name = delta_name(output.name, dictionary_id(sha256))
        if not suffixes_fit(output.name, [name[len(output.name) :]]):
            return None
        if self._holds(name, output.digest, sha256):
            self.stats.reused += 1
            return sha256
        content = output.read()
        blob = self.cache_dir / f"{output.digest}-{sha256.hex()}"
        body = self._cached(blob, content, dictionary, output.digest)
        if body is None:
            body = dcz_encode(content, dictionary, sha256)
            # Checked before it is kept: a delta that would not decode to the file is never
            # written (an encoder fault, or a dictionary that changed while it was read).
            if dcz_decode(body, dictionary, len(content)) != content:
                self.warnings.append(f"{name}: the delta did not decode to {output.name}")
                return None
            self._cache(blob, body, output.digest)
            self.stats.written += 1
        else:
            self.stats.reused += 1
        if len(body) > WORTH_IT * self._without(output):
            self.stats.not_worth_it += 1
            return None
        try:
            write_atomic(self.root / name, body)
        except WriteError as exc:
            self.warnings.append(str(exc))
            return None
        self.existing.wrote(name, _delta_digest(output.digest, sha256))
        return sha256

    def _in_place(self, output: BuiltFile, old: str) -> bytes | None:
        """The SHA-256 of ``old`` when the last run recorded it and the delta of ``output``
        against it is still in place: a run where nothing changed reads no dictionary."""
        encoded = self.state.hashes.get(old)
        sha256 = None if encoded is None else base64.b64decode(encoded)
        if sha256 is None or not self._holds(
            delta_name(output.name, dictionary_id(sha256)), output.digest, sha256
        ):
            return None
        self.hashes[old] = str(encoded)
        self.stats.reused += 1
        return sha256

    def _holds(self, name: str, digest: str, sha256: bytes) -> bool:
        """Whether the delta ``name`` in STATIC_ROOT is the one the last run wrote for the
        content ``digest`` and that dictionary."""
        recorded = self.state.deltas.get(name)
        return (
            recorded is not None
            and recorded[0] == digest
            and self.existing.holds(name, _delta_digest(digest, sha256))
        )

    def _without(self, output: BuiltFile) -> int:
        """The bytes a browser gets without a delta: the brotli variant, or the file."""
        try:
            return (self.root / (output.name + ".br")).stat().st_size
        except OSError:
            return output.size

    def _cached(self, blob: Path, content: bytes, dictionary: bytes, digest: str) -> bytes | None:
        try:
            magic, body = read_blob(blob, digest)
        except OSError:
            return None
        except Corrupt:
            magic, body = b"", b""
        try:
            if magic != BLOB_MAGIC or dcz_decode(body, dictionary, len(content)) != content:
                raise Corrupt
        except (Corrupt, ValueError):
            blob.unlink(missing_ok=True)
            return None
        return body

    def _cache(self, blob: Path, body: bytes, digest: str) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            write_blob(blob, body, BLOB_MAGIC, digest)
        except OSError as exc:
            self.warnings.append(f"could not cache a delta in {self.cache_dir}: {exc}")

    def _remove_stale(self, made: Mapping[str, Sequence[str]]) -> None:
        """Deltas of earlier builds that this one has not made again: no manifest names them."""
        for name in self.state.deltas:
            if name not in made:
                self.existing.remove(name)

    def prune_cache(self) -> None:
        """Cache blobs this build's deltas do not use."""
        keep = {
            f"{digest}-{base64.b64decode(encoded).hex()}"
            for digest, encoded in self.state.deltas.values()
        }
        try:
            blobs = list(self.cache_dir.iterdir())
        except OSError:
            return
        for blob in blobs:
            if blob.name not in keep:
                blob.unlink(missing_ok=True)


def _delta_digest(content: str, sha256: bytes) -> str:
    """What a delta's output record says it holds: its file's content with this dictionary."""
    return md5_bytes(f"{content}:{sha256.hex()}:{DICTIONARY_ID_LENGTH}".encode())
