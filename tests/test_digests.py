"""The digests of files: read in chunks, one function for every algorithm and caller."""

from __future__ import annotations

import hashlib
from pathlib import Path

from assetpipe.build.cache_blobs import write_blob
from assetpipe.build.integrity import sri_bytes, sri_file
from assetpipe.digests import CHUNK_SIZE, file_digest, md5_bytes, md5_file, md5_file_raw

# Longer than one chunk and not a multiple of it, so that the last read is a short one.
DATA = bytes(range(256)) * (CHUNK_SIZE // 256 * 2 + 3)


def test_a_files_digest_is_that_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(DATA)
    assert md5_file(path) == md5_bytes(DATA) == hashlib.md5(DATA).hexdigest()
    assert md5_file_raw(path) == hashlib.md5(DATA).digest()
    assert file_digest(path, "sha384").digest() == hashlib.sha384(DATA).digest()
    assert sri_file(path) == sri_bytes(DATA)


def test_a_range_of_a_file_has_the_digest_of_those_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(DATA)
    start, length = CHUNK_SIZE - 7, CHUNK_SIZE + 11
    assert md5_file(path, start, length) == md5_bytes(DATA[start : start + length])
    assert md5_file(path, len(DATA) - 5, 100) == md5_bytes(DATA[-5:])


def test_a_blob_written_from_a_file_is_the_blob_of_its_bytes(tmp_path: Path) -> None:
    # The cache's header binds the payload by its MD5, whether the payload came as bytes or as
    # a (large) file read in chunks.
    source = tmp_path / "payload"
    source.write_bytes(DATA)
    content = md5_bytes(b"the original")
    write_blob(tmp_path / "from-file", source, b"TEST", content)
    write_blob(tmp_path / "from-bytes", DATA, b"TEST", content)
    assert (tmp_path / "from-file").read_bytes() == (tmp_path / "from-bytes").read_bytes()
