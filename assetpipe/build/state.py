"""The build state that makes ``collectstatic`` incremental.

Everything is keyed by content: a source's digest, the names its references resolved to, the
digest of what was compressed. File metadata is only a shortcut to a digest already computed for
the very same file (path, size, mtime and ctime in nanoseconds and inode must all match: ``cp
-p`` or ``touch -r`` can set an mtime, not a ctime), so a fresh checkout re-reads its sources
once and then reuses all the work recorded for their content. The files a build wrote into
STATIC_ROOT are recorded the same way (``outputs``), so an edited, replaced or stale output is
rebuilt instead of trusted. A missing, corrupt or foreign state is discarded: it can cost time,
never correctness.

One state file per STATIC_ROOT: its name is the root's basename and a digest of its full
resolved path, and the file repeats the path, so one ``state_dir`` serves many projects.

Each step owns one part (``SourcesState``, ``HashState``, ``CompressState``, ``IntegrityState``,
``ImageState``) and is handed only that part; this module only loads and saves them together, in
one file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from assetpipe.build.outputs import OutputRecords, replacing
from assetpipe.digests import md5_bytes

FORMAT = 6
# Entries per piece when a large mapping is written: the encoded state is never held whole.
_DUMP_CHUNK = 4096


class SourceStamp(NamedTuple):
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str


STATE_DIRNAME = ".assetpipe"


def state_dir_problem(root: Path, configured: str | Path | None) -> str | None:
    """Why the ``state_dir`` option cannot be used with this STATIC_ROOT ("<path> is inside
    ..."), or None."""
    if configured is None:
        return None
    state_dir, root = Path(configured).resolve(), root.resolve()
    if state_dir != root and root not in state_dir.parents:
        return None
    # WhiteNoise serves every file below STATIC_ROOT, dotfiles included.
    return (
        f"{state_dir} is inside STATIC_ROOT {root}, where it would be served; "
        "put it beside STATIC_ROOT instead"
    )


def resolve_state_dir(root: Path, configured: str | Path | None) -> Path:
    """The build's state directory: the ``state_dir`` option's, or ``.assetpipe`` beside
    STATIC_ROOT."""
    problem = state_dir_problem(root, configured)
    if problem is not None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"assetpipe: state_dir {problem}")
    if configured is None:
        return root.resolve().parent / STATE_DIRNAME
    return Path(configured).resolve()


def state_path(state_dir: Path, root: Path) -> Path:
    """The state file of the STATIC_ROOT ``root`` (resolved) in ``state_dir``."""
    return state_dir / f"{root.name or 'static'}-{md5_bytes(str(root).encode())[:12]}.json"


class PlainRecord(NamedTuple):
    """A file copied as it is: its digest and the hashed name that gave."""

    digest: str
    hashed_name: str


class MissingReference(NamedTuple):
    source: str
    line: int
    target: str
    text: str
    reason: str = "not found"

    def describe(self) -> str:
        return f"{self.source}:{self.line}: {self.text} -> {self.target} ({self.reason})"


class RewriteRecord(NamedTuple):
    """How an adjustable file was hashed: reusable while its digest and references hold."""

    digest: str
    refs: dict[str, str | None]  # manifest key looked up -> name it resolved to (None: missing)
    hashed_name: str
    output_digest: str
    output_size: int
    missing: tuple[MissingReference, ...] = ()


@dataclass
class SourcesState:
    """The digest step's part: absolute source path -> its stat and digest."""

    stamps: dict[str, SourceStamp] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"stamps": self.stamps}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SourcesState:
        return cls({k: SourceStamp(*v) for k, v in raw["stamps"].items()})


@dataclass
class HashState:
    """The hash step's part, by collected name: plain copies and rewritten files."""

    plain: dict[str, PlainRecord] = field(default_factory=dict)
    rewrites: dict[str, RewriteRecord] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"plain": self.plain, "rewrites": self.rewrites}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HashState:
        return cls(
            plain={k: PlainRecord(*v) for k, v in raw["plain"].items()},
            rewrites={k: _record_from_json(v) for k, v in raw["rewrites"].items()},
        )


@dataclass
class CompressState:
    """The compress step's part."""

    # content digest -> {encoding: compressed size, or None when not worth keeping}
    compressed: dict[str, dict[str, int | None]] = field(default_factory=dict)
    # file in STATIC_ROOT -> digest of the content its variants were made from
    variants: dict[str, str] = field(default_factory=dict)
    cache_garbage: int = 0  # contents dropped since the compressed-bytes cache was last pruned
    # contents whose variants are in the bucket only (the s3 option "variants": "bucket")
    in_bucket: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "compressed": self.compressed,
            "variants": self.variants,
            "cache_garbage": self.cache_garbage,
            "in_bucket": sorted(self.in_bucket),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CompressState:
        return cls(
            dict(raw["compressed"]),
            dict(raw["variants"]),
            int(raw["cache_garbage"]),
            # Optional: a state written before this part existed keeps all the rest.
            set(raw.get("in_bucket", ())),
        )


@dataclass
class IntegrityState:
    """The integrity and module-graph steps' part, both by content digest (MD5 of the bytes)."""

    sha384: dict[str, str] = field(default_factory=dict)  # output digest -> "sha384-..."
    # source digest -> (static import specifiers, dynamic import() specifiers)
    imports: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sha384": self.sha384, "imports": self.imports}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> IntegrityState:
        imports = {k: (list(v[0]), list(v[1])) for k, v in raw["imports"].items()}
        return cls(dict(raw["sha384"]), imports)


class ImageRecord(NamedTuple):
    """What the image step made of one content: its upright size and the variants kept."""

    width: int  # 0 when it could not be read
    height: int
    sizes: dict[str, int | None]  # format -> the variant's size, or None when not kept
    skipped: str = ""  # why it gets no variants at all (animated, unreadable); "" if converted
    forced: str = ""  # "lossless" or "lossy" when a pattern named the image; else ""
    quality: dict[str, int] = {}  # noqa: RUF012 - never mutated; format -> its lossy quality

    @classmethod
    def from_json(cls, raw: list[Any]) -> ImageRecord:
        quality = raw[5] if len(raw) > 5 else {}
        return cls(
            int(raw[0]),
            int(raw[1]),
            dict(raw[2]),
            str(raw[3]),
            str(raw[4]) if len(raw) > 4 else "",
            {str(f): int(q) for f, q in quality.items()},
        )


@dataclass
class ImageState:
    """The image step's part; empty (and not saved) while the ``images`` option is off."""

    # The step's settings and encoder library versions: records made under others are dropped.
    key: str = ""
    # The installed Pillow's files, a newline, the versions its codecs report: read once per
    # install, so that a run with nothing to encode never loads the codecs.
    libraries: str = ""
    images: dict[str, ImageRecord] = field(default_factory=dict)  # content digest -> record
    # file in STATIC_ROOT -> digest of the content its image variants were made from
    variants: dict[str, str] = field(default_factory=dict)
    cache_garbage: int = 0  # contents dropped since the image cache was last pruned

    def __bool__(self) -> bool:
        return bool(self.key or self.images or self.variants)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "libraries": self.libraries,
            "images": self.images,
            "variants": self.variants,
            "cache_garbage": self.cache_garbage,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ImageState:
        images = {k: ImageRecord.from_json(v) for k, v in raw["images"].items()}
        return cls(
            str(raw["key"]),
            str(raw["libraries"]),
            images,
            dict(raw["variants"]),
            int(raw["cache_garbage"]),
        )


@dataclass
class DictionaryState:
    """The dictionary step's part; empty (and not saved) while the ``dictionaries`` option is
    off."""

    # The newest builds first: {logical name: hashed name} of the files that were dictionaries.
    history: list[dict[str, str]] = field(default_factory=list)
    # delta in STATIC_ROOT -> [MD5 of its file's content, base64 SHA-256 of its dictionary]
    deltas: dict[str, list[str]] = field(default_factory=dict)
    # earlier build's file -> base64 SHA-256 of its bytes, so that a delta in place is known
    # without reading its dictionary again
    hashes: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.history or self.deltas)

    def to_json(self) -> dict[str, Any]:
        return {"history": self.history, "deltas": self.deltas, "hashes": self.hashes}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DictionaryState:
        history = [{str(k): str(v) for k, v in build.items()} for build in raw["history"]]
        deltas = {str(k): [str(v[0]), str(v[1])] for k, v in raw["deltas"].items()}
        hashes = {str(k): str(v) for k, v in raw.get("hashes", {}).items()}
        return cls(history, deltas, hashes)


@dataclass
class BuildState:
    fingerprint: str
    root: str = ""  # STATIC_ROOT, resolved: a state read for another root is discarded
    sources: SourcesState = field(default_factory=SourcesState)
    hashing: HashState = field(default_factory=HashState)
    compressing: CompressState = field(default_factory=CompressState)
    integrity: IntegrityState = field(default_factory=IntegrityState)
    images: ImageState = field(default_factory=ImageState)
    dictionaries: DictionaryState = field(default_factory=DictionaryState)
    outputs: OutputRecords = field(default_factory=dict)  # what the build wrote, as written
    _loaded: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path, fingerprint: str, root: str = "") -> BuildState:
        try:
            raw = json.loads(path.read_bytes())
            if raw["format"] != FORMAT or raw["fingerprint"] != fingerprint or raw["root"] != root:
                return cls(fingerprint, root)
            state = cls(
                fingerprint,
                root,
                SourcesState.from_json(raw["sources"]),
                HashState.from_json(raw["hashing"]),
                CompressState.from_json(raw["compressing"]),
                # Optional: a state written before this part existed keeps all the rest.
                IntegrityState.from_json(raw.get("integrity", {"sha384": {}, "imports": {}})),
                # Saved only while the images option is on; the other parts survive a bad one.
                _image_state(raw.get("images")),
                _dictionary_state(raw.get("dictionaries")),
                _output_records(raw["outputs"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(fingerprint, root)
        state._loaded = state._snapshot()
        return state

    def _contents(self) -> tuple[Any, ...]:
        compressing = self.compressing
        return (
            self.sources.stamps,
            self.hashing.plain,
            self.hashing.rewrites,
            compressing.compressed,
            compressing.variants,
            compressing.cache_garbage,
            compressing.in_bucket,
            self.integrity.sha384,
            self.integrity.imports,
            self.images.key,
            self.images.libraries,
            self.images.images,
            self.images.variants,
            self.images.cache_garbage,
            self.dictionaries.history,
            self.dictionaries.deltas,
            self.dictionaries.hashes,
            self.outputs,
        )

    def _snapshot(self) -> tuple[Any, ...]:
        # Shallow copies: the steps replace or update these dicts, never their values.
        return tuple(
            dict(part) if isinstance(part, dict) else set(part) if isinstance(part, set) else part
            for part in self._contents()
        )

    def dump(self) -> Iterator[bytes]:
        """The state as JSON (sorted keys, no spaces), in pieces."""
        payload: dict[str, Any] = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "root": self.root,
            "outputs": self.outputs,
            "sources": self.sources.to_json(),
            "hashing": self.hashing.to_json(),
            "compressing": self.compressing.to_json(),
            "integrity": self.integrity.to_json(),
        }
        if self.images:
            # Left out while empty: a build without images writes the state it always wrote.
            payload["images"] = self.images.to_json()
        if self.dictionaries:
            payload["dictionaries"] = self.dictionaries.to_json()
        return _encode(payload)

    def save(self, path: Path) -> None:
        """Write the state if it changed since it was loaded."""
        if self._loaded is not None and self._loaded == self._contents():
            return
        with replacing(path) as temp, open(temp, "wb") as out:
            out.writelines(self.dump())
        self._loaded = self._snapshot()


def _encode(value: Any) -> Iterator[bytes]:
    """``json.dumps(value, separators=(",", ":"), sort_keys=True)``, in pieces: a mapping of
    more than a few thousand entries is written that many at a time, a smaller one holding
    mappings key by key, so the encoded state is never held whole."""
    if not isinstance(value, Mapping) or not (
        len(value) > _DUMP_CHUNK or any(isinstance(v, Mapping) for v in value.values())
    ):
        yield _dumps(value)
        return
    items = sorted(value.items())
    yield b"{"
    if len(items) > _DUMP_CHUNK:
        for start in range(0, len(items), _DUMP_CHUNK):
            chunk = _dumps(dict(items[start : start + _DUMP_CHUNK]))[1:-1]
            yield b"," + chunk if start else chunk
    else:
        for index, (key, item) in enumerate(items):
            yield (b"," if index else b"") + _dumps(key) + b":"
            yield from _encode(item)
    yield b"}"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _image_state(raw: Any) -> ImageState:
    if raw is None:
        return ImageState()
    try:
        return ImageState.from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        # Its variants may be on disk: kept by name, so that they can be checked and removed.
        variants = raw.get("variants") if isinstance(raw, dict) else None
        if isinstance(variants, dict):
            return ImageState(variants={str(k): str(v) for k, v in variants.items()})
        return ImageState()


def _dictionary_state(raw: Any) -> DictionaryState:
    if raw is None:
        return DictionaryState()
    try:
        return DictionaryState.from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        # Its deltas may be on disk: kept by name, so that they can be removed.
        deltas = raw.get("deltas") if isinstance(raw, dict) else None
        if isinstance(deltas, dict):
            return DictionaryState(deltas={str(k): ["", ""] for k in deltas})
        return DictionaryState()


def _output_records(raw: dict[str, str]) -> OutputRecords:
    # Interned names: the same strings as those the tree scan finds, not a second copy.
    if not all(type(record) is str for record in raw.values()):
        raise ValueError("an output record is not a string")
    return {sys.intern(name): record for name, record in raw.items()}


def _record_from_json(raw: list[Any]) -> RewriteRecord:
    digest, refs, hashed_name, output_digest, output_size, missing = raw
    return RewriteRecord(
        digest,
        refs,
        hashed_name,
        output_digest,
        output_size,
        tuple(MissingReference(*m) for m in missing),
    )
