"""WhiteNoise's middleware serving assetpipe's output, through a real WSGI server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from tests.serve.conftest import BuiltStatic, running_wsgi
from tests.serve.fetch import fetch


@pytest.fixture(scope="module")
def whitenoise(built_static: BuiltStatic) -> Iterator[str]:
    # WhiteNoise reads STATIC_ROOT when the middleware is built and asks the storage whether a
    # name is hashed on each request, so the settings stay in force while the server runs.
    with (
        override_settings(
            **built_static.settings, MIDDLEWARE=["whitenoise.middleware.WhiteNoiseMiddleware"]
        ),
        running_wsgi(get_wsgi_application()) as url,
    ):
        yield url


@pytest.mark.parametrize("name", ["app/css/site.css", "app/js/app.js", "admin/css/base.css"])
def test_hashed_asset_is_brotli_encoded_and_immutable(
    whitenoise: str, built_static: BuiltStatic, name: str
) -> None:
    hashed = built_static.manifest()[name]
    response = fetch(whitenoise, f"/static/{hashed}", {"Accept-Encoding": "gzip, deflate, br"})
    assert response.status == 200
    assert response.header("Content-Encoding") == "br"
    assert response.decoded() == (built_static.root / hashed).read_bytes()
    assert response.header("Vary") == "Accept-Encoding"
    cache_control = response.header("Cache-Control") or ""
    assert "immutable" in cache_control
    assert "max-age=315360000" in cache_control


def test_unhashed_asset_has_short_max_age(whitenoise: str, built_static: BuiltStatic) -> None:
    response = fetch(whitenoise, "/static/app/css/site.css", {"Accept-Encoding": "br"})
    assert response.status == 200
    assert response.header("Content-Encoding") == "br"
    assert response.decoded() == (built_static.root / "app/css/site.css").read_bytes()
    assert response.header("Cache-Control") == "max-age=60, public"


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip", "gzip"), ("identity", None), (None, None)]
)
def test_other_encodings(
    whitenoise: str, built_static: BuiltStatic, accept: str | None, encoding: str | None
) -> None:
    hashed = built_static.manifest()["app/js/app.js"]
    response = fetch(whitenoise, f"/static/{hashed}", {"Accept-Encoding": accept} if accept else {})
    assert response.header("Content-Encoding") == encoding
    assert response.decoded() == (built_static.root / hashed).read_bytes()
    assert response.header("Content-Type") == 'text/javascript; charset="utf-8"'


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/.assetpipe/",
        "/static/../.assetpipe/",
    ],
)
def test_nothing_outside_static_root_is_served(whitenoise: str, path: str) -> None:
    # WhiteNoise serves every file inside STATIC_ROOT, which is why the build state lives beside it.
    assert fetch(whitenoise, path).status == 404
