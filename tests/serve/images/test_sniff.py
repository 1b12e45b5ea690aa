"""An image variant is uploaded as what its bytes are: the edge-mode copy of an original whose
encode was not smaller keeps its original's type."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetpipe.headers import SNIFF_BYTES, media_type, sniffed_image_type
from assetpipe.publish.local import LocalFile
from assetpipe.publish.object_args import upload_args
from assetpipe.publish.s3 import S3Config
from tests.serve.images.pictures import encode, photo


@pytest.mark.parametrize("image_format", ["jpg", "png", "gif", "webp", "avif"])
def test_pillow_output_is_recognised(image_format: str) -> None:
    data = encode(photo().convert("P") if image_format == "gif" else photo(), image_format)
    assert sniffed_image_type(data[:SNIFF_BYTES]) == media_type(f"x.{image_format}")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8L", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),  # a RIFF file, not WebP
        # AVIF named by a compatible brand only, and an image sequence's brand.
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "image/avif"),
        (b"\x00\x00\x00\x14ftypavis\x00\x00\x00\x00avis", "image/avif"),
        # HEIC and MP4 are ISO BMFF too; a brand past the ftyp box does not count.
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", None),
        (b"\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom" + b"avif", None),
        (b"\x89PNG\r\n\x1a", None),  # cut short
        (b"<svg xmlns=", None),
        (b"", None),
    ],
)
def test_magic_bytes(head: bytes, expected: str | None) -> None:
    assert sniffed_image_type(head) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [("avif", "image/avif"), ("jpg", "image/jpeg"), ("png", "image/png")],
)
def test_an_image_variant_is_uploaded_as_what_its_bytes_are(
    tmp_path: Path, stored: str, expected: str
) -> None:
    name = "img/hero.0123456789ab.jpg.avif"
    (tmp_path / "img").mkdir()
    (tmp_path / name).write_bytes(encode(photo(), stored))
    config = S3Config.from_options({"bucket_name": "b", "location": "static"})
    variant = LocalFile(name, tmp_path, 10, hashed=True, image_format="avif")
    args = upload_args(variant, "0" * 32, config)
    assert args["ContentType"] == expected
    assert args["CacheControl"] == config.hashed_cache_control
    assert "ContentEncoding" not in args


def test_a_variant_of_unknown_bytes_keeps_its_suffix_type(tmp_path: Path) -> None:
    (tmp_path / "a.png.webp").write_bytes(b"not an image")
    config = S3Config.from_options({"bucket_name": "b", "location": "static"})
    variant = LocalFile("a.png.webp", tmp_path, 12, hashed=False, image_format="webp")
    args = upload_args(variant, "0" * 32, config)
    assert args["ContentType"] == "image/webp"
    assert args["CacheControl"] == config.unhashed_cache_control
