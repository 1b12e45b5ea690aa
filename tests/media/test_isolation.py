"""Property: whatever the name, every object the storage touches lies under its tenant prefix.

Checked two ways for each generated name: the keys and listing prefixes of every request the
storage's client made, and the keys actually in the bucket, where objects of other tenants,
of a tenant whose id shares a prefix with ours, and outside the media location sit as canaries.
"""

from __future__ import annotations

import posixpath
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from hypothesis import given, settings
from hypothesis import strategies as st

from assetpipe.media import TenantMediaStorage
from tests.media.conftest import RequestLog, watch

PREFIX = "media/acme/"
CANARIES = {
    "media/globex/secret.txt": b"globex",
    "media/acme-evil/secret.txt": b"a sibling prefix",
    "media/acme": b"the prefix without its slash",
    "mediaacme/x": b"no separator",
    "secret.txt": b"bucket root",
    "static/app.js": b"static files",
}


@dataclass
class Setup:
    storage: TenantMediaStorage
    log: RequestLog
    client: Any
    bucket: str

    def keys(self) -> dict[str, str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return {entry["Key"]: entry["ETag"] for page in pages for entry in page.get("Contents", ())}


@pytest.fixture(scope="module")
def setup(s3_endpoint: str) -> Setup:
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    for key, body in CANARIES.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    storage = TenantMediaStorage(
        bucket_name=bucket, endpoint_url=s3_endpoint, location="media", tenant="acme"
    )
    return Setup(storage, watch(storage.connection.meta.client), client, bucket)


# Pieces that path handling, URL decoding and Unicode normalisation give a meaning to.
TRICKY_SEGMENTS = [
    "..",
    ".",
    "",
    "~",
    "acme",
    "globex",
    "%2e%2e",
    "%2E%2e%2F",
    "%252e%252e",
    "%2f",
    "%5c",
    "%00",
    "\\",
    "..\\..",
    "\x00",
    "\n",
    "\u2024\u2024",
    "\uff0e\uff0e",
    "\uff0f",
    "C:",
    "a.txt",
    "ü",
    " ",
    "?x=1",
    "#",
]
segment = st.one_of(st.sampled_from(TRICKY_SEGMENTS), st.text(max_size=6))
names = st.one_of(
    st.text(max_size=30),
    st.lists(segment, min_size=1, max_size=6).map("/".join),
    st.lists(segment, min_size=1, max_size=4).map("\\".join),
)

Operation = Callable[[TenantMediaStorage, str], object]
READS_AND_DELETES: list[Operation] = [
    lambda storage, name: storage.exists(name),
    lambda storage, name: storage.size(name),
    lambda storage, name: storage.open(name).close(),
    lambda storage, name: storage.url(name),
    lambda storage, name: storage.listdir(name),
    lambda storage, name: storage.delete(name),
]


def attempt(operation: Operation, storage: TenantMediaStorage, name: str, log: RequestLog) -> None:
    """Run ``operation``; a refusal must have sent nothing."""
    sent = log.sent
    try:
        operation(storage, name)
    except SuspiciousFileOperation:
        assert log.sent == sent, f"{name!r} was refused after {log.sent - sent} request(s)"
    except FileNotFoundError:
        pass


@settings(max_examples=60, deadline=None)
@given(name=names, content=st.binary(max_size=16))
def test_every_object_touched_lies_under_the_tenant_prefix(
    setup: Setup, name: str, content: bytes
) -> None:
    storage, log = setup.storage, setup.log
    # A failed example (while hypothesis shrinks) may leave its object behind.
    for key in set(setup.keys()) - set(CANARIES):
        setup.client.delete_object(Bucket=setup.bucket, Key=key)
    log.calls.clear()
    canary_etags = {key: etag for key, etag in setup.keys().items() if key in CANARIES}

    for operation in READS_AND_DELETES:
        attempt(operation, storage, name, log)
    sent = log.sent
    try:
        saved = storage.save(name, ContentFile(content))
    except SuspiciousFileOperation:
        assert log.sent == sent, f"{name!r} was refused after {log.sent - sent} request(s)"
    else:
        assert set(setup.keys()) == set(CANARIES) | {PREFIX + saved}
        assert storage.exists(saved)
        with storage.open(saved) as file:
            assert file.read() == content
        assert storage.size(saved) == len(content)
        directory, base = posixpath.split(saved)
        assert base in storage.listdir(directory)[1]
        url = storage.url(saved)
        assert unquote(urlsplit(url).path).endswith(f"/{setup.bucket}/{PREFIX}{saved}")
        with urllib.request.urlopen(url) as response:
            assert response.read() == content
        storage.delete(saved)

    touched = log.keys()
    assert all(key.startswith(PREFIX) for key in touched), touched
    # Nothing outside the prefix changed, and nothing is left inside it.
    assert setup.keys() == canary_etags
