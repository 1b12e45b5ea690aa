"""The generated IAM policy, enforced by a moto server that checks IAM for real.

moto evaluates actions and resources but not condition keys, so the ``s3:prefix`` condition
that confines listings is asserted on the document; everything else is asserted on what the
server allows and refuses.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from assetpipe.media import TenantMediaStorage
from assetpipe.media.iam import tenant_policy
from tests.media.conftest import IamServer

Credentials = tuple[str, str]


def policy_from_command(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("assetpipe", "iam-policy", *args, stdout=out)
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def test_policy_confines_objects_and_listing_to_the_prefix() -> None:
    policy = tenant_policy("acme-media", "media/acme/")

    objects, listing = policy["Statement"]
    assert objects["Effect"] == listing["Effect"] == "Allow"
    assert objects["Resource"] == "arn:aws:s3:::acme-media/media/acme/*"
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= set(objects["Action"])
    assert not any("*" in action for action in objects["Action"])
    assert "s3:ListBucket" not in objects["Action"]
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == "arn:aws:s3:::acme-media"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["media/acme/*"]}}


@pytest.mark.parametrize(
    ("bucket", "prefix"),
    [
        ("acme-media", "media/*/"),
        ("acme-media", "media/acme"),
        ("acme-media", "/media/acme/"),
        ("acme-media", "${aws:username}/"),
        ("acme-media/x", "media/acme/"),
        ("*", "media/acme/"),
    ],
)
def test_policy_refuses_what_would_widen_it(bucket: str, prefix: str) -> None:
    with pytest.raises(ValueError, match=r"bucket name|cannot confine"):
        tenant_policy(bucket, prefix)


def test_command_reads_bucket_and_location_from_the_storage(
    media_settings: dict[str, Any],
) -> None:
    policy = policy_from_command("--tenant", "globex")

    resource = f"arn:aws:s3:::{media_settings['bucket_name']}/media/globex/*"
    assert policy["Statement"][0]["Resource"] == resource


def test_command_works_without_settings_given_a_bucket() -> None:
    policy = policy_from_command(
        "--tenant",
        "acme",
        "--bucket",
        "acme-media",
        "--location",
        "uploads",
        "--partition",
        "aws-cn",
    )

    assert policy["Statement"][0]["Resource"] == "arn:aws-cn:s3:::acme-media/uploads/acme/*"


@pytest.mark.parametrize(
    "args",
    [
        ["--tenant", "acme/*"],
        ["--tenant", "acme", "--bucket", "Not_A_Bucket"],
        ["--tenant", "acme", "--storage", "staticfiles"],
        ["--tenant", "acme", "--storage", "missing"],
    ],
)
def test_command_refuses_bad_input(media_settings: dict[str, Any], args: list[str]) -> None:
    with pytest.raises(CommandError):
        policy_from_command(*args)


@pytest.fixture
def iam_bucket(iam_server: IamServer) -> str:
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    iam_server.s3().create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture
def make_user(iam_server: IamServer) -> Callable[[dict[str, Any]], Credentials]:
    """Create an IAM user with one inline policy; return its access key."""

    def make(policy: dict[str, Any]) -> Credentials:
        iam = iam_server.iam()
        user = f"tenant-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="media", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    return make


@pytest.fixture
def tenant_credentials(
    settings: Any, iam_server: IamServer, iam_bucket: str, make_user: Callable[..., Credentials]
) -> Iterator[Callable[[str], Credentials]]:
    """Credentials for a tenant, limited by the policy ``iam-policy`` prints for it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "assetpipe.media.TenantMediaStorage",
            "OPTIONS": {"bucket_name": iam_bucket, "location": "media", "tenant": "acme"},
        },
    }

    def credentials(tenant: str) -> Credentials:
        return make_user(policy_from_command("--tenant", tenant))

    yield credentials


def storage_as(
    server: IamServer, bucket: str, tenant: str, creds: Credentials
) -> TenantMediaStorage:
    return TenantMediaStorage(
        bucket_name=bucket,
        location="media",
        tenant=tenant,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        access_key=creds[0],
        secret_key=creds[1],
    )


def assert_denied(error: ClientError, code: str = "AccessDenied") -> None:
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error.response["Error"]["Code"] == code


def test_tenant_credentials_can_save_open_list_and_delete_under_their_prefix(
    iam_server: IamServer, iam_bucket: str, tenant_credentials: Callable[[str], Credentials]
) -> None:
    storage = storage_as(iam_server, iam_bucket, "acme", tenant_credentials("acme"))
    admin = iam_server.s3()

    saved = storage.save("invoices/1.pdf", ContentFile(b"%PDF-1"))
    with storage.open("notes.txt", "wb") as file:  # a multipart upload
        file.write(b"streamed")

    assert saved == "invoices/1.pdf"
    assert storage.exists("invoices/1.pdf")
    assert not storage.exists("invoices/2.pdf")
    assert storage.open("invoices/1.pdf").read() == b"%PDF-1"
    assert storage.open("notes.txt").read() == b"streamed"
    assert storage.listdir("") == (["invoices"], ["notes.txt"])
    assert admin.get_object(Bucket=iam_bucket, Key="media/acme/invoices/1.pdf")["Body"].read() == (
        b"%PDF-1"
    )
    storage.delete("invoices/1.pdf")
    storage.delete("notes.txt")
    assert "Contents" not in admin.list_objects_v2(Bucket=iam_bucket, Prefix="media/acme/")


def test_tenant_credentials_are_denied_another_tenants_objects(
    iam_server: IamServer, iam_bucket: str, tenant_credentials: Callable[[str], Credentials]
) -> None:
    admin = iam_server.s3()
    admin.put_object(Bucket=iam_bucket, Key="media/globex/contract.pdf", Body=b"globex's")
    admin.put_object(Bucket=iam_bucket, Key="static/app.js", Body=b"static")
    acme = tenant_credentials("acme")
    # acme's keys in a process configured for globex: the storage is willing, S3 is not.
    storage = storage_as(iam_server, iam_bucket, "globex", acme)
    client = iam_server.s3(acme)

    with pytest.raises(ClientError) as opened:
        storage.open("contract.pdf")
    assert_denied(opened.value, code="403")  # a HEAD response has no error body
    with pytest.raises(ClientError) as saved:
        storage.save("contract.pdf", ContentFile(b"replaced"))
    assert_denied(saved.value)
    with pytest.raises(ClientError) as deleted:
        storage.delete("contract.pdf")
    assert_denied(deleted.value)
    forbidden: list[Callable[[], object]] = [
        lambda: client.get_object(Bucket=iam_bucket, Key="media/globex/contract.pdf"),
        lambda: client.put_object(Bucket=iam_bucket, Key="media/globex/new.txt", Body=b"x"),
        lambda: client.delete_object(Bucket=iam_bucket, Key="media/globex/contract.pdf"),
        lambda: client.put_object(Bucket=iam_bucket, Key="static/app.js", Body=b"defaced"),
        lambda: client.put_object(Bucket=iam_bucket, Key="media/acme", Body=b"x"),
    ]
    for call in forbidden:
        with pytest.raises(ClientError) as denied:
            call()
        assert_denied(denied.value)

    keys = {entry["Key"] for entry in admin.list_objects_v2(Bucket=iam_bucket)["Contents"]}
    assert keys == {"media/globex/contract.pdf", "static/app.js"}
    body = admin.get_object(Bucket=iam_bucket, Key="media/globex/contract.pdf")["Body"]
    assert body.read() == b"globex's"
    # And globex's own keys do work there.
    globex = storage_as(iam_server, iam_bucket, "globex", tenant_credentials("globex"))
    assert globex.open("contract.pdf").read() == b"globex's"


def test_exists_tells_missing_from_denied_without_bucket_wide_listing(
    iam_server: IamServer, iam_bucket: str, make_user: Callable[..., Credentials]
) -> None:
    """S3 answers a HEAD for a missing key with 403 to callers that may not list the bucket.

    Prefix-limited credentials are such callers on AWS; here a user that may list but not
    read gets the same 403s from moto, so the storage's listing fallback is what answers.
    """
    admin = iam_server.s3()
    admin.put_object(Bucket=iam_bucket, Key="media/acme/there.txt", Body=b"x")
    lister = make_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{iam_bucket}",
                }
            ],
        }
    )
    nobody = make_user(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}
            ],
        }
    )
    storage = storage_as(iam_server, iam_bucket, "acme", lister)

    assert storage.exists("there.txt")
    assert not storage.exists("missing.txt")
    assert not storage.exists("there")
    with pytest.raises(FileNotFoundError, match=r"media/acme/missing\.txt"):
        storage.open("missing.txt")
    with pytest.raises(ClientError) as unreadable:
        storage.open("there.txt")
    assert_denied(unreadable.value, code="403")
    with pytest.raises(ClientError) as unlisted:
        storage_as(iam_server, iam_bucket, "acme", nobody).exists("missing.txt")
    assert_denied(unlisted.value, code="403")
