"""S3Config.from_options: defaults, and an error naming any unknown or invalid key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.s3 import S3Config

WHERE = 'STORAGES["staticfiles"]["OPTIONS"]["s3"]'


def test_defaults() -> None:
    config = S3Config.from_options({"bucket_name": "acme-static"})
    assert config == S3Config(
        bucket_name="acme-static",
        location="",
        endpoint_url=None,
        region_name=None,
        workers=10,
        default_acl=None,
        hashed_cache_control="public, max-age=31536000, immutable",
        unhashed_cache_control="public, max-age=60",
        variants="static_root",
        read_manifest_from_bucket=False,
        multipart_threshold=8 * 1024 * 1024,
    )
    assert config.prefix == ""
    assert config.where == "s3://acme-static"


def test_location_is_a_prefix_without_slashes() -> None:
    config = S3Config.from_options({"bucket_name": "b", "location": "/customer-a/static/"})
    assert config.location == "customer-a/static"
    assert config.key("css/app.css") == "customer-a/static/css/app.css"
    assert config.where == "s3://b/customer-a/static"


@pytest.mark.parametrize(
    ("variants", "uploaded", "in_static_root", "fetched"),
    [
        # Served from STATIC_ROOT: a bucket cannot pick a variant by Accept-Encoding.
        ("static_root", False, True, False),
        # Uploaded for a CDN; a build lacking them fetches them from the bucket, verified.
        ("static_root_and_bucket", True, True, True),
        # STATIC_ROOT is not served: what the bucket has is left there.
        ("bucket", True, False, True),
    ],
)
def test_variants_say_where_the_br_and_gz_files_live(
    variants: str, uploaded: bool, in_static_root: bool, fetched: bool
) -> None:
    config = S3Config.from_options({"bucket_name": "b", "variants": variants})
    assert config.variants_in_bucket is uploaded is fetched
    assert config.variants_in_static_root is in_static_root


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r'\["bucket_name"\] is missing; expected the name of the bucket'),
        (
            {"bucket_name": "b", "bucket": "b"},
            r'\["bucket"\] is not an option \(did you mean "bucket_name"\?\)',
        ),
        ({"bucket_name": ""}, r'\["bucket_name"\] is \'\' \(str\); expected a non-empty string'),
        ({"bucket_name": "b", "workers": 0}, r'\["workers"\] is 0 \(int\); expected an integer'),
        ({"bucket_name": "b", "workers": True}, r'\["workers"\] is True \(bool\)'),
        (
            {"bucket_name": "b", "variants": "both"},
            r'\["variants"\] is \'both\' \(str\); expected one of "static_root", '
            r'"static_root_and_bucket", "bucket"',
        ),
        ({"bucket_name": "b", "endpoint_url": "localhost:9000"}, r'\["endpoint_url"\]'),
        ({"bucket_name": "b", "default_acl": "public"}, r'\["default_acl"\] is \'public\''),
        ({"bucket_name": "b", "location": None}, r'\["location"\] is None'),
        ({"bucket_name": "b", "multipart_threshold": 1024}, r'\["multipart_threshold"\]'),
        ({"bucket_name": "b", "unhashed_cache_control": ""}, r'\["unhashed_cache_control"\]'),
    ],
)
def test_invalid_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        S3Config.from_options(options)
    assert str(error.value).startswith(f"assetpipe: {WHERE}[")


def test_all_documented_options_are_accepted() -> None:
    config = S3Config.from_options(
        {
            "bucket_name": "acme-static",
            "location": "static",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "eu-west-1",
            "workers": 32,
            "default_acl": "public-read",
            "hashed_cache_control": "public, max-age=604800",
            "unhashed_cache_control": "no-cache",
            "variants": "static_root_and_bucket",
            "read_manifest_from_bucket": True,
            "publish": False,
            "multipart_threshold": 64 * 1024 * 1024,
            "manifest_digest": "0123456789ab",
        }
    )
    assert config.endpoint == "http://127.0.0.1:9000"
    assert config.workers == 32
