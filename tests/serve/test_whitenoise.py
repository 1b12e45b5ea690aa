"""WhiteNoise's middleware serving assetpipe's output, through a real WSGI server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from assetpipe.serve import whitenoise_mimetypes
from assetpipe.serve.whitenoise import immutable_file_test
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


@pytest.fixture(scope="module")
def whitenoise_as_documented(built_static: BuiltStatic) -> Iterator[str]:
    """WhiteNoise with the settings assetpipe's README recommends."""
    with (
        override_settings(
            **built_static.settings,
            MIDDLEWARE=["whitenoise.middleware.WhiteNoiseMiddleware"],
            WHITENOISE_MIMETYPES=whitenoise_mimetypes(),
            WHITENOISE_IMMUTABLE_FILE_TEST=immutable_file_test,
        ),
        running_wsgi(get_wsgi_application()) as url,
    ):
        yield url


@pytest.mark.parametrize(
    ("accept", "encoding"), [("br", "br"), ("gzip", "gzip"), ("identity", None)]
)
@pytest.mark.parametrize("name", ["app/css/site.css", "app/js/app.js", "admin/css/base.css"])
def test_any_origin_may_read_originals_and_variants(
    whitenoise_as_documented: str,
    built_static: BuiltStatic,
    name: str,
    accept: str,
    encoding: str | None,
) -> None:
    # Pages on another origin read the files (integrity + crossorigin, web fonts): WhiteNoise
    # allows every origin itself, whatever the storage's "cors" option says.
    for served in (name, built_static.manifest()[name]):
        headers = {"Accept-Encoding": accept, "Origin": "https://shop.example"}
        for method in ("GET", "HEAD"):
            response = fetch(whitenoise_as_documented, f"/static/{served}", headers, method)
            assert response.status == 200
            assert response.header("Content-Encoding") == encoding
            if method == "GET":
                assert response.decoded() == (built_static.root / served).read_bytes()
            assert response.header("Access-Control-Allow-Origin") == "*", (served, method)
            assert response.header("Vary") == "Accept-Encoding"

        first = fetch(whitenoise_as_documented, f"/static/{served}", headers)
        etag, last_modified = first.header("ETag"), first.header("Last-Modified")
        assert etag and last_modified
        for validator in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
            response = fetch(whitenoise_as_documented, f"/static/{served}", headers | validator)
            assert response.status == 304
            # WhiteNoise's 304 carries only Cache-Control, ETag, Vary (and Date, Expires,
            # Content-Location), not Access-Control-Allow-Origin. A browser or a CDN that
            # revalidates keeps the headers of the response it stored, which has it (RFC 9111,
            # 4.3.4), so the file stays readable cross-origin.
            assert response.header("Access-Control-Allow-Origin") is None
            assert response.header("ETag") == etag
            assert response.header("Vary") == "Accept-Encoding"


@pytest.mark.parametrize("autorefresh", [False, True])
def test_immutable_test_without_static_root(built_static: BuiltStatic, autorefresh: bool) -> None:
    # Development with finders and no STATIC_ROOT: there is no build, so nothing is immutable,
    # and asking the storage for its manifest must not fail the start-up or the request.
    settings = {
        **built_static.settings,
        "STATIC_ROOT": None,
        "MIDDLEWARE": ["assetpipe.serve.whitenoise.WhiteNoiseMiddleware"],
        "WHITENOISE_USE_FINDERS": True,
        "WHITENOISE_AUTOREFRESH": autorefresh,
        "WHITENOISE_IMMUTABLE_FILE_TEST": immutable_file_test,
    }
    with override_settings(**settings), running_wsgi(get_wsgi_application()) as url:
        response = fetch(url, "/static/app/css/site.css")
    assert response.status == 200
    assert response.body == (built_static.source / "app/css/site.css").read_bytes()
    assert response.header("Cache-Control") == "max-age=60, public"
