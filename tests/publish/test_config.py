"""S3Config.from_options: defaults, and an error naming any unknown or invalid key."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.publish.s3 import S3Config


def test_defaults() -> None:
    config = S3Config.from_options({"bucket_name": "acme-static"})
    assert config == S3Config(
        bucket_name="acme-static",
        location="",
        endpoint_url=None,
        region_name=None,
        custom_domain=None,
        max_workers=10,
        default_acl=None,
        hashed_cache_control="public, max-age=31536000, immutable",
        unhashed_cache_control="public, max-age=60",
        upload_encodings=False,
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
    ("options", "message"),
    [
        ({}, "needs 'bucket_name'"),
        ({"bucket_name": "b", "bucket": "b"}, "unknown key 'bucket'"),
        ({"bucket_name": ""}, r"\['bucket_name'\] is ''"),
        ({"bucket_name": "b", "max_workers": 0}, r"\['max_workers'\] is 0; expected an integer"),
        ({"bucket_name": "b", "max_workers": True}, r"\['max_workers'\] is True"),
        ({"bucket_name": "b", "upload_encodings": "yes"}, r"\['upload_encodings'\] is 'yes'"),
        ({"bucket_name": "b", "endpoint_url": "localhost:9000"}, r"\['endpoint_url'\]"),
        ({"bucket_name": "b", "default_acl": "public"}, r"\['default_acl'\] is 'public'"),
        ({"bucket_name": "b", "location": None}, r"\['location'\] is None"),
        ({"bucket_name": "b", "multipart_threshold": 1024}, r"\['multipart_threshold'\]"),
        ({"bucket_name": "b", "unhashed_cache_control": ""}, r"\['unhashed_cache_control'\]"),
    ],
)
def test_invalid_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        S3Config.from_options(options)
    assert str(error.value).startswith('STORAGES["staticfiles"]["OPTIONS"]["s3"]')


def test_all_documented_options_are_accepted() -> None:
    config = S3Config.from_options(
        {
            "bucket_name": "acme-static",
            "location": "static",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "eu-west-1",
            "custom_domain": "cdn.example.com",
            "max_workers": 32,
            "default_acl": "public-read",
            "hashed_cache_control": "public, max-age=604800",
            "unhashed_cache_control": "no-cache",
            "upload_encodings": True,
            "read_manifest_from_bucket": True,
            "multipart_threshold": 64 * 1024 * 1024,
        }
    )
    assert config.endpoint == "http://127.0.0.1:9000"
    assert config.max_workers == 32
