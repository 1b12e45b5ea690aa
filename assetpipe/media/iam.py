"""The IAM policy that confines one tenant's credentials to its media prefix."""

from __future__ import annotations

import re
from typing import Any

# S3 bucket naming rules (general purpose buckets).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Characters with a meaning in IAM resource and condition values: wildcards and ${variables}.
_IAM_SPECIAL = frozenset("*?$")

# Everything TenantMediaStorage does to an object: HEAD and GET are s3:GetObject, saving may
# be a multipart upload, and an abandoned S3File write aborts one.
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


def tenant_policy(bucket: str, prefix: str, partition: str = "aws") -> dict[str, Any]:
    """The policy document allowing object access under ``prefix`` and listing only there.

    ``prefix`` is the tenant's key prefix (``media/acme/``), as
    ``TenantMediaStorage.tenant_prefix()`` returns it.
    """
    if not _BUCKET_NAME.fullmatch(bucket):
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name.")
    if not prefix.endswith("/") or prefix.startswith("/") or _IAM_SPECIAL & set(prefix):
        raise ValueError(
            f"{prefix!r} cannot confine a tenant: a prefix must end with '/', must not start "
            "with one, and must not contain '*', '?' or '$'."
        )
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TenantObjects",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{bucket_arn}/{prefix}*",
            },
            {
                # ListBucket is granted on the bucket, so the prefix a listing asks for is
                # what confines it. The empty match of '*' covers the prefix itself.
                "Sid": "TenantListing",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
        ],
    }
