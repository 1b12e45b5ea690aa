"""Static publishing never reaches another storage's files in a shared bucket.

The bucket is shared with django-storages' ``S3Storage`` (the uploads of a project that does not
use TenantMediaStorage). Publishing and pruning refuse a static prefix that overlaps its prefix,
naming both storages, and leave the bucket as it was; ``collectstatic`` stops at the system
check before it builds.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from pytest_django.fixtures import Settings

from assetpipe.conf.s3 import S3Config
from assetpipe.publish.s3 import publish
from tests.conftest import StaticProject
from tests.publish.conftest import FaultProxy, bucket_keys

UPLOADS = "storages.backends.s3.S3Storage"
UPLOAD = "media/uploads/avatar.3f2a9c1b7d4e.png"


def share_bucket(settings: Settings, config: S3Config, uploads_location: str) -> None:
    """Static files published by ``config``; uploads in the same bucket at the location."""
    settings.STORAGES = {
        "default": {
            "BACKEND": UPLOADS,
            "OPTIONS": {"bucket_name": config.bucket_name, "location": uploads_location},
        },
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {
                "s3": {
                    "bucket_name": config.bucket_name,
                    "location": config.location,
                    "endpoint_url": config.endpoint_url,
                    "region_name": "us-east-1",
                }
            },
        },
    }


def test_sync_refuses_to_publish_over_uploads(
    settings: Settings,
    static_root: Path,
    config: Callable[..., S3Config],
    s3_client: Any,
    proxy: FaultProxy,
) -> None:
    """Static files at the bucket's root, uploads under media/: sync would have written
    staticfiles.json and every build file among them."""
    root_config = config(location="")
    bucket = root_config.bucket_name
    s3_client.put_object(Bucket=bucket, Key="media/acme/invoice.pdf", Body=b"%PDF-1")
    share_bucket(settings, root_config, "media")
    settings.STATIC_ROOT = str(static_root)
    proxy.clear()

    with pytest.raises(CommandError) as refused:
        call_command("assetpipe", "sync", stdout=io.StringIO())

    assert str(refused.value) == (
        f'refusing to publish to s3://{bucket}/: STORAGES["staticfiles"] '
        f"(assetpipe.storage.AssetPipeStorage) publishes to s3://{bucket}/, the whole bucket "
        f'(the "s3" option has no location), and STORAGES["default"] ({UPLOADS}) keeps files '
        f"in s3://{bucket}/media/. Give static files and media disjoint locations in the "
        'bucket (e.g. "static" and "media"), or separate buckets.'
    )
    assert proxy.log == []  # refused before any request
    assert bucket_keys(s3_client, bucket) == {"media/acme/invoice.pdf"}


def test_prune_refuses_to_delete_uploads(
    settings: Settings,
    static_root: Path,
    config: Callable[..., S3Config],
    s3_client: Any,
) -> None:
    """Static files under media/, uploads under media/uploads/: prune counts an upload whose
    name looks content-hashed (as uploads named by their digest are) as an orphan of some build
    and deletes it."""
    static_config = config(location="media")
    bucket = static_config.bucket_name
    publish(static_root, "staticfiles.json", static_config)
    s3_client.put_object(Bucket=bucket, Key=UPLOAD, Body=b"\x89PNG")
    share_bucket(settings, static_config, "media/uploads")
    before = bucket_keys(s3_client, bucket)

    with pytest.raises(CommandError) as refused:
        call_command("assetpipe", "prune", "--min-age", "0", stdout=io.StringIO())

    message = str(refused.value)
    assert message.startswith(f"refusing to prune s3://{bucket}/media/: ")
    assert f'STORAGES["default"] ({UPLOADS}) keeps files in s3://{bucket}/media/uploads/' in message
    assert "inside the static prefix" in message
    assert bucket_keys(s3_client, bucket) == before
    assert UPLOAD in before


@pytest.fixture
def static_over_uploads(
    project: StaticProject,
    settings: Settings,
    make_bucket: Callable[[], str],
    s3_client: Any,
    s3_endpoint: str,
) -> str:
    """A bucket holding an upload under media/, and a build publishing to its root."""
    bucket = make_bucket()
    s3_client.put_object(Bucket=bucket, Key="media/acme/invoice.pdf", Body=b"%PDF-1")
    project.write("css/app.css", "body { color: red }\n")
    project.configure(s3={"bucket_name": bucket, "endpoint_url": s3_endpoint})
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": UPLOADS, "OPTIONS": {"bucket_name": bucket, "location": "media"}},
    }
    return bucket


def test_collectstatic_stops_at_the_system_check(
    project: StaticProject, static_over_uploads: str, s3_client: Any
) -> None:
    bucket = static_over_uploads
    with pytest.raises(SystemCheckError, match=r"assetpipe\.E001") as stopped:
        project.collect(skip_checks=False)

    assert f'STORAGES["default"] ({UPLOADS}) keeps files in s3://{bucket}/media/' in str(
        stopped.value
    )
    assert bucket_keys(s3_client, bucket) == {"media/acme/invoice.pdf"}


def test_collectstatic_with_checks_skipped_refuses_to_publish(
    project: StaticProject, static_over_uploads: str, s3_client: Any
) -> None:
    bucket = static_over_uploads
    # call_command skips the system checks: the publish itself refuses.
    with pytest.raises(CommandError, match=rf"refusing to publish to s3://{bucket}/"):
        project.collect()

    assert bucket_keys(s3_client, bucket) == {"media/acme/invoice.pdf"}
