"""The images option reaches every server: the nginx configuration, the edge code and the
bucket, which an edge build fills with every format's key, each sent as what its bytes are."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from tests.build.images.pictures import photo, rgba_png
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])


def manage(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_nginx_configuration_negotiates_images_only_with_the_option(
    project: StaticProject, settings: Settings
) -> None:
    settings.STATIC_URL = "/static/"
    without = manage("assetpipe", "nginx")
    assert "$http_accept" not in without

    project.configure(images={})
    with_images = manage("assetpipe", "nginx")
    assert "$http_accept" in with_images and "image/avif" in with_images
    assert 'add_header Vary "Accept"' in with_images or "Vary Accept" in with_images


def test_an_edge_build_publishes_every_format_with_the_type_of_its_bytes(
    project: StaticProject,
    settings: Settings,
    make_bucket: Callable[[], str],
    s3_endpoint: str,
    s3_client: Any,
) -> None:
    project.write("img/hero.jpg", photo(480, 320))
    project.write("img/icon.png", rgba_png())
    bucket = make_bucket()
    project.configure(
        images={},
        cdn="cloudfront",
        s3={
            "bucket_name": bucket,
            "location": "static",
            "endpoint_url": s3_endpoint,
            "variants": "static_root_and_bucket",
        },
    )
    out, _ = project.collect()
    assert "published build" in out
    manifest = project.manifest()

    def head(name: str) -> dict[str, Any]:
        response: dict[str, Any] = s3_client.head_object(Bucket=bucket, Key=f"static/{name}")
        return response

    hero, icon = manifest["img/hero.jpg"], manifest["img/icon.png"]
    assert head(f"{hero}.avif")["ContentType"] == "image/avif"
    assert head(f"{hero}.webp")["ContentType"] == "image/webp"
    assert head(f"{icon}.webp")["ContentType"] == "image/webp"
    # A PNG gets lossless WebP only: its .avif, there for the edge, is the PNG itself.
    assert head(f"{icon}.avif")["ContentType"] == "image/png"
    assert "immutable" in head(f"{hero}.avif")["CacheControl"]

    # The CloudFront function picks them by Accept.
    edge = manage("assetpipe", "edge")
    assert '"images"' in edge and "image/avif" in edge
