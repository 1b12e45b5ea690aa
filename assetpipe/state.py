"""The build state that makes ``collectstatic`` incremental.

Everything is keyed by content: a source's digest, the names its references resolved to, the
digest of what was compressed. File metadata is only a shortcut to a digest already computed for
the very same file (path, size and mtime in nanoseconds must all match), so a fresh checkout
with new mtimes re-reads its sources once and then reuses all the work recorded for their
content. A missing, corrupt or foreign state is discarded: it can cost time, never correctness.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assetpipe.files import write_atomic

FORMAT = 1


@dataclass(frozen=True)
class SourceStamp:
    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True)
class MissingReference:
    source: str
    line: int
    target: str
    text: str

    def describe(self) -> str:
        return f"{self.source}:{self.line}: {self.text} -> {self.target} (not found)"


@dataclass(frozen=True)
class RewriteRecord:
    """How an adjustable file was hashed: reusable while its digest and references hold."""

    digest: str
    refs: dict[str, str | None]  # reference as resolved -> name it resolved to (None: missing)
    hashed_name: str
    output_digest: str
    missing: tuple[MissingReference, ...] = ()


@dataclass
class BuildState:
    fingerprint: str
    stamps: dict[str, SourceStamp] = field(default_factory=dict)  # absolute source path ->
    rewrites: dict[str, RewriteRecord] = field(default_factory=dict)  # collected name ->
    # content digest -> {encoding: compressed size, or None when not worth keeping}
    compressed: dict[str, dict[str, int | None]] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)  # variant name -> digest it holds

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> BuildState:
        try:
            raw = json.loads(path.read_bytes())
            if raw["format"] != FORMAT or raw["fingerprint"] != fingerprint:
                return cls(fingerprint)
            return cls(
                fingerprint=fingerprint,
                stamps={k: SourceStamp(*v) for k, v in raw["stamps"].items()},
                rewrites={k: _record_from_json(v) for k, v in raw["rewrites"].items()},
                compressed=raw["compressed"],
                variants=raw["variants"],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return cls(fingerprint)

    def save(self, path: Path) -> None:
        payload: dict[str, Any] = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "stamps": {k: [s.size, s.mtime_ns, s.digest] for k, s in sorted(self.stamps.items())},
            "rewrites": {k: _record_to_json(r) for k, r in sorted(self.rewrites.items())},
            "compressed": dict(sorted(self.compressed.items())),
            "variants": dict(sorted(self.variants.items())),
        }
        write_atomic(path, json.dumps(payload, separators=(",", ":")).encode())

    def stamp_digest(self, source_path: str, stat: os.stat_result) -> str | None:
        stamp = self.stamps.get(source_path)
        if stamp and stamp.size == stat.st_size and stamp.mtime_ns == stat.st_mtime_ns:
            return stamp.digest
        return None


def _record_to_json(record: RewriteRecord) -> dict[str, Any]:
    return {
        "digest": record.digest,
        "refs": record.refs,
        "hashed_name": record.hashed_name,
        "output_digest": record.output_digest,
        "missing": [[m.source, m.line, m.target, m.text] for m in record.missing],
    }


def _record_from_json(raw: dict[str, Any]) -> RewriteRecord:
    return RewriteRecord(
        digest=raw["digest"],
        refs=dict(raw["refs"]),
        hashed_name=raw["hashed_name"],
        output_digest=raw["output_digest"],
        missing=tuple(MissingReference(*m) for m in raw["missing"]),
    )
