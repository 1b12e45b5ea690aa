"""publish(): what lands in the bucket, with which headers, for how many requests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetpipe.publish import listing as bucket_listing
from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.publish.conftest import TREE, FaultProxy, bucket_keys, build_static

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"


def manifest_paths(root: Path) -> dict[str, str]:
    paths: dict[str, str] = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    return paths


def expected_keys(root: Path, *, encodings: bool = False) -> set[str]:
    names = {n for pair in manifest_paths(root).items() for n in pair}
    if encodings:
        names |= {n + s for n in names for s in (".br", ".gz") if (root / (n + s)).exists()}
    return {f"static/{name}" for name in names} | {"static/staticfiles.json"}


def history(s3_client: Any, bucket: str) -> list[str]:
    return sorted(bucket_keys(s3_client, bucket, "static/manifests/"))


def test_cold_publish_uploads_each_file_once_then_the_manifest(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    result = publish(static_root, "staticfiles.json", cfg)

    keys = bucket_keys(s3_client, cfg.bucket_name)
    (history_key,) = history(s3_client, cfg.bucket_name)
    assert keys == expected_keys(static_root) | {history_key}
    files = len(expected_keys(static_root)) - 1
    # One PUT per file, then the history copy and the live manifest, last.
    puts = proxy.puts()
    assert len(puts) == files + 2
    assert puts[-2:] == [history_key, "static/staticfiles.json"]
    assert proxy.counts() == {"LIST": 1, "PUT": files + 2}
    assert result.uploaded == files
    assert result.present == 0
    assert result.requests == {"ListObjectsV2": 1, "PutObject": files + 2}
    assert (
        s3_client.get_object(Bucket=cfg.bucket_name, Key="static/staticfiles.json")["Body"].read()
        == (static_root / "staticfiles.json").read_bytes()
    )
    assert result.summary().startswith(
        f"published build {history_key.split('-')[1]} to s3://{cfg.bucket_name}/static: "
        f"{files} uploaded (0 present), "
    )


def test_no_change_run_sends_only_the_listing(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    publish(static_root, "staticfiles.json", config())
    proxy.clear()

    result = publish(static_root, "staticfiles.json", config())

    assert proxy.counts() == {"LIST": 1}
    assert result.requests == {"ListObjectsV2": 1}
    assert result.uploaded == 0
    assert not result.manifest_uploaded
    assert result.summary().endswith("manifest unchanged; 1 request")


def test_headers_per_kind_of_file(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any, proxy: FaultProxy
) -> None:
    cfg = config()
    publish(static_root, "staticfiles.json", cfg)
    paths = manifest_paths(static_root)

    def head(name: str) -> dict[str, Any]:
        response: dict[str, Any] = s3_client.head_object(
            Bucket=cfg.bucket_name, Key=f"static/{name}"
        )
        return response

    hashed_css = head(paths["css/app.css"])
    assert hashed_css["ContentType"] == "text/css; charset=utf-8"
    assert hashed_css["CacheControl"] == IMMUTABLE
    original_js = head("js/app.js")
    assert original_js["ContentType"] == "text/javascript; charset=utf-8"
    assert original_js["CacheControl"] == SHORT
    assert head(paths["img/logo.png"])["ContentType"] == "image/png"
    assert head(paths["fonts/icons.woff2"])["ContentType"] == "font/woff2"
    manifest = head("staticfiles.json")
    assert manifest["ContentType"] == "application/json"
    assert manifest["CacheControl"] == SHORT
    assert "ContentEncoding" not in hashed_css
    # No ACL unless configured: buckets with ACLs disabled reject any.
    assert not any("x-amz-acl" in request.headers for request in proxy.log)


def test_configured_cache_control_and_acl(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any, proxy: FaultProxy
) -> None:
    cfg = config(
        unhashed_cache_control="public, max-age=300",
        hashed_cache_control="public, max-age=86400",
        default_acl="public-read",
    )
    publish(static_root, "staticfiles.json", cfg)

    head = s3_client.head_object(Bucket=cfg.bucket_name, Key="static/css/app.css")
    assert head["CacheControl"] == "public, max-age=300"
    hashed = manifest_paths(static_root)["css/app.css"]
    head = s3_client.head_object(Bucket=cfg.bucket_name, Key=f"static/{hashed}")
    assert head["CacheControl"] == "public, max-age=86400"
    puts = [request for request in proxy.log if request.kind == "PUT"]
    assert puts and all(request.headers.get("x-amz-acl") == "public-read" for request in puts)


def test_encodings_are_uploaded_only_when_asked(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    plain = config()
    publish(static_root, "staticfiles.json", plain)
    assert not any(
        key.endswith((".br", ".gz")) for key in bucket_keys(s3_client, plain.bucket_name)
    )

    cfg = config(variants="static_root_and_bucket", location="with-encodings")
    publish(static_root, "staticfiles.json", cfg)
    keys = bucket_keys(s3_client, cfg.bucket_name, "with-encodings/")
    hashed = manifest_paths(static_root)["css/app.css"]
    for suffix, encoding in ((".br", "br"), (".gz", "gzip")):
        assert f"with-encodings/{hashed}{suffix}" in keys
        head = s3_client.head_object(Bucket=cfg.bucket_name, Key=f"with-encodings/{hashed}{suffix}")
        assert head["ContentEncoding"] == encoding
        assert head["ContentType"] == "text/css; charset=utf-8"
        assert head["CacheControl"] == IMMUTABLE
        head = s3_client.head_object(
            Bucket=cfg.bucket_name, Key=f"with-encodings/js/app.js{suffix}"
        )
        assert head["ContentType"] == "text/javascript; charset=utf-8"
        assert head["CacheControl"] == SHORT


def test_changed_build_uploads_new_hashed_files_changed_originals_and_the_manifest(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    root = tmp_path / "static"
    build_static(root, TREE)
    publish(root, "staticfiles.json", cfg)
    old_manifest = manifest_paths(root)
    (first_history,) = history(s3_client, cfg.bucket_name)

    build_static(root, {**TREE, "js/app.js": b"console.log('v2');\n"})
    proxy.clear()
    output = io.StringIO()
    result = publish(root, "staticfiles.json", cfg, stdout=output)

    new_hashed = manifest_paths(root)["js/app.js"]
    assert new_hashed != old_manifest["js/app.js"]
    puts = proxy.puts()
    # The new hashed copy and the changed original, in either order, then history and manifest.
    assert sorted(puts[:2]) == sorted([f"static/{new_hashed}", "static/js/app.js"])
    assert puts[3] == "static/staticfiles.json"
    assert puts[2].startswith("static/manifests/") and puts[2] > first_history
    assert proxy.counts() == {"LIST": 1, "PUT": 4}
    assert result.uploaded == 2
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/js/app.js")["Body"].read()
    assert body == b"console.log('v2');\n"
    # The old hashed copy stays for pages still referencing it, until prune.
    assert f"static/{old_manifest['js/app.js']}" in bucket_keys(s3_client, cfg.bucket_name)
    assert output.getvalue() == ""  # no progress bar when stdout is not a terminal


def test_hashed_copies_of_earlier_builds_left_in_static_root_are_not_published(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    root = tmp_path / "static"
    build_static(root, TREE)
    old = manifest_paths(root)["js/app.js"]
    build_static(root, {**TREE, "js/app.js": b"console.log('v2');\n"})
    assert (root / old).exists()
    cfg = config()

    publish(root, "staticfiles.json", cfg)

    keys = bucket_keys(s3_client, cfg.bucket_name)
    assert keys - set(history(s3_client, cfg.bucket_name)) == expected_keys(root)
    assert f"static/{old}" not in keys


def test_same_size_change_of_an_original_is_found_by_md5(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    cfg = config()
    root = build_static(tmp_path / "static", TREE)
    publish(root, "staticfiles.json", cfg)
    build_static(root, {**TREE, "js/app.js": b"console.log('APP');\n"})
    proxy.clear()

    publish(root, "staticfiles.json", cfg)

    assert "static/js/app.js" in proxy.puts()


def test_listing_takes_one_request_per_page_of_a_thousand_keys(
    static_root: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = config()
    publish(static_root, "staticfiles.json", cfg)
    proxy.clear()
    publish(static_root, "staticfiles.json", cfg)
    (listing,) = proxy.log
    assert "max-keys=1000" in listing.query

    # 12 keys (10 files, the manifest, its history copy) in pages of 5: 3 listing requests.
    monkeypatch.setattr(bucket_listing, "PAGE_SIZE", 5)
    proxy.clear()
    result = publish(static_root, "staticfiles.json", cfg)
    assert proxy.counts() == {"LIST": 3}
    assert result.present == 10


def test_multipart_original_is_compared_by_the_md5_in_its_metadata(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    big = bytes(range(256)) * (6 * 1024 * 4)  # 6 MiB, above a 5 MiB threshold
    cfg = config(multipart_threshold=5 * 1024 * 1024)
    root = build_static(tmp_path / "static", {"data/big.bin": big})
    publish(root, "staticfiles.json", cfg)
    head = s3_client.head_object(Bucket=cfg.bucket_name, Key="static/data/big.bin")
    assert "-" in head["ETag"]  # multipart: the ETag is no MD5
    assert head["CacheControl"] == SHORT
    proxy.clear()

    publish(root, "staticfiles.json", cfg)
    # The hashed copy exists; the original needs its metadata, nothing is uploaded.
    assert proxy.counts() == {"LIST": 1, "HEAD": 1}

    build_static(root, {"data/big.bin": big[:-1] + b"!"})
    proxy.clear()
    publish(root, "staticfiles.json", cfg)
    uploaded = {request.key for request in proxy.log if request.kind in {"PUT", "POST"}}
    assert "static/data/big.bin" in uploaded
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/data/big.bin")["Body"].read()
    assert body == big[:-1] + b"!"


def test_dry_run_prints_the_plan_and_writes_nothing(
    static_root: Path, config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    output = io.StringIO()
    result = publish(static_root, "staticfiles.json", cfg, dry_run=True, stdout=output)

    assert proxy.counts() == {"LIST": 1}
    assert bucket_keys(s3_client, cfg.bucket_name) == set()
    hashed = manifest_paths(static_root)["css/app.css"]
    lines = output.getvalue().splitlines()
    size = (static_root / hashed).stat().st_size
    assert f"upload static/{hashed} (new, {size} B)" in lines
    assert lines[-1] == "upload static/staticfiles.json (manifest new; after the files above)"
    assert result.summary().startswith(
        f"dry run of build {result.build} for s3://{cfg.bucket_name}/static: 10 to upload"
    )


def test_manifest_referencing_a_file_that_exists_nowhere_is_not_published(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    hashed = manifest_paths(static_root)["css/app.css"]
    (static_root / hashed).unlink()

    with pytest.raises(PublishError, match=rf"{hashed}; nothing was published"):
        publish(static_root, "staticfiles.json", cfg)
    assert bucket_keys(s3_client, cfg.bucket_name) == set()


def test_missing_local_manifest_is_a_clear_error(
    tmp_path: Path, config: Callable[..., S3Config]
) -> None:
    with pytest.raises(PublishError, match="run collectstatic before publishing"):
        publish(tmp_path, "staticfiles.json", config())


def test_a_static_directory_named_like_the_history_prefix_is_refused(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    root = build_static(tmp_path / "static", {**TREE, "manifests/site.webmanifest": b"{}"})
    clash = r"/static/manifests/site\.\S*webmanifest would be published where"
    with pytest.raises(PublishError, match=clash):
        publish(root, "staticfiles.json", config())
    assert proxy.log == []


def test_concurrent_syncs_of_the_same_build_end_consistent(
    static_root: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    import threading

    cfg = config()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            publish(static_root, "staticfiles.json", cfg)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    keys = bucket_keys(s3_client, cfg.bucket_name)
    assert keys - set(history(s3_client, cfg.bucket_name)) == expected_keys(static_root)
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/staticfiles.json")["Body"]
    assert body.read() == (static_root / "staticfiles.json").read_bytes()
    # And the bucket is complete: a third run has nothing to do.
    assert publish(static_root, "staticfiles.json", cfg).request_count == 1
