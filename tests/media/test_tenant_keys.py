"""The media storage with a tenant's own keys, limited to its prefix, on SeaweedFS.

SeaweedFS's identities can be confined to a key prefix of a bucket (tests/seaweedfs.py gives
each tenant read, write and list under ``media/<tenant>/`` of TENANT_BUCKET and nothing else):
the keys assetpipe's names lead to are exactly the ones such keys reach.

S3 answers a HEAD of a missing key with 403 to a caller that may not list the whole bucket
(a prefix condition on s3:ListBucket does not hold for a HEAD); SeaweedFS answers 404 to any
identity that may read the key, whether it may list or not. The storage's listing fallback for
S3's 403 is proven on moto enforcing IAM (tests/media/test_iam.py); here SeaweedFS's answer is
pinned.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile

from assetpipe.media import TenantMediaStorage
from tests.seaweedfs import TENANT_BUCKET, SeaweedServer, reader_identity, tenant_identity

pytestmark = pytest.mark.s3_backends("seaweedfs")

MakeTenantStorage = Callable[..., TenantMediaStorage]


@pytest.fixture
def folder() -> str:
    """A folder of its own in the session's shared bucket."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tenant_storage(s3_endpoint: str, seaweedfs_server: SeaweedServer) -> MakeTenantStorage:
    """``tenant_storage(tenant, keys_of=tenant)``: a storage for ``tenant`` signing with the
    keys of ``keys_of``."""

    def make(tenant: str, keys_of: str | None = None) -> TenantMediaStorage:
        identity = tenant_identity(keys_of or tenant)
        return TenantMediaStorage(
            bucket_name=TENANT_BUCKET,
            endpoint_url=s3_endpoint,
            region_name="us-east-1",
            location="media",
            tenant=tenant,
            access_key=identity.key,
            secret_key=identity.secret,
        )

    return make


def test_a_missing_key_is_404_to_the_tenant_and_the_storage_says_missing(
    tenant_storage: MakeTenantStorage, seaweedfs_server: SeaweedServer, folder: str
) -> None:
    storage = tenant_storage("acme")
    name = f"{folder}/missing.pdf"
    client = seaweedfs_server.client(tenant_identity("acme"))
    with pytest.raises(ClientError) as head:
        client.head_object(Bucket=TENANT_BUCKET, Key=f"media/acme/{name}")
    assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404  # S3: 403

    assert storage.exists(name) is False
    with pytest.raises(FileNotFoundError, match="does not exist"):
        storage.open(name)

    saved = storage.save(f"{folder}/invoice.pdf", ContentFile(b"%PDF-1"))

    assert storage.exists(saved) is True
    with storage.open(saved) as opened:
        assert opened.read() == b"%PDF-1"
    assert storage.listdir(folder) == ([], ["invoice.pdf"])


def test_a_tenant_s_keys_reach_no_other_tenant(
    tenant_storage: MakeTenantStorage, seaweedfs_server: SeaweedServer, folder: str
) -> None:
    name = f"{folder}/report.txt"
    seaweedfs_server.client().put_object(
        Bucket=TENANT_BUCKET, Key=f"media/globex/{name}", Body=b"globex"
    )
    trespasser = tenant_storage("globex", keys_of="acme")

    def denied(error: Any) -> bool:
        return bool(error.response["ResponseMetadata"]["HTTPStatusCode"] == 403)

    with pytest.raises(ClientError) as written:
        trespasser.save(f"{folder}/new.txt", ContentFile(b"x"))
    assert denied(written.value)
    with pytest.raises(ClientError) as read:
        trespasser.open(name).read()
    assert denied(read.value)
    # Its own keys, the same storage: allowed.
    with tenant_storage("globex").open(name) as opened:
        assert opened.read() == b"globex"


def test_keys_that_may_read_but_not_list_get_404_for_a_missing_key(
    seaweedfs_server: SeaweedServer, folder: str
) -> None:
    seaweedfs_server.client().put_object(
        Bucket=TENANT_BUCKET, Key=f"media/acme/{folder}/there.txt", Body=b"there"
    )
    reader = seaweedfs_server.client(reader_identity("acme"))

    def head(key: str) -> int:
        try:
            reader.head_object(Bucket=TENANT_BUCKET, Key=key)
        except ClientError as error:
            return int(error.response["ResponseMetadata"]["HTTPStatusCode"])
        return 200

    assert head(f"media/acme/{folder}/there.txt") == 200
    assert head(f"media/acme/{folder}/missing.txt") == 404  # S3: 403
    assert head(f"media/globex/{folder}/there.txt") == 403  # another tenant's: denied
