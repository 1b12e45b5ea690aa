"""Image variants through the generated nginx configuration, on a real nginx: the variant a
browser's ``Accept`` names, the original for any other client, ``Vary: Accept`` on every
raster image response, and nothing else changed."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assetpipe.conf.edge import CorsConfig
from assetpipe.headers import IMMUTABLE_CACHE_CONTROL as IMMUTABLE
from assetpipe.headers import media_type
from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import BuiltStatic, NginxServer, build_static, running_nginx
from tests.serve.fetch import Response, fetch
from tests.serve.images.pictures import (
    BROWSER_ACCEPTS,
    REFUSING_ACCEPTS,
    encode,
    photo,
    write_variants,
)

pytestmark = pytest.mark.nginx

SHORT = "public, max-age=60"
FORMATS = ("avif", "webp")
CHROME = BROWSER_ACCEPTS["Chrome"][0]
ACCEPTS = {**BROWSER_ACCEPTS, **REFUSING_ACCEPTS}
TYPES = {"avif": "image/avif", "webp": "image/webp", None: "image/jpeg"}


@dataclass(frozen=True)
class ImageSite:
    built: BuiltStatic
    nginx: NginxServer
    photo: str  # the hashed name of app/img/photo.jpg: every variant
    icon: str  # of app/img/icon.png: a WebP only, as when the AVIF encode was not smaller
    still: str  # of app/img/still.gif: none

    def get(self, name: str, accept: str | None = None, **headers: str) -> Response:
        if accept is not None:
            headers["Accept"] = accept
        return fetch(self.nginx.url, "/static/" + name, headers)


def image_tree() -> dict[str, bytes]:
    picture = photo()
    return {
        "app/img/photo.jpg": encode(picture, "jpg"),
        "app/img/icon.png": encode(picture.resize((24, 16)), "png"),
        "app/img/still.gif": encode(picture.convert("P"), "gif"),
        # An original spelled like a hashed name: negotiated, but not immutable.
        "app/img/pic.deadbeefcafe.png": encode(picture.resize((12, 8)), "png"),
        "app/css/hero.css": b'.hero { background-image: url("../img/photo.jpg"); }\n',
    }


def serve(
    built: BuiltStatic, prefix: Path, cors: CorsConfig | None = None
) -> Iterator[NginxServer]:
    site = static_site("/static/", built.root, cors=cors, image_formats=FORMATS)
    snippet = render_snippet(site)

    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n root {built.site};\n{snippet}\n}}"

    with running_nginx(prefix, server) as nginx:
        yield nginx


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageSite]:
    built = build_static(tmp_path_factory.mktemp("images"), image_tree())
    manifest = built.manifest()
    for name in ("app/img/photo.jpg", "app/img/pic.deadbeefcafe.png"):
        for served in (name, manifest[name]):
            write_variants(built.root / served)
    for served in ("app/img/icon.png", manifest["app/img/icon.png"]):
        write_variants(built.root / served, ("webp",))
    for nginx in serve(built, tmp_path_factory.mktemp("nginx-images")):
        yield ImageSite(
            built,
            nginx,
            manifest["app/img/photo.jpg"],
            manifest["app/img/icon.png"],
            manifest["app/img/still.gif"],
        )


@pytest.mark.parametrize(("accept", "chosen"), ACCEPTS.values(), ids=ACCEPTS.keys())
def test_each_client_gets_the_format_its_accept_names(
    images: ImageSite, accept: str | None, chosen: str | None
) -> None:
    for name, cache_control in ((images.photo, IMMUTABLE), ("app/img/photo.jpg", SHORT)):
        response = images.get(name, accept)
        assert response.status == 200
        served = name if chosen is None else f"{name}.{chosen}"
        assert response.body == (images.built.root / served).read_bytes(), name
        assert response.header("Content-Type") == TYPES[chosen]
        assert response.header("Vary") == "Accept"
        assert response.header("Cache-Control") == cache_control
        assert response.header("X-Content-Type-Options") == "nosniff"
        assert response.header("Content-Encoding") is None


def test_a_variant_the_build_did_not_write_is_skipped_for_the_next_then_the_original(
    images: ImageSite,
) -> None:
    root = images.built.root
    chrome = images.get(images.icon, CHROME)
    assert (chrome.header("Content-Type"), chrome.header("Vary")) == ("image/webp", "Accept")
    assert chrome.body == (root / f"{images.icon}.webp").read_bytes()
    avif_only = images.get(images.icon, "image/avif,*/*")
    assert (avif_only.header("Content-Type"), avif_only.body) == (
        "image/png",
        (root / images.icon).read_bytes(),
    )
    gif = images.get(images.still, CHROME)
    assert (gif.status, gif.header("Content-Type"), gif.header("Vary")) == (
        200,
        "image/gif",
        "Accept",
    )
    assert gif.header("Cache-Control") == IMMUTABLE


def test_vary_accept_on_revalidations_and_missing_images(images: ImageSite) -> None:
    first = images.get(images.photo, CHROME)
    etag = first.header("ETag")
    assert etag is not None
    again = images.get(images.photo, CHROME, **{"If-None-Match": etag})
    assert (again.status, again.header("Vary")) == (304, "Accept")
    # The AVIF's validator does not match the JPEG a plain client gets.
    plain = images.get(images.photo, "*/*", **{"If-None-Match": etag})
    assert (plain.status, plain.header("Content-Type")) == (200, "image/jpeg")
    for name in ("app/img/missing.jpg", "app/img/missing.0123456789ab.PNG"):
        missing = images.get(name, CHROME)
        assert (missing.status, missing.header("Vary")) == (404, "Accept")


def test_a_variant_asked_for_by_its_name_is_served_as_it_is(images: ImageSite) -> None:
    for name, cache_control in ((images.photo, IMMUTABLE), ("app/img/photo.jpg", SHORT)):
        for image_format in FORMATS:
            response = images.get(f"{name}.{image_format}", "*/*")
            assert response.status == 200
            assert response.header("Content-Type") == media_type(f"x.{image_format}")
            assert response.header("Cache-Control") == cache_control, name
            assert response.header("Vary") is None


def test_an_unhashed_name_that_looks_hashed_is_negotiated_but_not_immutable(
    images: ImageSite,
) -> None:
    name = "app/img/pic.deadbeefcafe.png"
    response = images.get(name, CHROME)
    assert (response.header("Content-Type"), response.header("Vary")) == ("image/avif", "Accept")
    assert response.header("Cache-Control") == SHORT
    own = images.get(f"{name}.webp", CHROME)
    assert (own.header("Content-Type"), own.header("Cache-Control")) == ("image/webp", SHORT)


def test_other_files_negotiate_their_encodings_as_before(images: ImageSite) -> None:
    css = images.built.manifest()["app/css/site.css"]
    response = images.get(css, "text/css,*/*;q=0.1", **{"Accept-Encoding": "br"})
    assert response.header("Content-Encoding") == "br"
    assert response.header("Vary") == "Accept-Encoding"
    assert response.header("Cache-Control") == IMMUTABLE
    # SVG is not a raster image: it keeps its precompressed variants and does not vary on Accept.
    svg = images.get("admin/img/search.svg", CHROME, **{"Accept-Encoding": "gzip"})
    assert (svg.header("Content-Type"), svg.header("Content-Encoding")) == ("image/svg+xml", "gzip")
    assert svg.header("Vary") == "Accept-Encoding"


def test_cors_headers_stay_on_image_responses(
    images: ImageSite, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cors = CorsConfig(origins=("https://shop.example",))
    for nginx in serve(images.built, tmp_path_factory.mktemp("nginx-images-cors"), cors):
        for name in (images.photo, "app/img/photo.jpg", f"{images.photo}.avif", images.icon):
            headers = {"Accept": CHROME, "Origin": "https://shop.example"}
            response = fetch(nginx.url, "/static/" + name, headers)
            assert response.status == 200
            assert response.header("Access-Control-Allow-Origin") == "https://shop.example"
        missing = fetch(nginx.url, "/static/app/img/missing.jpg", headers)
        assert missing.header("Access-Control-Allow-Origin") == "https://shop.example"
        assert "Accept" in missing.headers.get_all("Vary", [])


def test_without_image_formats_nothing_changes_and_with_them_lines_are_only_added(
    built_static: BuiltStatic,
) -> None:
    plain = render_snippet(static_site("/static/", built_static.root))
    assert plain == render_snippet(static_site("/static/", built_static.root, image_formats=()))
    for marker in ("assetpipe_image", "try_files", "Vary Accept", "avif", "webp"):
        assert marker not in plain.replace("image/avif avif", "").replace("image/webp webp", "")
    with_images = render_snippet(static_site("/static/", built_static.root, image_formats=FORMATS))
    removed = [
        line
        for line in difflib.ndiff(plain.splitlines(), with_images.splitlines())
        if line.startswith("- ")
    ]
    assert removed == []
    with pytest.raises(ValueError, match="unknown image format 'jxl'"):
        static_site("/static/", built_static.root, image_formats=("jxl",))
