"""Cache blobs that carry their own checksum: a 4-byte magic, the MD5 of the payload, the payload.

The compressed-bytes cache and the image variants' cache keep bytes outside STATIC_ROOT this way.
A blob is checked while it is copied into place, so a damaged one is made again, never served.
Each cache has its own magic, which a change to what it stores must change.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from assetpipe.digests import CHUNK_SIZE
from assetpipe.files import replacing

MAGIC_SIZE = 4
HEADER = MAGIC_SIZE + 16  # the magic and the payload's MD5


class Corrupt(Exception):
    """A cached blob whose header does not match its payload."""


def write_blob(path: Path, payload: bytes | Path, magic: bytes) -> None:
    """Write ``payload`` (bytes, or a file holding them, read in chunks) as a blob at ``path``."""
    with replacing(path) as temp, open(temp, "wb") as out:
        if isinstance(payload, Path):
            md5 = hashlib.md5(usedforsecurity=False)
            with open(payload, "rb") as source:
                while chunk := source.read(CHUNK_SIZE):
                    md5.update(chunk)
            out.write(magic + md5.digest())
            with open(payload, "rb") as source:
                copy_stream(source, out)
        else:
            out.write(magic + hashlib.md5(payload, usedforsecurity=False).digest())
            out.write(payload)


def copy_blob(blob: Path, target: Path, size: int, magic: bytes) -> None:
    """Copy a blob's payload of ``size`` bytes to ``target``, checking it on the way; raises
    :class:`Corrupt`, and leaves no partial copy, when it is not what its header says."""
    with open(blob, "rb") as source:
        header = source.read(HEADER)
        if header[:MAGIC_SIZE] != magic or os.fstat(source.fileno()).st_size - HEADER != size:
            raise Corrupt
        # Raised inside ``replacing``, so the partial copy of a bad blob is removed.
        with replacing(target) as temp, open(temp, "wb") as out:
            if copy_stream(source, out) != header[MAGIC_SIZE:]:
                raise Corrupt


def copy_stream(source: BinaryIO, out: BinaryIO) -> bytes:
    """Copy the rest of ``source`` to ``out`` in chunks; returns the MD5 of what was copied."""
    md5 = hashlib.md5(usedforsecurity=False)
    while chunk := source.read(CHUNK_SIZE):
        md5.update(chunk)
        out.write(chunk)
    return md5.digest()
