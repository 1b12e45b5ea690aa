"""Failures the user can act on: one clear error naming the bucket, key or endpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.conftest import free_port
from tests.publish.conftest import FaultProxy, Respond, bucket_keys

ACCESS_DENIED = Respond(403, "AccessDenied", "Access Denied")


def test_missing_bucket(static_root: Path, config: Callable[..., S3Config]) -> None:
    cfg = config(bucket_name="assetpipe-no-such-bucket")
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    assert str(failure.value) == (
        f"bucket 'assetpipe-no-such-bucket' does not exist at {cfg.endpoint_url}"
    )


def test_unreachable_endpoint(
    static_root: Path, config: Callable[..., S3Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    endpoint = f"http://127.0.0.1:{free_port()}"
    cfg = config(endpoint_url=endpoint)
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    assert str(failure.value).startswith(
        f"cannot reach S3 endpoint {endpoint} while listing s3://{cfg.bucket_name}/static/: "
    )


def test_missing_credentials(
    static_root: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    cfg = config()
    with pytest.raises(PublishError, match=rf"^no AWS credentials for s3://{cfg.bucket_name}/"):
        publish(static_root, "staticfiles.json", cfg)
    assert proxy.log == []


def test_access_denied_on_listing(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    cfg = config()
    proxy.rule = lambda request: ACCESS_DENIED if request.kind == "LIST" else None
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    assert str(failure.value) == (
        f"access denied while listing s3://{cfg.bucket_name}/static/ at {proxy.url}: "
        "the credentials need s3:ListBucket there"
    )


def test_access_denied_on_upload_names_the_key_and_publishes_no_manifest(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config(workers=1)
    proxy.rule = lambda request: ACCESS_DENIED if request.kind == "PUT" else None
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    message = str(failure.value)
    assert message.startswith(
        f"access denied while uploading s3://{cfg.bucket_name}/static/css/app.css at {proxy.url}: "
        "the credentials need s3:PutObject there; 10 of 10 uploads did not complete. "
    )
    # Not retried, and nothing after the first refusal.
    assert proxy.counts() == {"LIST": 1, "PUT": 1}
    assert bucket_keys(s3_client, cfg.bucket_name) == set()


def test_command_turns_the_error_into_a_command_error(
    static_root: Path, config: Callable[..., S3Config], settings: Settings
) -> None:
    settings.STATIC_ROOT = str(static_root)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {
                "s3": {
                    "bucket_name": "assetpipe-no-such-bucket",
                    "endpoint_url": config().endpoint_url,
                }
            },
        },
    }
    with pytest.raises(CommandError, match="bucket 'assetpipe-no-such-bucket' does not exist at"):
        call_command("assetpipe", "sync")


def test_rejected_credentials(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    cfg = config()
    proxy.rule = lambda request: Respond(403, "InvalidAccessKeyId", "The key does not exist.")
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    assert str(failure.value) == (
        f"{proxy.url} rejected the AWS credentials while listing "
        f"s3://{cfg.bucket_name}/static/ (InvalidAccessKeyId)"
    )


def test_other_server_errors_name_the_code_after_the_retries(
    static_root: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    cfg = config()
    proxy.rule = lambda request: Respond(500, "InternalError", "We encountered an internal error.")
    with pytest.raises(PublishError) as failure:
        publish(static_root, "staticfiles.json", cfg)
    assert str(failure.value) == (
        f"listing s3://{cfg.bucket_name}/static/ failed at {proxy.url}: "
        "InternalError We encountered an internal error."
    )
    assert proxy.counts() == {"LIST": 2}
