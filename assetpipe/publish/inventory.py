"""What the bucket holds under the prefix, learned by listing: one request per 1,000 keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assetpipe.publish.client import S3_ERRORS, S3Client

PAGE_SIZE = 1000


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str  # without quotes; an MD5 for single-part uploads, "<md5>-<parts>" for multipart
    last_modified: datetime

    @property
    def multipart(self) -> bool:
        return "-" in self.etag


def list_prefix(s3: S3Client, prefix: str) -> dict[str, RemoteObject]:
    """Every object under ``prefix``, keyed by its name relative to the prefix."""
    objects: dict[str, RemoteObject] = {}
    paginator = s3.client.get_paginator("list_objects_v2")
    pages = paginator.paginate(
        Bucket=s3.config.bucket_name,
        Prefix=prefix,
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    try:
        for page in pages:
            for item in page.get("Contents", ()):
                key: str = item["Key"]
                objects[key[len(prefix) :]] = RemoteObject(
                    key=key,
                    size=item["Size"],
                    etag=item["ETag"].strip('"'),
                    last_modified=item["LastModified"],
                )
    except S3_ERRORS as exc:
        raise s3.error(exc, "listing", prefix) from exc
    return objects
