"""The bucket policies that let browsers, or one CloudFront distribution, read the static prefix,
and the identity policies of the runners that build: read-only, or the deploying one.

A browser's request for a static file carries no credentials, so S3 answers it only if the
bucket's policy lets anyone read the key (a public prefix), or if the request comes from a
CDN that signs it (CloudFront's Origin Access Control, allowed by a policy naming the
distribution). Either policy covers the static prefix alone: never a media bucket or prefix.
The commands that print them refuse a static prefix that overlaps another storage's
(:mod:`assetpipe.publish.overlap`), so these functions take the prefix as already checked.
"""

from __future__ import annotations

import re
from typing import Any

# S3's naming rules for general purpose buckets: nothing in a name may widen the resource.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Characters with a meaning in policy resources: wildcards and ${variables}.
POLICY_SPECIAL = frozenset("*?$")
# A CloudFront distribution's ARN: the partition, an account id and the distribution's id.
DISTRIBUTION_ARN = re.compile(r"arn:aws:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+")
CLOUDFRONT_SERVICE = "cloudfront.amazonaws.com"


class PolicyError(ValueError):
    """A bucket policy assetpipe will not print; the message says why and what to change."""


def public_read_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Anyone may GET the objects under ``prefix`` ("" for the whole bucket), nothing else."""
    return _policy(
        {
            "Sid": "AssetpipePublicStaticFiles",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": _resource(bucket, prefix),
        }
    )


def cloudfront_read_policy(bucket: str, prefix: str, distribution_arn: str) -> dict[str, Any]:
    """Only the CloudFront distribution ``distribution_arn`` may GET the objects under
    ``prefix``, through Origin Access Control (requests CloudFront signs as its service)."""
    if not DISTRIBUTION_ARN.fullmatch(distribution_arn):
        raise PolicyError(
            f"{distribution_arn!r} is not a CloudFront distribution's ARN; expected "
            "arn:aws:cloudfront::<12-digit account id>:distribution/<distribution id>, "
            "e.g. arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"
        )
    return _policy(
        {
            "Sid": "AssetpipeCloudFrontStaticFiles",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDFRONT_SERVICE},
            "Action": "s3:GetObject",
            "Resource": _resource(bucket, prefix),
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        }
    )


# What publishing, prune, status and the CORS rule need beyond reading, on the static prefix.
_DEPLOY_OBJECT_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


def runner_policy(bucket: str, prefix: str, *, read_only: bool) -> dict[str, Any]:
    """The IAM policy for a runner that builds against ``s3://bucket/prefix``.

    A read-only runner (a pull request's build, with the ``s3`` option ``publish: False``)
    lists the prefix and reads objects: the bucket as a build cache, never written. The
    deploying runner also uploads, deletes (``prune``) and reads and writes the bucket's CORS
    configuration (``status``, ``cors --apply``). Nothing outside the prefix either way.
    """
    objects = _resource(bucket, prefix)
    listing: dict[str, Any] = {
        "Sid": "AssetpipeListStatic",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if prefix:
        # ListBucket is granted on the bucket, so the prefix a listing asks for is what
        # confines it: every listing a build makes (the bucket as its cache, publish, prune,
        # status, the manifest history) asks for the static prefix or a prefix inside it.
        # Without a location the static files own the bucket (the overlap rule refuses one
        # that media shares), so there is nothing to confine.
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    statements: list[dict[str, Any]] = [
        listing,
        {
            "Sid": "AssetpipeReadStatic",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": objects,
        },
    ]
    if not read_only:
        statements += [
            {
                "Sid": "AssetpipePublishStatic",
                "Effect": "Allow",
                "Action": _DEPLOY_OBJECT_ACTIONS,
                "Resource": objects,
            },
            {
                "Sid": "AssetpipeBucketCors",
                "Effect": "Allow",
                "Action": ["s3:GetBucketCORS", "s3:PutBucketCORS"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def how_to_apply(bucket: str, *, public: bool) -> list[str]:
    """What to run to apply a printed policy, for the command's stderr."""
    lines = [
        "Save the policy above as policy.json and apply it with:",
        f"  aws s3api put-bucket-policy --bucket {bucket} --policy file://policy.json",
        "put-bucket-policy replaces the bucket's whole policy: if it has one "
        f"(aws s3api get-bucket-policy --bucket {bucket}), add this statement to it instead.",
    ]
    if public:
        lines += [
            "S3 refuses a public policy while Block Public Access blocks public policies; allow "
            "them on this bucket (and in the account's settings) first, keeping ACLs blocked:",
            f"  aws s3api put-public-access-block --bucket {bucket} "
            "--public-access-block-configuration "
            "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,"
            "RestrictPublicBuckets=false",
        ]
    return lines


def _resource(bucket: str, prefix: str) -> str:
    if not BUCKET_NAME.fullmatch(bucket):
        raise PolicyError(f"{bucket!r} is not a valid S3 bucket name")
    if POLICY_SPECIAL & set(prefix) or prefix.startswith("/") or (prefix and prefix[-1] != "/"):
        raise PolicyError(
            f"the static prefix {prefix!r} cannot be stated in a policy: it must end with '/' "
            "and must not contain '*', '?' or '$'"
        )
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def _policy(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [statement]}
