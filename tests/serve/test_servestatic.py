"""ServeStatic's ASGI middleware serving assetpipe's output, under uvicorn on loopback: the same
header checks as nginx and WhiteNoise (immutable names, encodings, media types)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.asgi import get_asgi_application
from django.test import override_settings

from assetpipe.headers import content_type
from assetpipe.serve.servestatic import servestatic_mimetypes
from tests.serve.conftest import BuiltStatic, build_static, running_asgi
from tests.serve.fetch import fetch

IMMUTABLE = "max-age=315360000, public, immutable"
SHORT = "max-age=60, public"
PREHASHED = "app/assets/main-BV5bdbg-.js"
OURS = "assetpipe.serve.servestatic.ServeStaticMiddleware"


def url(name: str) -> str:
    return "/static/" + quote(name)


def servestatic_settings(built: BuiltStatic) -> dict[str, Any]:
    """The settings the how-to recommends, over the build's own."""
    return {
        **built.settings,
        "MIDDLEWARE": [OURS],
        "SERVESTATIC_MIMETYPES": servestatic_mimetypes(),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltStatic:
    """The serving tests' tree and Django admin's, with one prehashed bundler output."""
    base = tmp_path_factory.mktemp("servestatic")
    extra = {PREHASHED: b"export const main = 1;\n" * 100}
    return build_static(base, extra, options={"prehashed": ["app/assets/*-[hash].js"]})


@pytest.fixture(scope="module")
def servestatic(built: BuiltStatic) -> Iterator[str]:
    with (
        override_settings(**servestatic_settings(built)),
        running_asgi(get_asgi_application()) as url,
    ):
        yield url


def test_every_hashed_and_prehashed_name_is_immutable(servestatic: str, built: BuiltStatic) -> None:
    manifest = built.manifest()
    assert manifest[PREHASHED] == PREHASHED
    assert any(name.startswith("admin/") for name in manifest)
    for original, served in manifest.items():
        response = fetch(servestatic, url(served), {"Accept-Encoding": "br"})
        assert response.status == 200, served
        assert response.header("Cache-Control") == IMMUTABLE, served
        if served != original:
            response = fetch(servestatic, url(original), {"Accept-Encoding": "br"})
            assert response.status == 200, original
            assert response.header("Cache-Control") == SHORT, original


def test_an_unhashed_lookalike_is_not_immutable(servestatic: str) -> None:
    response = fetch(servestatic, "/static/app/lib.deadbeefcafe.css")
    assert response.status == 200
    assert response.header("Cache-Control") == SHORT


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("identity", None)]
)
@pytest.mark.parametrize("name", ["app/css/site.css", "app/js/app.js", "admin/css/base.css"])
def test_variants_are_negotiated(
    servestatic: str, built: BuiltStatic, name: str, accept: str, encoding: str | None
) -> None:
    for served in (name, built.manifest()[name]):
        response = fetch(servestatic, f"/static/{served}", {"Accept-Encoding": accept})
        assert response.status == 200
        assert response.header("Content-Encoding") == encoding, (served, accept)
        assert response.decoded() == (built.root / served).read_bytes()
        assert response.header("Vary") == "Accept-Encoding"


def parsed(value: str | None) -> tuple[str, str | None]:
    """A ``Content-Type`` as (media type, charset): ``charset="utf-8"`` is ``charset=utf-8``."""
    message = Message()
    message["Content-Type"] = value or ""
    charset = message.get_param("charset")
    return message.get_content_type(), charset if isinstance(charset, str) else None


@pytest.mark.parametrize(
    "name",
    [
        "app/css/site.css",
        "app/js/app.js",
        PREHASHED,
        "app/ünïcode name.txt",
        "app/img/logo.svg",
        "app/img/dot.png",
        "app/data/info.json",
        "admin/js/core.js",
    ],
)
def test_content_type_as_nginx_and_s3_send_it(
    servestatic: str, built: BuiltStatic, name: str
) -> None:
    for served in (name, built.manifest()[name]):
        for accept in ("br", "gzip", "identity"):
            response = fetch(servestatic, url(served), {"Accept-Encoding": accept})
            assert response.status == 200
            sent = parsed(response.header("Content-Type"))
            assert sent == parsed(content_type(served)), (served, accept)


@pytest.mark.parametrize("path", ["/static/../secret.txt", "/static/%2e%2e/secret.txt"])
def test_nothing_outside_static_root_is_served(servestatic: str, path: str) -> None:
    assert fetch(servestatic, path).status == 404


def test_stock_middleware_misses_prehashed_names(built: BuiltStatic, tmp_path: Path) -> None:
    # Why assetpipe's subclass: ServeStatic's own test knows only Django's hashed spelling.
    settings = servestatic_settings(built)
    settings["MIDDLEWARE"] = ["servestatic.middleware.ServeStaticMiddleware"]
    with override_settings(**settings), running_asgi(get_asgi_application()) as url:
        response = fetch(url, f"/static/{PREHASHED}")
    assert response.status == 200
    assert response.header("Cache-Control") == SHORT
