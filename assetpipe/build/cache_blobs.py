"""Cache blobs bound to the content they encode: a 4-byte magic, the MD5 of that content, the
MD5 of the payload, the payload.

The compressed-bytes cache, the image variants' cache and the minified-bytes cache keep bytes
outside STATIC_ROOT this way.
A blob is checked while it is copied into place: its header must name the content it is asked
for (a blob moved or restored under another content's name is foreign) and its payload must match
its checksum, and a ``check`` given by the caller (the compressed cache decodes the payload) must
pass; a blob that fails any of them is made again, never served. Each cache has its own magic,
which a change to what it stores must change.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO, Protocol

from assetpipe.build.outputs import replacing
from assetpipe.digests import CHUNK_SIZE, md5_file_raw

MAGIC_SIZE = 4
DIGEST_SIZE = 16
HEADER = MAGIC_SIZE + 2 * DIGEST_SIZE  # the magic, the content's MD5, the payload's MD5


class Corrupt(Exception):
    """A cached blob that is not what its header says, or not of the content asked for."""


class PayloadCheck(Protocol):
    """Fed the payload as it is copied; raises :class:`Corrupt` when it is not the content's."""

    def update(self, chunk: bytes) -> None: ...

    def finish(self) -> None: ...


def bound_digest(content: str) -> bytes:
    """The header field of a blob encoding ``content`` (an MD5, hex)."""
    try:
        raw = bytes.fromhex(content)
    except ValueError:
        raw = b""
    if len(raw) != DIGEST_SIZE:
        raise ValueError(f"{content!r} is not an MD5 digest")
    return raw


def write_blob(path: Path, payload: bytes | Path, magic: bytes, content: str) -> None:
    """Write ``payload`` (bytes, or a file holding them, read in chunks), an encoding of the
    content whose MD5 is ``content``, as a blob at ``path``."""
    head = magic + bound_digest(content)
    with replacing(path) as temp, open(temp, "wb") as out:
        if isinstance(payload, Path):
            out.write(head + md5_file_raw(payload))
            with open(payload, "rb") as source:
                copy_stream(source, out)
        else:
            out.write(head + hashlib.md5(payload, usedforsecurity=False).digest())
            out.write(payload)


def copy_blob(
    blob: Path,
    target: Path,
    size: int,
    magic: bytes,
    content: str,
    check: PayloadCheck | None = None,
) -> None:
    """Copy a blob's payload of ``size`` bytes, an encoding of ``content``, to ``target``,
    checking it on the way; raises :class:`Corrupt`, and leaves no partial copy, when it is not
    what its header says or its header names other content."""
    with open(blob, "rb") as source:
        header = source.read(HEADER)
        if (
            header[:MAGIC_SIZE] != magic
            or header[MAGIC_SIZE : MAGIC_SIZE + DIGEST_SIZE] != bound_digest(content)
            or os.fstat(source.fileno()).st_size - HEADER != size
        ):
            raise Corrupt
        # Raised inside ``replacing``, so the partial copy of a bad blob is removed.
        with replacing(target) as temp, open(temp, "wb") as out:
            if copy_stream(source, out, check) != header[MAGIC_SIZE + DIGEST_SIZE :]:
                raise Corrupt
            if check is not None:
                check.finish()


def read_blob(blob: Path, content: str) -> tuple[bytes, bytes]:
    """The magic and payload of a small blob, an encoding of ``content``, read whole; raises
    :class:`Corrupt` when it is not what its header says or its header names other content."""
    with open(blob, "rb") as source:
        data = source.read()
    header, payload = data[:HEADER], data[HEADER:]
    checksum = hashlib.md5(payload, usedforsecurity=False).digest()
    if (
        len(header) != HEADER
        or header[MAGIC_SIZE : MAGIC_SIZE + DIGEST_SIZE] != bound_digest(content)
        or checksum != header[MAGIC_SIZE + DIGEST_SIZE :]
    ):
        raise Corrupt
    return header[:MAGIC_SIZE], payload


def copy_stream(source: BinaryIO, out: BinaryIO, check: PayloadCheck | None = None) -> bytes:
    """Copy the rest of ``source`` to ``out`` in chunks; returns the MD5 of what was copied."""
    md5 = hashlib.md5(usedforsecurity=False)
    while chunk := source.read(CHUNK_SIZE):
        md5.update(chunk)
        if check is not None:
            check.update(chunk)
        out.write(chunk)
    return md5.digest()
