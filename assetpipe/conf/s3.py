"""``STORAGES["staticfiles"]["OPTIONS"]["s3"]``: the publishing settings, validated once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assetpipe.conf.kit import (
    OPTIONS,
    Check,
    boolean,
    choice,
    integer,
    invalid,
    optional,
    read_group,
    removed,
    renamed,
    string,
)
from assetpipe.extras import require
from assetpipe.headers import IMMUTABLE_CACHE_CONTROL, short_cache_control

SETTING = f'{OPTIONS}["s3"]'

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


# Where the .br/.gz variants live (the s3 option ``variants``).
VARIANTS_IN_STATIC_ROOT = "static_root"  # served from STATIC_ROOT only; the bucket has none
VARIANTS_IN_BOTH = "static_root_and_bucket"  # also uploaded; the bucket is the build's cache
VARIANTS_IN_BUCKET = "bucket"  # STATIC_ROOT is not served: what the bucket has stays there
VARIANTS = (VARIANTS_IN_STATIC_ROOT, VARIANTS_IN_BOTH, VARIANTS_IN_BUCKET)


@dataclass(frozen=True)
class S3Config:
    bucket_name: str
    location: str = ""
    endpoint_url: str | None = None
    region_name: str | None = None
    # Parallel uploads (and fetches, with the bucket as the build's cache).
    workers: int = 10
    default_acl: str | None = None
    hashed_cache_control: str = IMMUTABLE_CACHE_CONTROL
    unhashed_cache_control: str = short_cache_control()
    variants: str = VARIANTS_IN_STATIC_ROOT
    read_manifest_from_bucket: bool = False
    # False: the build reads from the bucket and never writes to it (a pull request's build).
    publish: bool = True
    # Objects above this size go up in parts; their ETag is then not an MD5, so the MD5 is
    # also stored in the object's metadata.
    multipart_threshold: int = 8 * 1024 * 1024
    # The build an app server renders names from (its history copy); None reads the live one.
    manifest_digest: str | None = None

    @classmethod
    def from_options(cls, options: object) -> S3Config:
        """Validate the settings dict, naming the first unknown or invalid key."""
        require("s3")
        group = read_group(SETTING, options, CHECKS, retired=RETIRED, required=REQUIRED)
        group.raise_first()
        values = group.values
        values["location"] = values.get("location", "").strip("/")
        return cls(**values)

    # What the build and publishing do, as ``variants`` says.

    @property
    def variants_in_bucket(self) -> bool:
        """Whether the .br/.gz variants are published, and so the bucket is the build's cache:
        a build lacking a content's variants fetches (and verifies) those published before."""
        return self.variants != VARIANTS_IN_STATIC_ROOT

    @property
    def variants_in_static_root(self) -> bool:
        """Whether STATIC_ROOT gets the variants of contents the bucket has them for."""
        return self.variants != VARIANTS_IN_BUCKET

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


def _endpoint(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise invalid(where, value, "a URL starting with http:// or https://")
    return value


def _build_id(where: str, value: object) -> str:
    if not (isinstance(value, str) and BUILD_ID.fullmatch(value)):
        raise invalid(where, value, "a build id (12 hex digits)")
    return value


CHECKS: dict[str, Check[Any]] = {
    "bucket_name": string(),
    "location": string(empty=True),
    "endpoint_url": optional(_endpoint),
    "region_name": optional(string()),
    "workers": integer(1),
    "default_acl": optional(choice(*sorted(CANNED_ACLS)), "the bucket's default"),
    "hashed_cache_control": string(),
    "unhashed_cache_control": string(),
    "variants": choice(*VARIANTS),
    "read_manifest_from_bucket": boolean,
    "publish": boolean,
    "multipart_threshold": integer(5 * 1024 * 1024),
    "manifest_digest": optional(_build_id, "the live build"),
}

REQUIRED = {"bucket_name": "the name of the bucket to publish to"}

RETIRED = {
    "max_workers": renamed("workers"),
    "upload_encodings": renamed(
        "variants",
        '"upload_encodings": True is now "variants": "static_root_and_bucket" (or "bucket" '
        'where STATIC_ROOT is not served); False is "variants": "static_root", the default',
    ),
    "local_variants": renamed("variants", '"local_variants": False is now "variants": "bucket"'),
    "fetch_variants": renamed(
        "variants",
        '"variants": "static_root_and_bucket" fetches the variants earlier builds published, '
        "verified, whenever the build lacks them",
    ),
    "custom_domain": removed(
        "the URLs of static files come from STATIC_URL; set it to the domain, e.g. "
        'STATIC_URL = "https://static.example.com/"'
    ),
}
