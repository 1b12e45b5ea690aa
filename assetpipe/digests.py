"""Content digests: the MD5 that Django's hashed names and S3's ETags are made of."""

from __future__ import annotations

import base64
import hashlib
import os

# Large enough that the loop costs nothing next to the hashing, small enough to bound memory.
CHUNK_SIZE = 1024 * 1024


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path: str | os.PathLike[str], start: int = 0, length: int | None = None) -> str:
    """The MD5 of a file (or of ``length`` bytes from ``start``), read in chunks."""
    return file_digest(path, "md5", start, length).hexdigest()


def md5_file_raw(path: str | os.PathLike[str], start: int = 0, length: int | None = None) -> bytes:
    return file_digest(path, "md5", start, length).digest()


def content_md5(md5_hex: str) -> str:
    """The base64 ``Content-MD5`` header, from a hex MD5, that S3 verifies a body against."""
    return base64.b64encode(bytes.fromhex(md5_hex)).decode("ascii")


def multipart_etag(path: str | os.PathLike[str], size: int, part_size: int) -> str:
    """The ETag S3 gives an upload of ``size`` bytes of ``path`` in parts of ``part_size``:
    the MD5 of the parts' MD5s, a dash and the number of parts."""
    parts = [md5_file_raw(path, start, part_size) for start in range(0, size, part_size)]
    return f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}"


MAX_PARTS = 10_000  # S3's limit per multipart upload


def part_size(size: int, threshold: int) -> int:
    """The parts a publish uploads ``size`` bytes in: ``threshold`` bytes, larger only where
    S3's limit of 10,000 parts requires."""
    return max(threshold, -(-size // MAX_PARTS))


def upload_etag(path: str | os.PathLike[str], size: int, threshold: int) -> str:
    """The ETag S3 gives ``path`` (of ``size`` bytes) uploaded as a publish uploads it: its MD5,
    or from ``threshold`` bytes on, the ETag of its parts."""
    if size < threshold:
        return md5_file(path)
    return multipart_etag(path, size, part_size(size, threshold))


def file_digest(
    path: str | os.PathLike[str], algorithm: str, start: int = 0, length: int | None = None
) -> hashlib._Hash:
    """The ``hashlib`` digest of a file (or of ``length`` bytes from ``start``), read in chunks
    of :data:`CHUNK_SIZE`: every digest of a file the package computes is read here, so memory
    stays bounded by the chunk whatever the file's size."""
    # MD5 names content here (as in Django's hashed names); it protects nothing.
    digest = hashlib.new(algorithm, usedforsecurity=False)
    remaining = length
    with open(path, "rb") as file:
        if start:
            file.seek(start)
        while remaining is None or remaining > 0:
            chunk = file.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    return digest
