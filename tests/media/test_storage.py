"""TenantMediaStorage against moto's S3 server: keys, privacy defaults, tenants, refusals."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from assetpipe.media import TenantConfigurationError, TenantMediaStorage
from tests.media import tenants
from tests.media.conftest import MakeStorage, RequestLog, watch

Watch = Callable[[TenantMediaStorage], RequestLog]


def bucket_keys(s3_client: Any, bucket: str) -> set[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {entry["Key"] for page in pages for entry in page.get("Contents", ())}


def test_objects_live_under_location_and_tenant(
    make_storage: MakeStorage, s3_client: Any, media_bucket: str
) -> None:
    storage = make_storage()

    saved = storage.save("docs/report.txt", ContentFile(b"quarterly"))

    assert saved == "docs/report.txt"
    assert bucket_keys(s3_client, media_bucket) == {"media/acme/docs/report.txt"}
    assert storage.exists("docs/report.txt")
    assert storage.size("docs/report.txt") == len(b"quarterly")
    assert storage.listdir("") == (["docs"], [])
    assert storage.listdir("docs") == ([], ["report.txt"])
    with storage.open("docs/report.txt") as file:
        assert file.name == "docs/report.txt"
        assert file.read() == b"quarterly"
    storage.delete("docs/report.txt")
    assert bucket_keys(s3_client, media_bucket) == set()
    assert not storage.exists("docs/report.txt")


def test_location_is_optional(make_storage: MakeStorage, s3_client: Any, media_bucket: str) -> None:
    make_storage(location="").save("a.txt", ContentFile(b"a"))
    make_storage(location="uploads/media/").save("a.txt", ContentFile(b"a"))

    assert bucket_keys(s3_client, media_bucket) == {"acme/a.txt", "uploads/media/acme/a.txt"}


def test_saving_an_existing_name_never_replaces_the_object(
    make_storage: MakeStorage, s3_client: Any, media_bucket: str
) -> None:
    storage = make_storage()

    first = storage.save("avatar.png", ContentFile(b"first"))
    second = storage.save("avatar.png", ContentFile(b"second"))

    assert first == "avatar.png"
    assert second != first
    assert second.startswith("avatar_") and second.endswith(".png")
    assert bucket_keys(s3_client, media_bucket) == {"media/acme/avatar.png", f"media/acme/{second}"}
    body = s3_client.get_object(Bucket=media_bucket, Key="media/acme/avatar.png")["Body"]
    assert body.read() == b"first"


def test_objects_are_private_whatever_the_global_aws_settings(
    settings: Any,
    make_storage: MakeStorage,
    request_log: Watch,
    s3_client: Any,
    media_bucket: str,
) -> None:
    # Settings a legacy project may carry for public static files.
    settings.AWS_DEFAULT_ACL = "public-read"
    settings.AWS_QUERYSTRING_AUTH = False
    settings.AWS_S3_FILE_OVERWRITE = True
    storage = make_storage()
    log = request_log(storage)

    storage.save("a.txt", ContentFile(b"a"))
    storage.save("a.txt", ContentFile(b"b"))

    assert (storage.default_acl, storage.querystring_auth, storage.file_overwrite) == (
        None,
        True,
        False,
    )
    uploads = [params for operation, params in log.calls if operation == "PutObject"]
    assert len(uploads) == 2
    assert all("ACL" not in params for params in uploads)
    grants = s3_client.get_object_acl(Bucket=media_bucket, Key="media/acme/a.txt")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert grants[0]["Grantee"]["Type"] == "CanonicalUser"


def test_urls_are_signed_expire_and_work(make_storage: MakeStorage) -> None:
    storage = make_storage(querystring_expire=120)
    storage.save("photos/cat.jpg", ContentFile(b"meow"))

    url = storage.url("photos/cat.jpg")

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith("/media/acme/photos/cat.jpg")
    assert query["X-Amz-Expires"] == ["120"]
    assert "X-Amz-Signature" in query
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"meow"


def test_custom_domain_needs_cloudfront_keys_for_signed_urls(make_storage: MakeStorage) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"cdn\.example\.com.*cloudfront_key_id"):
        make_storage(custom_domain="cdn.example.com")


def test_custom_domain_signs_with_cloudfront_keys(make_storage: MakeStorage) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    storage = make_storage(
        custom_domain="cdn.example.com", cloudfront_key_id="K2JCJMDEHXQW5F", cloudfront_key=pem
    )

    url = storage.url("photos/cat.jpg")

    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("cdn.example.com", "/media/acme/photos/cat.jpg")
    assert {"Expires", "Signature", "Key-Pair-Id"} <= set(parse_qs(parts.query))


def test_custom_domain_without_signing_serves_plain_urls(make_storage: MakeStorage) -> None:
    storage = make_storage(custom_domain="cdn.example.com", querystring_auth=False)

    assert storage.url("a b.txt") == "https://cdn.example.com/media/acme/a%20b.txt"


@pytest.mark.parametrize(
    "tenant",
    ["", None, "Acme Corp", "acme/../globex", "acme/", "-acme", "a*", "ac?me", "a" * 64, 42],
)
def test_invalid_tenant_ids_are_refused(make_storage: MakeStorage, tenant: object) -> None:
    with pytest.raises(TenantConfigurationError, match="tenant"):
        make_storage(tenant=tenant)


@pytest.mark.parametrize("tenant", ["acme", "ACME-2", "a", "customer_17", "a" * 63])
def test_valid_tenant_ids_are_accepted(make_storage: MakeStorage, tenant: str) -> None:
    assert make_storage(tenant=tenant).tenant_prefix() == f"media/{tenant}/"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tenant_resolver": "tests.media.tenants.current_tenant"}, "not both"),
        ({"tenant": None, "tenant_resolver": "tests.media.tenants.nowhere"}, "cannot be imported"),
        ({"tenant": None, "tenant_resolver": "tests.media.tenants.current"}, "not callable"),
    ],
)
def test_tenant_resolver_misconfiguration_is_refused(
    make_storage: MakeStorage, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(TenantConfigurationError, match=message):
        make_storage(**options)


def test_tenant_resolver_is_asked_on_every_operation(
    make_storage: MakeStorage, s3_client: Any, media_bucket: str
) -> None:
    storage = make_storage(tenant=None, tenant_resolver="tests.media.tenants.current_tenant")

    for tenant in ("acme", "globex"):
        token = tenants.current.set(tenant)
        try:
            storage.save("logo.svg", ContentFile(tenant.encode()))
            assert storage.open("logo.svg").read() == tenant.encode()
        finally:
            tenants.current.reset(token)

    assert bucket_keys(s3_client, media_bucket) == {"media/acme/logo.svg", "media/globex/logo.svg"}


@pytest.mark.parametrize("returned", [None, "", "../globex", "acme/x"])
def test_invalid_resolved_tenant_is_refused_before_any_request(
    make_storage: MakeStorage, request_log: Watch, returned: object
) -> None:
    storage = make_storage(tenant=None, tenant_resolver=lambda: returned)
    log = request_log(storage)

    with pytest.raises(ImproperlyConfigured, match="tenant_resolver"):
        storage.save("a.txt", ContentFile(b"a"))
    with pytest.raises(ImproperlyConfigured, match="tenant_resolver"):
        storage.exists("a.txt")

    assert log.sent == 0


SUSPICIOUS_NAMES = [
    "../globex/secret.txt",
    "a/../../globex/secret.txt",
    "a/../b.txt",
    "..",
    "/etc/passwd",
    "/media/globex/secret.txt",
    "C:/Windows/win.ini",
    "c:win.ini",
    "..\\globex\\secret.txt",
    "a\\b.txt",
    "a\x00.txt",
    "a\nb.txt",
    "a\x7f.txt",
    "a\x85.txt",
    "%2e%2e/globex/secret.txt",
    "%2E%2E%2Fglobex%2Fsecret.txt",
    "..%2fglobex%2fsecret.txt",
    "%252e%252e%252fglobex",
    "a%00.txt",
    "a%5cb.txt",
    "\uff0e\uff0e\uff0fglobex",
    "./a.txt",
    "a//b.txt",
    "dir/",
    "",
    "x" * 1025,
    "a\ud800.txt",
    "a\uffff.txt",
]

OPERATIONS: dict[str, Callable[[TenantMediaStorage, str], object]] = {
    "save": lambda storage, name: storage.save(name, ContentFile(b"x")),
    "open": lambda storage, name: storage.open(name),
    "open-for-writing": lambda storage, name: storage.open(name, "wb"),
    "delete": lambda storage, name: storage.delete(name),
    "exists": lambda storage, name: storage.exists(name),
    "size": lambda storage, name: storage.size(name),
    "url": lambda storage, name: storage.url(name),
    "get_modified_time": lambda storage, name: storage.get_modified_time(name),
    "listdir": lambda storage, name: storage.listdir(name),
}


@pytest.fixture(scope="module")
def watched_storage(s3_endpoint: str) -> tuple[TenantMediaStorage, RequestLog]:
    """One storage for the many refusal cases: building a boto3 client is the slow part."""
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    storage = TenantMediaStorage(
        bucket_name=bucket, endpoint_url=s3_endpoint, location="media", tenant="acme"
    )
    return storage, watch(storage.connection.meta.client)


@pytest.mark.parametrize("name", SUSPICIOUS_NAMES)
def test_suspicious_names_are_refused_and_nothing_is_sent(
    watched_storage: tuple[TenantMediaStorage, RequestLog], s3_client: Any, name: str
) -> None:
    storage, log = watched_storage
    log.calls.clear()
    log.sent = 0
    operations = dict(OPERATIONS)
    if name in ("", "dir/"):
        # The tenant root and a directory with a trailing slash are valid to list.
        del operations["listdir"]

    for operation in operations.values():
        with pytest.raises(SuspiciousFileOperation):
            operation(storage, name)

    assert log.sent == 0
    assert log.calls == []
    assert bucket_keys(s3_client, storage.bucket_name) == set()


def test_a_name_that_fits_alone_but_not_under_the_prefix_is_refused(
    make_storage: MakeStorage, request_log: Watch
) -> None:
    storage = make_storage(location="m" * 500)
    log = request_log(storage)

    with pytest.raises(SuspiciousFileOperation, match="1024-byte"):
        storage.save("n" * 600, ContentFile(b"x"))

    assert log.sent == 0


def test_harmless_names_that_look_odd_are_kept_verbatim(
    make_storage: MakeStorage, s3_client: Any, media_bucket: str
) -> None:
    storage = make_storage()
    names = ["100%.txt", "a..b.txt", "...", "ünïcödé/файл.txt", "spaces in name.txt", "q?x=1#f"]

    for name in names:
        storage.save(name, ContentFile(name.encode()))

    assert bucket_keys(s3_client, media_bucket) == {f"media/acme/{name}" for name in names}


def test_missing_objects_raise_file_not_found(make_storage: MakeStorage) -> None:
    storage = make_storage()

    with pytest.raises(FileNotFoundError, match=r"media/acme/nothing\.txt") as raised:
        storage.open("nothing.txt")

    assert raised.value.__notes__ == [
        f"media object s3://{storage.bucket_name}/media/acme/nothing.txt (tenant 'acme')"
    ]


def test_s3_errors_name_the_bucket_key_and_tenant(make_storage: MakeStorage) -> None:
    storage = make_storage(bucket_name="no-such-bucket")

    with pytest.raises(ClientError) as raised:
        storage.save("a.txt", ContentFile(b"a"))

    assert raised.value.__notes__ == [
        "media object s3://no-such-bucket/media/acme/a.txt (tenant 'acme')"
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bucket_name": None}, "bucket_name"),
        ({"bucket_name": ""}, "bucket_name"),
        ({"location": "media/../static"}, "location"),
        ({"location": "/media"}, "leading slash"),
        ({"bucket": "typo"}, "Invalid setting 'bucket'"),
    ],
)
def test_storage_misconfiguration_is_refused(
    make_storage: MakeStorage, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        make_storage(**options)


def test_deconstructs_to_its_public_path(make_storage: MakeStorage) -> None:
    path, _, kwargs = make_storage().deconstruct()

    assert path == "assetpipe.media.TenantMediaStorage"
    assert kwargs["tenant"] == "acme"


def test_works_as_the_default_storage_from_settings(
    media_settings: dict[str, Any], s3_client: Any, media_bucket: str
) -> None:
    assert isinstance(storages["default"], TenantMediaStorage)
    default_storage.save("uploads/hello.txt", ContentFile(b"hello"))

    assert bucket_keys(s3_client, media_bucket) == {"media/acme/uploads/hello.txt"}
