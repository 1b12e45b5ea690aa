"""Failures mid-publish: the remote manifest only ever references objects that exist, and the
next run uploads only what is still missing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.publish.conftest import (
    TREE,
    FaultProxy,
    Reset,
    Respond,
    Rule,
    bucket_keys,
    build_static,
    nth,
    outage_after,
)

SLOW_DOWN = Respond(503, "SlowDown", "Please reduce your request rate.")
INTERNAL = Respond(500, "InternalError", "We encountered an internal error.")
V2 = {**TREE, "js/app.js": b"console.log('v2');\n", "css/print.css": b"body { color: red; }\n"}


def published_files(root: Path) -> set[str]:
    paths: dict[str, str] = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    return {f"static/{name}" for pair in paths.items() for name in pair}


def outdated(s3_client: Any, bucket: str, root: Path) -> set[str]:
    """Published files the bucket lacks or holds with other content."""
    etags = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        etags.update({item["Key"]: item["ETag"].strip('"') for item in page.get("Contents", ())})
    return {
        key
        for key in published_files(root)
        if etags.get(key)
        != hashlib.md5((root / key.removeprefix("static/")).read_bytes()).hexdigest()
    }


def live_manifest(s3_client: Any, bucket: str) -> bytes | None:
    try:
        body: bytes = s3_client.get_object(Bucket=bucket, Key="static/staticfiles.json")[
            "Body"
        ].read()
    except s3_client.exceptions.NoSuchKey:
        return None
    return body


def assert_manifest_complete(s3_client: Any, bucket: str) -> None:
    """The invariant: whatever the live manifest references is in the bucket."""
    manifest = live_manifest(s3_client, bucket)
    if manifest is None:
        return
    keys = bucket_keys(s3_client, bucket)
    referenced = {f"static/{name}" for name in json.loads(manifest)["paths"].values()}
    assert referenced <= keys, referenced - keys


@pytest.fixture
def deployed(tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy) -> Path:
    """v1 published, then v2 built in the same STATIC_ROOT, not yet published."""
    root = build_static(tmp_path / "static", TREE)
    publish(root, "staticfiles.json", config())
    build_static(root, V2)
    proxy.clear()
    return root


def test_a_single_500_is_retried_and_the_run_completes(
    deployed: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    proxy.rule = nth("PUT", 2, INTERNAL)

    result = publish(deployed, "staticfiles.json", cfg)

    assert live_manifest(s3_client, cfg.bucket_name) == (deployed / "staticfiles.json").read_bytes()
    assert published_files(deployed) <= bucket_keys(s3_client, cfg.bucket_name)
    # 4 files, history, manifest, and the one retried PUT.
    assert proxy.counts()["PUT"] == result.uploaded + 2 + 1 == 7


@pytest.mark.parametrize(
    "fault",
    [Reset(), Reset(after_forwarding=True)],
    ids=["reset-before-the-server-saw-it", "reset-after-the-server-stored-it"],
)
def test_a_connection_reset_is_retried_and_the_run_completes(
    deployed: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
    fault: Reset,
) -> None:
    cfg = config()
    proxy.rule = nth("PUT", 1, fault)

    publish(deployed, "staticfiles.json", cfg)

    assert live_manifest(s3_client, cfg.bucket_name) == (deployed / "staticfiles.json").read_bytes()
    for key in published_files(deployed):
        name = key.removeprefix("static/")
        body = s3_client.get_object(Bucket=cfg.bucket_name, Key=key)["Body"].read()
        assert body == (deployed / name).read_bytes()


@pytest.mark.parametrize(
    "make_rule",
    [
        lambda: nth("PUT", 3, SLOW_DOWN, times=1000),
        lambda: nth("PUT", 2, INTERNAL, times=1000),
        lambda: outage_after(2, Reset()),
        lambda: outage_after(3, SLOW_DOWN),
        lambda: outage_after(1, Respond(500, "InternalError")),
    ],
    ids=[
        "slowdown-from-the-3rd-put",
        "500s-from-the-2nd-put",
        "resets-after-2-puts",
        "503-outage-after-3-puts",
        "500-outage-after-1-put",
    ],
)
def test_a_run_that_dies_keeps_the_previous_manifest_and_the_rerun_uploads_the_rest(
    deployed: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    make_rule: Callable[[], Rule],
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the outcome is the same, the backoff shorter
    cfg = config(workers=2)
    previous = live_manifest(s3_client, cfg.bucket_name)
    proxy.rule = make_rule()

    with pytest.raises(PublishError) as failure:
        publish(deployed, "staticfiles.json", cfg)

    message = str(failure.value)
    assert f"s3://{cfg.bucket_name}/static/" in message
    assert "manifest was left as it was" in message
    assert live_manifest(s3_client, cfg.bucket_name) == previous
    assert_manifest_complete(s3_client, cfg.bucket_name)

    missing = outdated(s3_client, cfg.bucket_name, deployed)
    assert missing  # the failure did interrupt the upload
    assert f"; {len(missing)} of 4 uploads did not complete." in message
    proxy.rule = None
    proxy.clear()
    publish(deployed, "staticfiles.json", cfg)

    puts = proxy.puts()
    assert set(puts[:-2]) == missing and len(puts) == len(missing) + 2
    assert puts[-1] == "static/staticfiles.json"
    assert live_manifest(s3_client, cfg.bucket_name) == (deployed / "staticfiles.json").read_bytes()
    assert_manifest_complete(s3_client, cfg.bucket_name)


def test_failing_manifest_upload_keeps_the_previous_one_and_the_rerun_sends_only_it(
    deployed: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    cfg = config()
    previous = live_manifest(s3_client, cfg.bucket_name)

    def manifest_fails(request: Any) -> Respond | None:
        return INTERNAL if request.key == "static/staticfiles.json" else None

    proxy.rule = manifest_fails
    with pytest.raises(PublishError, match=r"static/staticfiles\.json.*run again"):
        publish(deployed, "staticfiles.json", cfg)
    assert live_manifest(s3_client, cfg.bucket_name) == previous

    proxy.rule = None
    proxy.clear()
    publish(deployed, "staticfiles.json", cfg)
    assert proxy.puts() == ["static/staticfiles.json"]
    assert_manifest_complete(s3_client, cfg.bucket_name)
