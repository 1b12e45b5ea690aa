"""The image cache places a blob only for the image it was made from (build.cache_blobs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from assetpipe.build.state import ImageState
from tests.build.images.pictures import photo
from tests.build.images.test_step import run, servable


def test_a_blob_filed_under_another_image_is_encoded_again(tmp_path: Path) -> None:
    """A cache restored from another job: under b's digest, bytes made from a, cut to b's size
    and with a valid checksum of their own, which a blob that named no content passed."""
    root, cache = tmp_path / "root", tmp_path / "cache"
    a, b = photo(seed=1), photo(seed=2)
    files = [servable(root, "a.jpg", a), servable(root, "b.jpg", b)]
    run(root, ImageState(), cache, files)
    good_a, good_b = (root / "a.jpg.avif").read_bytes(), (root / "b.jpg.avif").read_bytes()
    assert good_a != good_b

    def blob_of(image: bytes) -> Path:
        (blob,) = cache.rglob(f"{hashlib.md5(image).hexdigest()}.avif")
        return blob

    raw_a = blob_of(a).read_bytes()
    header_a = raw_a[: len(raw_a) - len(good_a)]
    foreign = (good_a * 2)[: len(good_b)]
    # The header as a's blob has it, only the payload's checksum (its last 16 bytes) redone.
    blob_of(b).write_bytes(header_a[:-16] + hashlib.md5(foreign).digest() + foreign)
    (root / "b.jpg.avif").unlink()

    stats = run(root, ImageState(), cache, files)

    assert (root / "b.jpg.avif").read_bytes() == good_b
    assert stats.decoded == 1
    assert any("corrupt cached image" in warning for warning in stats.warnings)
