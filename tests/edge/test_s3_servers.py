"""Where moto and SeaweedFS answer otherwise than S3 does, pinned, one behaviour a test.

Each test states what each server answers today beside what S3 documents; the table
"Where the test servers differ from S3" in docs/how-to/contributing.md names these tests. When a
server changes, its test fails here first, and the table and the tests that lean on the
difference are to be revisited. The requests go to the servers themselves (``s3_endpoint``),
never through the CORS front.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pytest_django.fixtures import Settings

from tests.edge.shop import public_read_policy
from tests.edge.test_bucket_policy import DISTRIBUTION, configure, policy_command
from tests.edge.test_s3_cors import request

PAGE = "https://shop.example"
APP = "https://app.example"


@pytest.fixture
def bucket(make_bucket: Callable[[], str], s3_client: Any) -> str:
    name = make_bucket()
    s3_client.put_object(Bucket=name, Key="static/site.css", Body=b"body{}", ContentType="text/css")
    return name


def anonymous(endpoint: str, method: str, bucket: str, key: str, **headers: str) -> Any:
    return request(endpoint, method, f"/{bucket}/{key}", headers)


# --- CORS --------------------------------------------------------------------------------


def test_a_star_origin_rule_answers_with_the_origin_on_seaweedfs(
    s3_endpoint: str, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    # S3: "Access-Control-Allow-Origin: *" and no Vary. moto echoes every origin anyway.
    s3_client.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    rule = {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})

    response = anonymous(s3_endpoint, "GET", bucket, "static/site.css", Origin=PAGE)

    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") == PAGE
    if s3_backend == "seaweedfs":
        assert response.getheader("Vary") == "Origin"


@pytest.mark.s3_backends("seaweedfs")
def test_seaweedfs_answers_a_preflight_with_the_first_rule_whose_origin_matches(
    s3_endpoint: str, bucket: str, s3_client: Any
) -> None:
    # S3 takes the first rule that matches origin, method and headers: here the second, which
    # allows PUT. SeaweedFS takes the first that matches the origin, and as it does not allow
    # PUT, answers 200 with no Access-Control-Allow-Methods: a browser then refuses the PUT.
    # So on SeaweedFS, assetpipe's rule for "*" first shadows a media upload rule after it.
    rules = [
        {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]},
        {"AllowedMethods": ["PUT"], "AllowedOrigins": [APP], "AllowedHeaders": ["*"]},
    ]
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})

    preflight = anonymous(
        s3_endpoint,
        "OPTIONS",
        bucket,
        "media/acme/upload.png",
        Origin=APP,
        **{"Access-Control-Request-Method": "PUT"},
    )

    assert preflight.status == 200
    assert preflight.getheader("Access-Control-Allow-Origin") == APP
    assert preflight.getheader("Access-Control-Allow-Methods") is None


def test_a_rule_without_max_age_is_read_back_with_zero_on_seaweedfs(
    bucket: str, s3_client: Any, s3_backend: str
) -> None:
    # S3 and moto return the rule as written; SeaweedFS adds MaxAgeSeconds 0.
    rule = {"AllowedMethods": ["GET"], "AllowedOrigins": [PAGE]}
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})

    read = s3_client.get_bucket_cors(Bucket=bucket)["CORSRules"]

    assert read == [{**rule, "MaxAgeSeconds": 0} if s3_backend == "seaweedfs" else rule]


# --- bucket policies and ACLs --------------------------------------------------------------


def test_a_cloudfront_policy_opens_the_bucket_to_anyone_on_moto_only(
    settings: Settings, s3_endpoint: str, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    # S3 grants the statement to CloudFront's service principal, from that distribution only
    # (Principal and Condition); moto grants it to every request. SeaweedFS, as S3, does not.
    configure(settings, bucket)
    policy, _ = policy_command("--cloudfront", DISTRIBUTION)
    s3_client.put_bucket_policy(Bucket=bucket, Policy=policy)

    status = anonymous(s3_endpoint, "GET", bucket, "static/site.css").status

    assert status == {"moto": 200, "seaweedfs": 403}[s3_backend]


def test_a_missing_key_is_404_to_anonymous_readers_on_both(
    s3_endpoint: str, bucket: str, s3_client: Any
) -> None:
    # S3 answers 403 to a reader without s3:ListBucket (here: anyone, through the public
    # policy), so that keys cannot be probed; both servers answer 404, SeaweedFS to any caller
    # that may read the key (tests/media/test_tenant_keys.py).
    s3_client.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))

    assert anonymous(s3_endpoint, "GET", bucket, "static/site.css").status == 200
    assert anonymous(s3_endpoint, "GET", bucket, "static/missing.css").status == 404


def test_a_public_read_acl_is_honoured_by_moto_ignored_by_seaweedfs(
    s3_endpoint: str, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    # S3's buckets have ACLs disabled by default (Object Ownership "bucket owner enforced"):
    # the upload itself fails with AccessControlListNotSupported. assetpipe sends no ACL unless
    # default_acl is set, and warns of a public one (assetpipe.W001).
    s3_client.put_object(Bucket=bucket, Key="static/acl.css", Body=b"a{}", ACL="public-read")

    status = anonymous(s3_endpoint, "GET", bucket, "static/acl.css").status

    assert status == {"moto": 200, "seaweedfs": 403}[s3_backend]


def test_head_needs_s3_headobject_in_a_policy_on_moto_only(
    s3_endpoint: str, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    # S3 authorises HEAD with s3:GetObject (and refuses a policy naming s3:HeadObject, which
    # is no S3 action); SeaweedFS as S3. moto wants "s3:HeadObject" for HEAD.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/static/*",
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    get = anonymous(s3_endpoint, "GET", bucket, "static/site.css").status
    head = anonymous(s3_endpoint, "HEAD", bucket, "static/site.css").status

    assert (get, head) == {"moto": (200, 403), "seaweedfs": (200, 200)}[s3_backend]


def test_an_upload_to_a_missing_bucket_is_refused(s3_client: Any) -> None:
    # As S3 does; SeaweedFS only when started with -s3.autoCreateBucket=false (tests/seaweedfs.py).
    with pytest.raises(ClientError) as refused:
        s3_client.put_object(Bucket="no-such-bucket-anywhere", Key="a.txt", Body=b"a")

    assert refused.value.response["Error"]["Code"] == "NoSuchBucket"
