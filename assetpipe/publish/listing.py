"""What an S3 prefix holds, learned by listing it: one request per 1,000 keys, never a HEAD.

Shared by static publishing and tenant media; callers turn botocore's errors into their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

PAGE_SIZE = 1000  # ListObjectsV2's maximum


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str  # without quotes; an MD5 for single-part uploads, "<md5>-<parts>" for multipart
    last_modified: datetime

    @property
    def multipart(self) -> bool:
        return "-" in self.etag


def list_objects(client: Any, bucket: str, prefix: str) -> dict[str, RemoteObject]:
    """Every object under ``prefix``, keyed by its name relative to the prefix.

    ``client`` is a botocore (or boto3) S3 client; its errors propagate.
    """
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    objects: dict[str, RemoteObject] = {}
    for page in pages:
        for item in page.get("Contents", ()):
            key: str = item["Key"]
            objects[key[len(prefix) :]] = RemoteObject(
                key=key,
                size=item["Size"],
                etag=item["ETag"].strip('"'),
                last_modified=item["LastModified"],
            )
    return objects
