"""Checks on a contender's output that keep a fast result honest."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import brotli

from assetpipe.naming import VARIANT_ENCODINGS, split_variant

# By Content-Encoding, as assetpipe.naming names the variants.
DECODERS: dict[str, Callable[[bytes], bytes]] = {"br": brotli.decompress, "gzip": gzip.decompress}


@dataclass
class CompressedCheck:
    """Outcome of decompressing every precompressed variant under a directory."""

    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        if not self.checked:
            return f"no {'/'.join(VARIANT_ENCODINGS)} variants found"
        if self.ok:
            return f"OK ({self.checked} variants decompress to their originals)"
        shown = ", ".join(self.failures[:5])
        return f"FAIL ({len(self.failures)} of {self.checked}: {shown})"


def check_compressed(static_root: Path) -> CompressedCheck:
    """Every ``X.br``/``X.gz`` beside an ``X`` must decompress to exactly ``X``'s bytes.

    A ``.gz`` with no uncompressed sibling is a file a package shipped, not a variant.
    """
    result = CompressedCheck()
    for top, _, names in os.walk(static_root):
        present = set(names)
        for name in sorted(names):
            stem, encoding = split_variant(name)
            decode = DECODERS.get(encoding) if encoding else None
            if decode is None or stem not in present:
                continue
            result.checked += 1
            variant = Path(top, name)
            detail = ""
            try:
                matches = decode(variant.read_bytes()) == Path(top, stem).read_bytes()
            except (brotli.error, OSError, EOFError) as exc:  # truncated or corrupt variant
                matches, detail = False, f" ({exc})"
            if not matches:
                result.failures.append(f"{variant.relative_to(static_root)}{detail}")
    return result


def manifest_paths(static_root: Path) -> dict[str, str]:
    """The original -> hashed name map of a manifest storage's ``staticfiles.json``."""
    data = json.loads((static_root / "staticfiles.json").read_text())
    paths: dict[str, str] = data["paths"]
    return paths
