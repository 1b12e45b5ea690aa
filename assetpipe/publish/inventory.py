"""What the bucket holds under the prefix, with listing failures in the user's terms."""

from __future__ import annotations

from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.listing import RemoteObject, list_objects


def list_prefix(s3: S3Client, prefix: str) -> dict[str, RemoteObject]:
    """Every object under ``prefix``, keyed by its name relative to the prefix."""
    try:
        return list_objects(s3.client, s3.config.bucket_name, prefix)
    except S3_ERRORS as exc:
        raise s3.error(exc, "listing", prefix) from exc
