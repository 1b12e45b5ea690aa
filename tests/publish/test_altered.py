"""Objects planted or altered in the bucket under a content-addressed name: publishing compares
every such key the build has with the listing's ETag, repairs it and says so; status reports it.

A CDN serves a ``.br`` key to every browser that accepts brotli, while a check without
Accept-Encoding sees the clean original: only the variant's bytes give it away.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import django.contrib.admin

from assetpipe.publish.s3 import S3Config, publish
from assetpipe.publish.status import status
from tests.publish.conftest import TREE, FaultProxy, build_static
from tests.publish.test_publish import manifest_paths

ADMIN_CSS = "admin/css/responsive.css"
TREE_WITH_ADMIN = {
    **TREE,
    ADMIN_CSS: (Path(django.contrib.admin.__file__).parent / "static" / ADMIN_CSS).read_bytes(),
}
PLANTED_CSS = b"body { background: url(https://attacker.example/track.png) }"


def body(s3_client: Any, bucket: str, key: str) -> bytes:
    data: bytes = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return data


def test_a_planted_variant_is_reported_by_status_and_repaired_by_publish(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    root = build_static(tmp_path / "static", TREE_WITH_ADMIN)
    cfg = config(variants="static_root_and_bucket")
    publish(root, "staticfiles.json", cfg)
    hashed = manifest_paths(root)[ADMIN_CSS]
    key = f"static/{hashed}.br"
    s3_client.put_object(
        Bucket=cfg.bucket_name,
        Key=key,
        Body=brotli.compress(PLANTED_CSS),
        ContentEncoding="br",
        ContentType="text/css",
    )
    # The original, as a check without Accept-Encoding fetches it, is untouched.
    assert body(s3_client, cfg.bucket_name, f"static/{hashed}") == (root / hashed).read_bytes()

    report = status(root, "staticfiles.json", cfg)

    assert not report.in_sync
    lines = report.lines()
    (altered,) = [line for line in lines if line.startswith("altered in the bucket: 1 ")]
    assert f"s3://{cfg.bucket_name}/{key}" in altered
    assert lines[-1] == "out of sync: run `manage.py assetpipe sync`"

    proxy.clear()
    result = publish(root, "staticfiles.json", cfg)

    assert body(s3_client, cfg.bucket_name, key) == (root / f"{hashed}.br").read_bytes()
    assert result.repaired == (key,)
    assert result.uploaded == 1
    assert f"1 repaired: the bucket held other bytes than this build's, e.g. {key}" in (
        result.summary()
    )
    # Compared with the listing it already had: one PUT more, no HEAD or GET.
    assert proxy.counts() == {"LIST": 1, "PUT": 1}
    head = s3_client.head_object(Bucket=cfg.bucket_name, Key=key)
    assert head["ContentEncoding"] == "br"
    assert status(root, "staticfiles.json", cfg).in_sync


def test_a_variant_of_the_same_size_is_compared_by_its_md5(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    root = build_static(tmp_path / "static", TREE)
    cfg = config(variants="static_root_and_bucket")
    publish(root, "staticfiles.json", cfg)
    hashed = manifest_paths(root)["js/app.js"]
    key = f"static/{hashed}.gz"
    good = (root / f"{hashed}.gz").read_bytes()
    # One bit of the deflate stream flipped: the same size, other bytes.
    planted = bytearray(good)
    planted[len(good) // 2] ^= 0x01
    s3_client.put_object(
        Bucket=cfg.bucket_name, Key=key, Body=bytes(planted), ContentEncoding="gzip"
    )

    result = publish(root, "staticfiles.json", cfg)

    assert body(s3_client, cfg.bucket_name, key) == good
    assert result.repaired == (key,)


def test_the_one_request_run_trusts_its_record_and_verify_repairs(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    """A run whose build the last publish made live sends one request and lists nothing, so it
    cannot see an object altered since; ``sync --verify`` (``verify=True``) lists and repairs."""
    root = build_static(tmp_path / "static", TREE)
    cfg = config(variants="static_root_and_bucket")
    state = tmp_path / "state"
    publish(root, "staticfiles.json", cfg, state_dir=state)
    key = f"static/{manifest_paths(root)['css/app.css']}.br"
    s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=brotli.compress(PLANTED_CSS))
    proxy.clear()

    quick = publish(root, "staticfiles.json", cfg, state_dir=state)
    assert proxy.counts() == {"HEAD": 1}
    assert quick.request_count == 1

    verified = publish(root, "staticfiles.json", cfg, state_dir=state, verify=True)

    assert brotli.decompress(body(s3_client, cfg.bucket_name, key)) != PLANTED_CSS
    assert verified.repaired == (key,)
    proxy.clear()
    assert publish(root, "staticfiles.json", cfg, state_dir=state).request_count == 1


def test_a_multipart_variant_is_compared_by_its_parts_with_no_request_more(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    """Over the threshold an object's ETag is the MD5 of its parts' MD5s: the same parts the
    publisher uploads in are hashed here, so a large hashed file is compared without a HEAD."""
    big = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB, above a 5 MiB threshold
    cfg = config(multipart_threshold=5 * 1024 * 1024)
    root = build_static(tmp_path / "static", {"data/big.bin": big})
    hashed = manifest_paths(root)["data/big.bin"]
    publish(root, "staticfiles.json", cfg)
    key = f"static/{hashed}"
    assert "-" in s3_client.head_object(Bucket=cfg.bucket_name, Key=key)["ETag"]
    proxy.clear()
    assert publish(root, "staticfiles.json", cfg).uploaded == 0
    assert proxy.counts() == {"LIST": 1, "HEAD": 1}  # the HEAD is the unhashed original's

    # The same size in one part: its ETag is a plain MD5, which is not the build's parts'.
    s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=big[:-1] + b"!")
    result = publish(root, "staticfiles.json", cfg)

    assert body(s3_client, cfg.bucket_name, key) == big
    assert result.repaired == (key,)
