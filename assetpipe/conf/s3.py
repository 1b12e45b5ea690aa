"""``STORAGES["staticfiles"]["OPTIONS"]["s3"]``: the publishing settings, validated once."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assetpipe.extras import require
from assetpipe.headers import IMMUTABLE_CACHE_CONTROL, short_cache_control

SETTING = 'STORAGES["staticfiles"]["OPTIONS"]["s3"]'

# S3's canned ACLs; anything else is a typo that S3 would only reject mid-upload.
CANNED_ACLS = frozenset(
    {
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    }
)


# A build id: the first 12 hex digits of the MD5 of its manifest, as in the history names.
BUILD_ID = re.compile(r"[0-9a-f]{12}")


class PublishError(Exception):
    """A publishing failure the user can act on; the message names the bucket, key or endpoint."""


class AccessDenied(PublishError):
    """S3 refused the credentials an action; the message names the permission it needs."""


@dataclass(frozen=True)
class S3Config:
    bucket_name: str
    location: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    custom_domain: str | None = None
    max_workers: int = 10
    default_acl: str | None = None
    hashed_cache_control: str = IMMUTABLE_CACHE_CONTROL
    unhashed_cache_control: str = short_cache_control()
    upload_encodings: bool = False
    read_manifest_from_bucket: bool = False
    # A build that lacks a content's variants fetches those an earlier build published.
    fetch_variants: bool = True
    # False: STATIC_ROOT is not served, so contents the bucket has variants of get none there.
    local_variants: bool = True
    # False: the build reads from the bucket and never writes to it (a pull request's build).
    publish: bool = True
    # Objects above this size go up in parts; their ETag is then not an MD5, so the MD5 is
    # also stored in the object's metadata.
    multipart_threshold: int = 8 * 1024 * 1024
    # The build an app server renders names from (its history copy); None reads the live one.
    manifest_digest: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> S3Config:
        """Validate the settings dict, naming the first unknown or invalid key."""
        require("s3")
        if not isinstance(options, Mapping):
            raise ImproperlyConfigured(f"{SETTING} must be a dict, not {type(options).__name__}")
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ImproperlyConfigured(
                f"{SETTING} has unknown key {unknown[0]!r}; known keys: {', '.join(sorted(known))}"
            )
        if "bucket_name" not in options:
            raise ImproperlyConfigured(f"{SETTING} needs 'bucket_name'")
        values = dict(options)
        _check_str(values, "bucket_name", optional=False)
        _check_str(values, "location", optional=False, empty_ok=True)
        for key in ("endpoint_url", "region_name", "custom_domain", "default_acl"):
            _check_str(values, key, optional=True)
        for key in ("hashed_cache_control", "unhashed_cache_control"):
            _check_str(values, key, optional=False)
        for key in (
            "upload_encodings",
            "read_manifest_from_bucket",
            "fetch_variants",
            "local_variants",
            "publish",
        ):
            if key in values and not isinstance(values[key], bool):
                raise _invalid(key, values[key], "True or False")
        for key, minimum in (("max_workers", 1), ("multipart_threshold", 5 * 1024 * 1024)):
            value = values.get(key)
            if key in values and (
                isinstance(value, bool) or not isinstance(value, int) or value < minimum
            ):
                raise _invalid(key, value, f"an integer >= {minimum}")
        endpoint = values.get("endpoint_url")
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            raise _invalid("endpoint_url", endpoint, "a URL starting with http:// or https://")
        acl = values.get("default_acl")
        if acl is not None and acl not in CANNED_ACLS:
            raise _invalid("default_acl", acl, f"None or one of {', '.join(sorted(CANNED_ACLS))}")
        digest = values.get("manifest_digest")
        if digest is not None and not (isinstance(digest, str) and BUILD_ID.fullmatch(digest)):
            raise _invalid("manifest_digest", digest, "None or a build id (12 hex digits)")
        values["location"] = values.get("location", "").strip("/")
        return cls(**values)

    @property
    def prefix(self) -> str:
        """The key prefix everything published lives under ("" for the bucket's root)."""
        return f"{self.location}/" if self.location else ""

    def key(self, name: str) -> str:
        return self.prefix + name

    @property
    def where(self) -> str:
        """``s3://bucket/location`` for messages."""
        return f"s3://{self.bucket_name}/{self.location}".rstrip("/")

    @property
    def endpoint(self) -> str:
        """The endpoint for messages: the configured one, or AWS's for the region."""
        return self.endpoint_url or f"AWS S3 ({self.region_name or 'default region'})"


def _check_str(values: dict[str, Any], key: str, *, optional: bool, empty_ok: bool = False) -> None:
    if key not in values or (optional and values[key] is None):
        return
    value = values[key]
    if not isinstance(value, str) or (not empty_ok and not value):
        raise _invalid(key, value, "a string" if not optional else "None or a string")


def _invalid(key: str, value: object, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{SETTING}[{key!r}] is {value!r}; expected {expected}")
