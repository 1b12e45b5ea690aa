"""The build state that makes ``collectstatic`` incremental.

Everything is keyed by content: a source's digest, the names its references resolved to, the
digest of what was compressed. File metadata is only a shortcut to a digest already computed for
the very same file (path, size and mtime in nanoseconds must all match), so a fresh checkout
with new mtimes re-reads its sources once and then reuses all the work recorded for their
content. A missing, corrupt or foreign state is discarded: it can cost time, never correctness.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from assetpipe.files import write_atomic

FORMAT = 3


class SourceStamp(NamedTuple):
    size: int
    mtime_ns: int
    digest: str


class PlainRecord(NamedTuple):
    """A file copied as it is: its digest and the hashed name that gave."""

    digest: str
    hashed_name: str


class MissingReference(NamedTuple):
    source: str
    line: int
    target: str
    text: str

    def describe(self) -> str:
        return f"{self.source}:{self.line}: {self.text} -> {self.target} (not found)"


class RewriteRecord(NamedTuple):
    """How an adjustable file was hashed: reusable while its digest and references hold."""

    digest: str
    refs: dict[str, str | None]  # reference as resolved -> name it resolved to (None: missing)
    hashed_name: str
    output_digest: str
    output_size: int
    missing: tuple[MissingReference, ...] = ()


@dataclass
class BuildState:
    fingerprint: str
    stamps: dict[str, SourceStamp] = field(default_factory=dict)  # absolute source path ->
    plain: dict[str, PlainRecord] = field(default_factory=dict)  # collected name ->
    rewrites: dict[str, RewriteRecord] = field(default_factory=dict)  # collected name ->
    # content digest -> {encoding: compressed size, or None when not worth keeping}
    compressed: dict[str, dict[str, int | None]] = field(default_factory=dict)
    # file in STATIC_ROOT -> digest of the content its variants were made from
    variants: dict[str, str] = field(default_factory=dict)
    cache_garbage: int = 0  # contents dropped since the compressed-bytes cache was last pruned
    _loaded: tuple[Any, ...] | None = None

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> BuildState:
        try:
            raw = json.loads(path.read_bytes())
            if raw["format"] != FORMAT or raw["fingerprint"] != fingerprint:
                return cls(fingerprint)
            state = cls(
                fingerprint=fingerprint,
                stamps={k: SourceStamp(*v) for k, v in raw["stamps"].items()},
                plain={k: PlainRecord(*v) for k, v in raw["plain"].items()},
                rewrites={k: _record_from_json(v) for k, v in raw["rewrites"].items()},
                compressed=raw["compressed"],
                variants=raw["variants"],
                cache_garbage=raw["cache_garbage"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return cls(fingerprint)
        state._loaded = state._contents()
        return state

    def _contents(self) -> tuple[Any, ...]:
        # Shallow copies: the run replaces or updates these dicts, never their values.
        return (
            dict(self.stamps),
            dict(self.plain),
            dict(self.rewrites),
            dict(self.compressed),
            dict(self.variants),
            self.cache_garbage,
        )

    def dump(self) -> bytes:
        payload: dict[str, Any] = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "stamps": self.stamps,
            "plain": self.plain,
            "rewrites": self.rewrites,
            "compressed": self.compressed,
            "variants": self.variants,
            "cache_garbage": self.cache_garbage,
        }
        return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()

    def save(self, path: Path) -> None:
        """Write the state if it changed since it was loaded."""
        if self._loaded is not None and self._loaded == self._contents():
            return
        write_atomic(path, self.dump())
        self._loaded = self._contents()


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
