"""Content-Type and the other headers objects are stored with."""

from __future__ import annotations

from pathlib import Path

from assetpipe.publish.local import LocalFile
from assetpipe.publish.object_args import manifest_args, upload_args
from assetpipe.publish.s3 import S3Config


def test_variant_keeps_the_original_type_and_names_its_encoding() -> None:
    config = S3Config.from_options({"bucket_name": "b"})
    variant = LocalFile("css/app.0123456789ab.css.br", Path("x"), 10, hashed=True, encoding="br")
    args = upload_args(variant, "0" * 32, config)
    assert args == {
        "ContentType": "text/css; charset=utf-8",
        "ContentEncoding": "br",
        "CacheControl": "public, max-age=31536000, immutable",
        # What made it: a build using the bucket as its cache takes only its own kind.
        "Metadata": {"md5": "0" * 32, "encoder": "brotli quality=11 lgblock=16"},
    }


def test_unhashed_file_is_cached_briefly_with_the_configured_acl() -> None:
    config = S3Config.from_options({"bucket_name": "b", "default_acl": "public-read"})
    original = LocalFile("img/logo.svg", Path("x"), 10, hashed=False)
    args = upload_args(original, "0" * 32, config)
    assert args == {
        "ContentType": "image/svg+xml",
        "CacheControl": "public, max-age=60",
        "Metadata": {"md5": "0" * 32},
        "ACL": "public-read",
    }


def test_manifest_is_json_and_cached_briefly() -> None:
    config = S3Config.from_options({"bucket_name": "b", "unhashed_cache_control": "no-cache"})
    args = manifest_args("static/staticfiles.json", "0" * 32, config)
    assert args == {
        "ContentType": "application/json",
        "CacheControl": "no-cache",
        "Metadata": {"md5": "0" * 32},
    }
