"""Content-Type and the other headers objects are stored with."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetpipe.publish.headers import content_type, upload_args
from assetpipe.publish.local import LocalFile
from assetpipe.publish.s3 import S3Config


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("css/app.css", "text/css; charset=utf-8"),
        ("js/app.3b1f0c9e8d7a.js", "text/javascript; charset=utf-8"),
        ("js/module.mjs", "text/javascript; charset=utf-8"),
        ("js/app.js.map", "application/json; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("img/logo.svg", "image/svg+xml; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("img/logo.png", "image/png"),
        ("img/photo.JPG", "image/jpeg"),
        ("fonts/icons.woff2", "font/woff2"),
        ("fonts/icons.woff", "font/woff"),
        ("site.webmanifest", "application/manifest+json; charset=utf-8"),
        ("downloads/source.tar.gz", "application/gzip"),
        ("LICENSE", "application/octet-stream"),
        ("dir.v2/README", "application/octet-stream"),
    ],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_variant_keeps_the_original_type_and_names_its_encoding() -> None:
    config = S3Config.from_options({"bucket_name": "b"})
    variant = LocalFile("css/app.0123456789ab.css.br", Path("x"), 10, hashed=True, encoding="br")
    args = upload_args(variant, "0" * 32, config)
    assert args == {
        "ContentType": "text/css; charset=utf-8",
        "ContentEncoding": "br",
        "CacheControl": "public, max-age=31536000, immutable",
        "Metadata": {"md5": "0" * 32},
    }
