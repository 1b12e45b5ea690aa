"""Uploads in parts: one part in memory at a time, each verified, aborted when a part fails."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetpipe.publish.s3 import PublishError, S3Config, publish
from assetpipe.publish.upload import part_size
from tests.publish.conftest import FaultProxy, ProxyRequest, Reset, Respond, build_static

MIB = 1024 * 1024
BIG = hashlib.sha256(b"seed").digest() * (11 * MIB // 32 + 7)  # 11 MiB + 224 bytes: 3 parts


def part(number: int) -> Callable[[ProxyRequest], bool]:
    return lambda request: (
        request.kind == "PUT" and f"partNumber={number}&" in (request.query + "&")
    )


def open_uploads(s3_client: Any, bucket: str) -> list[str]:
    listed = s3_client.list_multipart_uploads(Bucket=bucket)
    return [upload["Key"] for upload in listed.get("Uploads", ())]


def test_parts_are_sent_with_their_md5_and_the_object_is_whole(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config(multipart_threshold=5 * MIB)
    root = build_static(tmp_path / "static", {"data/big.bin": BIG})

    publish(root, "staticfiles.json", cfg)

    parts = [r for r in proxy.log if r.kind == "PUT" and "partNumber=" in r.query]
    assert len(parts) == 6  # three for the original, three for its hashed copy
    assert all("content-md5" in r.headers for r in parts)
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/data/big.bin")["Body"].read()
    assert body == BIG
    assert open_uploads(s3_client, cfg.bucket_name) == []


@pytest.mark.parametrize(
    "fault", [Respond(500, "InternalError"), Reset()], ids=["500", "connection-reset"]
)
def test_a_failed_part_aborts_the_upload(
    tmp_path: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    fault: Respond | Reset,
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    cfg = config(multipart_threshold=5 * MIB, workers=1)
    root = build_static(tmp_path / "static", {"data/big.bin": BIG})
    second_part = part(2)
    proxy.rule = lambda request: fault if second_part(request) else None

    with pytest.raises(PublishError, match="manifest was left as it was"):
        publish(root, "staticfiles.json", cfg)

    assert "DELETE" in {r.method for r in proxy.log}  # AbortMultipartUpload
    assert open_uploads(s3_client, cfg.bucket_name) == []
    proxy.rule = None
    publish(root, "staticfiles.json", cfg)
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/data/big.bin")["Body"].read()
    assert body == BIG


def test_parts_grow_only_where_s3s_limit_of_10000_parts_requires() -> None:
    assert part_size(11 * MIB, 8 * MIB) == 8 * MIB
    assert part_size(100_000 * MIB, 8 * MIB) == 10 * MIB
