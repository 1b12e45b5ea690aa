"""Bundler builds published to a moto S3 server: immutable objects, pruned once no build keeps
them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from assetpipe.naming import looks_hashed, split_variant
from assetpipe.publish.prune import prune
from assetpipe.publish.s3 import S3Config, publish
from tests.bundlers.conftest import vite_build


def collect(dist: Path, root: Path, **extra: Any) -> set[str]:
    """Collect one bundler build into ``root``; the prehashed names the manifest records."""
    settings = {
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(dist)],
        "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage"},
        },
        **extra,
    }
    with override_settings(**settings):
        call_command("collectstatic", interactive=False, verbosity=0, clear=True)
    return set(json.loads((root / "staticfiles.json").read_bytes())["prehashed"])


def keys(s3_client: Any, bucket: str) -> set[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="static/").get("Contents", [])
    return {item["Key"].removeprefix("static/") for item in listed}


@pytest.mark.django_db(databases=[])
def test_old_bundle_files_are_pruned_after_keep_builds(
    tmp_path_factory: pytest.TempPathFactory,
    s3_endpoint: str,
    s3_client: Any,
    make_bucket: Callable[[], str],
) -> None:
    config = S3Config.from_options(
        {"bucket_name": make_bucket(), "location": "static", "endpoint_url": s3_endpoint}
    )
    root = tmp_path_factory.mktemp("publish") / "static"
    builds: list[set[str]] = []
    for version in range(3):
        dist = vite_build(
            "vite8", tmp_path_factory.mktemp(f"v{version}"), main_suffix=f"count('v{version}');\n"
        )
        builds.append(collect(dist, root))
        publish(root, "staticfiles.json", config)

    # Each build's entry and lazy chunk are new; the images and fonts are the same files.
    only_first = builds[0] - builds[1] - builds[2]
    assert only_first and builds[0] & builds[1] & builds[2]
    entry = min(name for name in builds[2] if name.startswith("assets/main-"))
    head = s3_client.head_object(Bucket=config.bucket_name, Key=f"static/{entry}")
    assert head["CacheControl"] == config.hashed_cache_control

    result = prune(config, keep=2, min_age=0)

    remaining = keys(s3_client, config.bucket_name)
    deleted = {split_variant(key.removeprefix("static/"))[0] for key in result.deleted}
    assert only_first <= deleted
    # Besides those, only Django-hashed copies (the old Vite manifest's).
    assert all(looks_hashed(name) for name in deleted - only_first)
    assert not remaining & only_first
    assert builds[1] | builds[2] <= remaining

    # Once the history is down to what it keeps, another prune finds nothing more.
    assert prune(config, keep=2, min_age=0).deleted == ()


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize("bundler", ["webpack", "esbuild"])
def test_every_output_is_uploaded_immutable(
    tmp_path: Path,
    builds: Callable[..., Path],
    s3_endpoint: str,
    s3_client: Any,
    make_bucket: Callable[[], str],
    bundler: str,
) -> None:
    # No prehashed option: webpack-bundle-tracker's stats (STATS_FILE), esbuild's metafile.
    if bundler == "webpack":
        dist = builds("webpack")
        stats = str(dist.parent / "webpack-stats.json")
        loader = {"DEFAULT": {"BUNDLE_DIR_NAME": "bundles/", "STATS_FILE": stats}}
        prehashed = collect(dist, tmp_path / "static", WEBPACK_LOADER=loader)
    else:
        dist = builds("esbuild", metafile=True)
        prehashed = collect(dist, tmp_path / "static")
    written = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()} - {
        "bundles/meta.json"
    }
    assert prehashed == written
    config = S3Config.from_options(
        {"bucket_name": make_bucket(), "location": "static", "endpoint_url": s3_endpoint}
    )
    publish(tmp_path / "static", "staticfiles.json", config)
    for name in written:
        head = s3_client.head_object(Bucket=config.bucket_name, Key=f"static/{name}")
        assert head["CacheControl"] == config.hashed_cache_control, name
    assert keys(s3_client, config.bucket_name) >= written
