"""Proof in a browser: chromium loads a page through real nginx (the generated configuration with
image formats) and fetches AVIF for a ``<picture>`` and for a CSS background image, while a
client that does not name AVIF or WebP gets the original bytes; ``Vary: Accept`` on all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import BuiltStatic, build_static, running_nginx
from tests.serve.fetch import fetch
from tests.serve.images.pictures import encode, photo, write_variants

pytestmark = [pytest.mark.browser, pytest.mark.nginx]


@dataclass(frozen=True)
class ImagePage:
    url: str  # nginx's base URL
    built: BuiltStatic
    picture: str  # hashed name of the <picture>'s JPEG
    banner: str  # hashed name of the CSS background's JPEG


@pytest.fixture(scope="module")
def image_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImagePage]:
    picture = photo(96, 64)
    built = build_static(
        tmp_path_factory.mktemp("image-page"),
        {
            "app/img/hero.jpg": encode(picture, "jpg"),
            "app/img/banner.jpg": encode(picture.rotate(180), "jpg"),
            "app/css/page.css": (
                b".banner { width: 96px; height: 64px;"
                b' background-image: url("../img/banner.jpg"); }\n'
            ),
        },
    )
    manifest = built.manifest()
    for name in ("app/img/hero.jpg", "app/img/banner.jpg"):
        write_variants(built.root / manifest[name])
    hero = manifest["app/img/hero.jpg"]
    # The page as {% static_picture %} would render it, written by hand.
    (built.site / "index.html").write_text(
        "<!doctype html><html><head>"
        f'<link rel="stylesheet" href="/static/{manifest["app/css/page.css"]}">'
        "</head><body>"
        f'<picture><source type="image/avif" srcset="/static/{hero}.avif">'
        f'<source type="image/webp" srcset="/static/{hero}.webp">'
        f'<img id="hero" src="/static/{hero}" width="96" height="64" alt="hero"></picture>'
        '<div class="banner" id="banner"></div>'
        "</body></html>\n"
    )
    snippet = render_snippet(static_site("/static/", built.root, image_formats=("avif", "webp")))

    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n root {built.site};\n{snippet}\n}}"

    with running_nginx(tmp_path_factory.mktemp("nginx-image-page"), server) as nginx:
        yield ImagePage(nginx.url, built, hero, manifest["app/img/banner.jpg"])


def test_chromium_fetches_avif_for_the_picture_and_the_css_background(
    image_page: ImagePage, chromium: Any
) -> None:
    picture_url, banner_url = f"/static/{image_page.picture}.avif", f"/static/{image_page.banner}"
    context = chromium.new_context()
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    try:
        page.goto(image_page.url + "/", wait_until="load")
        page.wait_for_function(
            "() => performance.getEntriesByType('resource').some(e => e.name.includes('/banner.'))"
        )
        timing = page.evaluate(
            "() => performance.getEntriesByType('resource').map(e => ({"
            "name: new URL(e.name).pathname, initiator: e.initiatorType}))"
        )
        hero = page.evaluate(
            "() => { const img = document.getElementById('hero');"
            " return {src: new URL(img.currentSrc).pathname, width: img.naturalWidth}; }"
        )
        background = page.evaluate(
            "() => getComputedStyle(document.getElementById('banner')).backgroundImage"
        )
        # Read while the page is open: what chromium asked for and what nginx answered.
        seen = {
            response.url.removeprefix(image_page.url): {
                "status": response.status,
                "type": response.header_value("content-type"),
                "vary": response.header_value("vary"),
                "accept": response.request.header_value("accept") or "",
                "body": response.body(),
            }
            for response in responses
            if response.url.removeprefix(image_page.url) in (picture_url, banner_url)
        }
    finally:
        context.close()
    # <picture>: the browser chose the AVIF source by its type, and decoded it.
    assert hero == {"src": picture_url, "width": 96}
    # The CSS background: the JPEG's own URL, which nginx answered with the AVIF.
    assert banner_url in background
    fetched = {entry["name"]: entry["initiator"] for entry in timing}
    assert (fetched[picture_url], fetched[banner_url]) == ("img", "css")
    assert f"/static/{image_page.picture}" not in fetched  # the JPEG fallback was never fetched
    root = image_page.built.root
    stored = {
        picture_url: root / f"{image_page.picture}.avif",
        banner_url: root / f"{image_page.banner}.avif",
    }
    for path, file in stored.items():
        assert seen[path]["status"] == 200
        assert seen[path]["type"] == "image/avif", path
        assert "image/avif" in seen[path]["accept"], path
        assert seen[path]["body"] == file.read_bytes(), path
    assert seen[banner_url]["vary"] == "Accept"


@pytest.mark.parametrize("accept", [None, "*/*", "image/avif;q=0,image/*"])
def test_a_client_that_names_neither_format_gets_the_original(
    image_page: ImagePage, accept: str | None
) -> None:
    for name in (image_page.picture, image_page.banner):
        response = fetch(image_page.url, f"/static/{name}", {"Accept": accept} if accept else {})
        assert response.status == 200
        assert response.header("Content-Type") == "image/jpeg"
        assert response.body == Path(image_page.built.root / name).read_bytes()
        assert response.header("Vary") == "Accept"
