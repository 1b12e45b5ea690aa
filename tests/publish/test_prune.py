"""prune(): only hashed objects under the location that no recent manifest references."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetpipe.publish import prune as prune_module
from assetpipe.publish.prune import prune
from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.publish.conftest import TREE, FaultProxy, bucket_keys, build_static


def app_js(version: int) -> dict[str, bytes]:
    return {**TREE, "js/app.js": f"console.log({version});\n".encode()}


def hashed_app_js(root: Path) -> str:
    name: str = json.loads((root / "staticfiles.json").read_bytes())["paths"]["js/app.js"]
    return f"static/{name}"


@pytest.fixture
def deploys(tmp_path: Path, config: Callable[..., S3Config]) -> list[str]:
    """Four deploys, each with another js/app.js; the hashed key of each, oldest first."""
    root = tmp_path / "static"
    keys = []
    for version in range(4):
        build_static(root, app_js(version))
        publish(root, "staticfiles.json", config())
        keys.append(hashed_app_js(root))
    return keys


def test_deletes_what_the_newest_manifests_do_not_reference(
    deploys: list[str], config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    before = bucket_keys(s3_client, cfg.bucket_name)
    proxy.clear()

    result = prune(cfg, keep=3, min_age=0)

    assert result.deleted == (deploys[0],)
    assert bucket_keys(s3_client, cfg.bucket_name) == before - {deploys[0]}
    # One listing, one GET per kept manifest (the live one is also the newest in history), one
    # of the older manifest that names the deleted object as its output, one DeleteObjects.
    assert proxy.counts() == {"LIST": 1, "GET": 4, "DELETE": 1}
    assert len(result.manifests) == 3


def test_keep_one_keeps_only_the_live_build(
    deploys: list[str], config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    result = prune(cfg, keep=1, min_age=0)
    assert sorted(result.deleted) == sorted(deploys[:3])
    assert deploys[3] in bucket_keys(s3_client, cfg.bucket_name)
    # Unhashed originals and the manifest history are never pruned.
    assert "static/js/app.js" in bucket_keys(s3_client, cfg.bucket_name)
    assert len(bucket_keys(s3_client, cfg.bucket_name, "static/manifests/")) == 4


def test_objects_younger_than_min_age_are_kept(
    deploys: list[str], config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    before = bucket_keys(s3_client, cfg.bucket_name)
    result = prune(cfg, keep=1, min_age=3600)
    assert result.deleted == ()
    # Every build was published within min-age: all four are kept, and their objects with them.
    assert [build.reasons[-1] for build in result.builds] == ["published within min-age"] * 4
    assert bucket_keys(s3_client, cfg.bucket_name) == before


def test_a_rolled_back_build_counts_once(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    root = tmp_path / "static"
    keys = []
    for version in (1, 2, 3, 1):  # 1 is deployed again: history has 1, 2, 3, 1
        build_static(root, app_js(version))
        publish(root, "staticfiles.json", cfg)
        keys.append(hashed_app_js(root))

    result = prune(cfg, keep=2, min_age=0)

    # The newest two builds are 1 (live) and 3; 2 goes.
    assert result.deleted == (keys[1],)


def test_nothing_outside_the_location_is_touched(
    deploys: list[str], config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    # Hashed-looking names everywhere but under static/.
    outside = {
        "media/customer-a/avatar.0123456789ab.jpg",
        "static-old/app.0123456789ab.js",
        "app.0123456789ab.css",
    }
    for key in outside:
        s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=b"keep me")

    result = prune(cfg, keep=1, min_age=0)

    assert result.deleted and all(key.startswith("static/") for key in result.deleted)
    assert outside <= bucket_keys(s3_client, cfg.bucket_name)


def test_deletes_in_batches_of_a_thousand(
    deploys: list[str],
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
    s3_client: Any,
) -> None:
    assert prune_module.DELETE_BATCH == 1000
    cfg = config()
    monkeypatch.setattr(prune_module, "DELETE_BATCH", 2)
    proxy.clear()
    result = prune(cfg, keep=1, min_age=0)
    assert len(result.deleted) == 3
    assert proxy.counts()["DELETE"] == 2
    assert not set(result.deleted) & bucket_keys(s3_client, cfg.bucket_name)


def test_dry_run_lists_and_deletes_nothing(
    deploys: list[str], config: Callable[..., S3Config], proxy: FaultProxy, s3_client: Any
) -> None:
    cfg = config()
    before = bucket_keys(s3_client, cfg.bucket_name)
    output = io.StringIO()
    proxy.clear()

    result = prune(cfg, keep=3, min_age=0, dry_run=True, stdout=output)

    assert bucket_keys(s3_client, cfg.bucket_name) == before
    assert "DELETE" not in proxy.counts()
    assert output.getvalue().startswith(f"delete {deploys[0]} (")
    assert result.summary().startswith(
        f"pruned s3://{cfg.bucket_name}/static: would delete 1 unreferenced objects"
    )


def test_refuses_an_empty_location(config: Callable[..., S3Config], proxy: FaultProxy) -> None:
    with pytest.raises(PublishError, match="'location' is empty"):
        prune(config(location=""), min_age=0)
    assert proxy.log == []


def test_refuses_a_bucket_without_manifests(
    config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    s3_client.put_object(Bucket=cfg.bucket_name, Key="static/app.0123456789ab.js", Body=b"")
    with pytest.raises(PublishError, match=r"no staticfiles\.json and no manifest history"):
        prune(cfg, min_age=0)
    assert "static/app.0123456789ab.js" in bucket_keys(s3_client, cfg.bucket_name)


def test_an_unhashed_name_that_looks_hashed_is_never_pruned(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    # jquery.0123456789ab.js is a source's own name: only its hashed copy is content-named.
    root = tmp_path / "static"
    lookalike = "js/jquery.0123456789ab.js"
    build_static(root, {**TREE, lookalike: b"window.jQuery = 1;\n"})
    publish(root, "staticfiles.json", config())
    hashed_copy = (
        "static/" + json.loads((root / "staticfiles.json").read_bytes())["paths"][lookalike]
    )
    build_static(root, dict(TREE))  # the next build no longer has it
    publish(root, "staticfiles.json", config())

    result = prune(config(), keep=1, min_age=0)

    keys = bucket_keys(s3_client, config().bucket_name)
    assert f"static/{lookalike}" in keys
    assert hashed_copy in result.deleted and hashed_copy not in keys
