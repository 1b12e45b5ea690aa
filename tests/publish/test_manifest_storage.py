"""App servers without STATIC_ROOT resolve {% static %} from the manifest in the bucket."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.base import ContentFile
from django.template import Context, Template
from pytest_django.fixtures import Settings

from assetpipe.publish.s3 import PublishError, S3Config, publish, remote_manifest_storage
from tests.publish.conftest import FaultProxy

STATIC = Template("{% load static %}{% static 'css/app.css' %} {% static 'js/app.js' %}")


def serve_from_bucket(settings: Settings, config: S3Config) -> None:
    settings.STATIC_ROOT = None
    settings.STATIC_URL = "https://cdn.example.com/static/"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {"manifest_storage": remote_manifest_storage(config)},
        },
    }


def test_static_tag_renders_hashed_names_from_the_bucket(
    static_root: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
) -> None:
    cfg = config(read_manifest_from_bucket=True)
    publish(static_root, "staticfiles.json", cfg)
    paths = json.loads((static_root / "staticfiles.json").read_bytes())["paths"]
    serve_from_bucket(settings, cfg)
    proxy.clear()

    rendered = STATIC.render(Context())
    STATIC.render(Context())

    assert rendered == (
        f"https://cdn.example.com/static/{paths['css/app.css']} "
        f"https://cdn.example.com/static/{paths['js/app.js']}"
    )
    # Read once per process, when the storage is first used.
    assert proxy.counts() == {"GET": 1}


def test_without_a_published_manifest_names_are_missing(
    config: Callable[..., S3Config], settings: Settings
) -> None:
    serve_from_bucket(settings, config())
    with pytest.raises(ValueError, match=r"Missing staticfiles manifest entry for 'css/app\.css'"):
        STATIC.render(Context())


def test_the_bucket_manifest_is_never_written_through_the_storage(
    config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    storage = remote_manifest_storage(config())
    assert not storage.exists("staticfiles.json")
    with pytest.raises(PublishError, match="written by publishing"):
        storage.save("staticfiles.json", ContentFile(b"{}"))
    assert "PUT" not in proxy.counts()


def test_access_denied_is_a_clear_error(
    config: Callable[..., S3Config], proxy: FaultProxy, settings: Settings
) -> None:
    from tests.publish.conftest import Respond

    cfg = config()
    proxy.rule = lambda request: Respond(403, "AccessDenied")
    serve_from_bucket(settings, cfg)
    with pytest.raises(PublishError, match=rf"reading s3://{cfg.bucket_name}/static/staticfiles"):
        staticfiles_storage.url("css/app.css")
