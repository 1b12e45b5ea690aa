"""Pinned reads (``manifest_digest``) and the builds prune keeps for pinned servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.template import Context, Template
from pytest_django.fixtures import Settings

from assetpipe.publish.history import build_id
from assetpipe.publish.prune import prune
from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.publish.conftest import TREE, FaultProxy, bucket_keys, build_static
from tests.publish.md5_prefix import FORGED, LEGIT, LEGIT_JS, legit_build

STATIC = Template("{% load static %}{% static 'js/app.js' %}")


def app_js(version: int) -> dict[str, bytes]:
    return {**TREE, "js/app.js": f"console.log({version});\n".encode()}


def publish_versions(root: Path, cfg: S3Config, versions: range) -> list[tuple[str, str]]:
    """Publish each version in turn; (build id, hashed js/app.js) of each."""
    builds = []
    for version in versions:
        build_static(root, app_js(version))
        publish(root, "staticfiles.json", cfg)
        manifest = (root / "staticfiles.json").read_bytes()
        builds.append((build_id(manifest), json.loads(manifest)["paths"]["js/app.js"]))
    return builds


def pin(settings: Settings, cfg: S3Config, digest: str) -> None:
    """App server settings: AssetPipeStorage without STATIC_ROOT, reading build ``digest``."""
    settings.STATIC_ROOT = None
    settings.STATIC_URL = "https://cdn.example.com/static/"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {
                "s3": {
                    "bucket_name": cfg.bucket_name,
                    "location": "static",
                    "endpoint_url": cfg.endpoint_url,
                    "read_manifest_from_bucket": True,
                    "manifest_digest": digest,
                }
            },
        },
    }


def test_a_pinned_process_renders_its_build_after_newer_ones_are_live(
    tmp_path: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
) -> None:
    cfg = config()
    (v1, v1_js), _v2, _v3 = publish_versions(tmp_path / "static", cfg, range(1, 4))
    pin(settings, cfg, v1)
    proxy.clear()

    assert STATIC.render(Context()) == f"https://cdn.example.com/static/{v1_js}"
    STATIC.render(Context())
    # Once per process: one listing of manifests/ finds the copy, one GET reads it.
    assert proxy.counts() == {"LIST": 1, "GET": 1}
    assert proxy.log[0].kind == "LIST" and "manifests" in proxy.log[0].query


def test_an_unknown_digest_fails_when_the_storage_loads(
    tmp_path: Path, config: Callable[..., S3Config], settings: Settings
) -> None:
    cfg = config()
    builds = publish_versions(tmp_path / "static", cfg, range(1, 8))
    pin(settings, cfg, "0123456789ab")

    with pytest.raises(ImproperlyConfigured) as failure:
        storages["staticfiles"]  # builds the storage, which reads the manifest

    message = str(failure.value)
    assert f"['manifest_digest'] is '0123456789ab', but s3://{cfg.bucket_name}/static" in message
    assert "static/manifests/<time>-0123456789ab.json" in message
    # The newest five builds, newest first.
    named = [digest for digest, _ in reversed(builds)]
    positions = [message.index(digest) for digest in named[:5]]
    assert positions == sorted(positions)
    assert all(digest not in message for digest in named[5:])


def test_without_a_digest_the_live_manifest_is_read(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, settings: Settings
) -> None:
    cfg = config()
    *_, (_v2, v2_js) = publish_versions(tmp_path / "static", cfg, range(1, 3))
    pin(settings, cfg, "0123456789ab")
    settings.STORAGES["staticfiles"]["OPTIONS"]["s3"]["manifest_digest"] = None
    proxy.clear()
    assert STATIC.render(Context()) == f"https://cdn.example.com/static/{v2_js}"
    assert proxy.counts() == {"GET": 1}


@pytest.mark.parametrize("value", ["", "0123456789AB", "0123456789a", 123, "0123456789abc"])
def test_the_digest_must_be_a_build_id(config: Callable[..., S3Config], value: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match=r'\["manifest_digest"\] is .*build id'):
        config(manifest_digest=value)


def test_a_history_copy_changed_after_publishing_is_refused(
    tmp_path: Path, config: Callable[..., S3Config], settings: Settings, s3_client: Any
) -> None:
    cfg = config()
    ((v1, _),) = publish_versions(tmp_path / "static", cfg, range(1, 2))
    (key,) = bucket_keys(s3_client, cfg.bucket_name, "static/manifests/")
    s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=b'{"paths": {}}')
    pin(settings, cfg, v1)
    with pytest.raises(PublishError, match=f"does not hold build {v1}"):
        storages["staticfiles"]  # builds the storage, which reads the manifest


def test_prune_keeps_a_build_named_with_keep_build(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    builds = publish_versions(tmp_path / "static", cfg, range(1, 5))
    (v1, v1_js), (_, v2_js), (_, v3_js), (v4, _v4_js) = builds

    result = prune(cfg, keep=1, min_age=0, keep_builds=[v1])

    assert sorted(result.deleted) == sorted([f"static/{v2_js}", f"static/{v3_js}"])
    assert f"static/{v1_js}" in bucket_keys(s3_client, cfg.bucket_name)
    assert [(build.digest, build.reasons) for build in result.builds] == [
        (v4, ("live", "among the newest 1")),
        (v1, ("named with --keep-build",)),
    ]


def test_prune_refuses_an_unknown_keep_build(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    cfg = config()
    publish_versions(tmp_path / "static", cfg, range(1, 3))
    proxy.clear()
    with pytest.raises(PublishError, match="has no build 0123456789ab to keep"):
        prune(cfg, keep=1, min_age=0, keep_builds=["0123456789ab"])
    assert "DELETE" not in proxy.counts()


def test_prune_keeps_builds_published_within_min_age(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    publish_versions(tmp_path / "static", cfg, range(1, 4))
    # An object no build references (an upload whose manifest never went live) is kept by age.
    s3_client.put_object(Bucket=cfg.bucket_name, Key="static/js/old.0123456789ab.js", Body=b"")
    result = prune(cfg, keep=1, min_age=3600)
    assert result.deleted == ()
    assert len(result.builds) == 3
    assert result.too_young == 1


def test_a_copy_that_only_shares_the_build_ids_digits_is_refused(
    tmp_path: Path, config: Callable[..., S3Config], settings: Settings, s3_client: Any
) -> None:
    assert build_id(FORGED) == build_id(LEGIT) and FORGED != LEGIT
    cfg = config()
    publish(legit_build(tmp_path / "static"), "staticfiles.json", cfg)
    (key,) = bucket_keys(s3_client, cfg.bucket_name, "static/manifests/")
    s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=FORGED)
    pin(settings, cfg, build_id(LEGIT))

    with pytest.raises(PublishError, match=f"does not hold build {build_id(LEGIT)}"):
        storages["staticfiles"]  # builds the storage, which reads the manifest


def test_a_copy_named_the_old_way_does_not_stand_in_for_a_verifiable_one(
    tmp_path: Path, config: Callable[..., S3Config], settings: Settings, s3_client: Any
) -> None:
    """A newer copy named as before the SHA-256 was recorded, planted with bytes that match
    the build id: the copy that records the SHA-256 is the one read."""
    cfg = config()
    publish(legit_build(tmp_path / "static"), "staticfiles.json", cfg)
    planted = f"static/manifests/29991231T000000000000Z-{build_id(LEGIT)}.json"
    s3_client.put_object(Bucket=cfg.bucket_name, Key=planted, Body=FORGED)
    pin(settings, cfg, build_id(LEGIT))

    assert STATIC.render(Context()) == f"https://cdn.example.com/static/{LEGIT_JS}"


def test_a_build_with_only_a_copy_named_the_old_way_is_still_read(
    tmp_path: Path, config: Callable[..., S3Config], settings: Settings, s3_client: Any
) -> None:
    """History written before this format: its copies are read, checked by the build id."""
    cfg = config()
    old = f"static/manifests/20260101T000000000000Z-{build_id(LEGIT)}.json"
    s3_client.put_object(Bucket=cfg.bucket_name, Key=old, Body=LEGIT)
    pin(settings, cfg, build_id(LEGIT))

    assert STATIC.render(Context()) == f"https://cdn.example.com/static/{LEGIT_JS}"
