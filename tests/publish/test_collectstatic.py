"""End to end: collectstatic with AssetPipeStorage and ``s3`` set builds, then publishes."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.template import Context, Template
from pytest_django.fixtures import Settings

from assetpipe.publish.s3 import S3Config
from tests.publish.conftest import TREE, FaultProxy, bucket_keys

STORAGE = "assetpipe.storage.AssetPipeStorage"


def s3_options(config: S3Config, **overrides: Any) -> dict[str, Any]:
    return {
        "bucket_name": config.bucket_name,
        "location": config.location,
        "endpoint_url": config.endpoint_url,
        **overrides,
    }


def use_source_tree(tmp_path: Path, settings: Settings) -> None:
    source = tmp_path / "source"
    for name, data in TREE.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = str(tmp_path / "static")


def test_collectstatic_publishes_and_a_no_change_run_sends_one_request(
    tmp_path: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
    s3_client: Any,
) -> None:
    cfg = config()
    use_source_tree(tmp_path, settings)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": STORAGE, "OPTIONS": {"s3": s3_options(cfg)}},
    }

    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())

    manifest = (tmp_path / "static" / "staticfiles.json").read_bytes()
    paths = json.loads(manifest)["paths"]
    keys = bucket_keys(s3_client, cfg.bucket_name)
    assert {f"static/{name}" for name in paths.values()} <= keys
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/staticfiles.json")["Body"]
    assert body.read() == manifest
    assert proxy.puts()[-1] == "static/staticfiles.json"

    proxy.clear()
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    # The build the last publish made live: one conditional HEAD shows it is live still.
    assert proxy.counts() == {"HEAD": 1}


def test_app_server_without_static_root_renders_from_the_bucket(
    static_root: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
) -> None:
    from assetpipe.publish.s3 import publish

    cfg = config()
    publish(static_root, "staticfiles.json", cfg)
    paths = json.loads((static_root / "staticfiles.json").read_bytes())["paths"]
    settings.STATIC_ROOT = None
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": STORAGE,
            "OPTIONS": {"s3": s3_options(cfg, read_manifest_from_bucket=True)},
        },
    }
    proxy.clear()

    rendered = Template("{% load static %}{% static 'css/app.css' %}").render(Context())

    assert rendered == f"/static/{paths['css/app.css']}"
    assert proxy.counts() == {"GET": 1}


def test_build_server_with_the_bucket_manifest_option_builds_and_publishes(
    tmp_path: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
    s3_client: Any,
) -> None:
    """One settings file for builders and app servers: the build writes its manifest locally."""
    cfg = config()
    use_source_tree(tmp_path, settings)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": STORAGE,
            "OPTIONS": {"s3": s3_options(cfg, read_manifest_from_bucket=True)},
        },
    }

    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())

    manifest = (tmp_path / "static" / "staticfiles.json").read_bytes()
    body = s3_client.get_object(Bucket=cfg.bucket_name, Key="static/staticfiles.json")["Body"]
    assert body.read() == manifest
    paths = json.loads(manifest)["paths"]
    assert {f"static/{name}" for name in paths.values()} <= bucket_keys(s3_client, cfg.bucket_name)
