"""The integrity step: Subresource Integrity values (``sha384-...``) of every served output.

A value is the SHA-384 of the identity bytes a server sends for the name: the file in
STATIC_ROOT, read in chunks. It is reused by the output's content digest from the previous run's
state, so a run where nothing changed reads no file and computes none; the state keeps only the
digests of this run's outputs, so it does not grow without bound.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assetpipe.build.outputs import BuiltFile
from assetpipe.build.state import IntegrityState
from assetpipe.digests import file_digest

ALGORITHM = "sha384"


def sri_file(path: Path) -> str:
    """``sha384-<base64>`` of the file's bytes, as browsers compute it for ``integrity``."""
    return sri_digest(file_digest(path, ALGORITHM).digest())


def sri_bytes(data: bytes) -> str:
    return sri_digest(hashlib.sha384(data).digest())


def sri_digest(raw: bytes) -> str:
    return f"{ALGORITHM}-{base64.b64encode(raw).decode('ascii')}"


@dataclass
class IntegrityResult:
    values: dict[str, str] = field(default_factory=dict)  # output name -> "sha384-..."
    computed: int = 0  # files read and hashed in this run
    reused: int = 0  # values taken from the state by content digest


def compute_integrity(
    outputs: Iterable[BuiltFile], root: Path, state: IntegrityState
) -> IntegrityResult:
    """The integrity of each output in ``root``; updates ``state.sha384`` to this run's."""
    result = IntegrityResult()
    previous = state.sha384
    kept: dict[str, str] = {}
    for output in outputs:
        value = kept.get(output.digest) or previous.get(output.digest)
        if value is None:
            value = sri_file(root / output.name)
            result.computed += 1
        else:
            result.reused += 1
        kept[output.digest] = value
        result.values[output.name] = value
    state.sha384 = kept
    return result
