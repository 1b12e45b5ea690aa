"""A sub-path deploy: the app under a script name (``FORCE_SCRIPT_NAME = "/prefix"``, STATIC_URL
``"/prefix/static/"``), as WhiteNoise's and ServeStatic's own suites deploy theirs.

Both middlewares match requests on the path below the script name (``/static/...``) and hand the
immutable-file test that path; every content-named file must still be cached for ever, under
WSGI (a front server moves the prefix into SCRIPT_NAME) and ASGI (Django strips it itself). The
page's tags and preload links carry the prefix, and nginx, configured from the same settings,
serves the prefixed URLs from disk with the same caching.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import pytest
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import override_settings
from django.urls import path

from assetpipe.headers import IMMUTABLE_CACHE_CONTROL, short_cache_control
from assetpipe.serve import servestatic_mimetypes, whitenoise_mimetypes
from assetpipe.serve.nginx import render_server, static_site
from assetpipe.serve.whitenoise import immutable_file_test
from tests.build.modules_tree import CLASSIC_SCRIPT, MODULES, STYLESHEET
from tests.serve.conftest import REPO, BuiltStatic, build_static, running_asgi, running_nginx
from tests.serve.conftest import running_wsgi as running_wsgi_server
from tests.serve.fetch import fetch

# WhiteNoise under ASGI: Django warns that it streams a file synchronously, which is why the ASGI
# how-to recommends ServeStatic; the headers are what this module is about.
pytestmark = pytest.mark.filterwarnings(
    "ignore:StreamingHttpResponse must consume synchronous iterators:Warning"
)

SCRIPT_NAME = "/prefix"
SUBPATH = {"FORCE_SCRIPT_NAME": SCRIPT_NAME, "STATIC_URL": f"{SCRIPT_NAME}/static/"}
# What WhiteNoise and ServeStatic send (their "forever" is ten years); nginx sends assetpipe's.
FOREVER = "max-age=315360000, public, immutable"
SHORT = "max-age=60, public"
PREHASHED = "app/assets/main-BV5bdbg-.js"
LOOKALIKE = "app/lib.deadbeefcafe.css"  # unhashed, spelled like a hashed name

MIDDLEWARES: dict[str, dict[str, Any]] = {
    # As the WhiteNoise how-to documents it.
    "whitenoise": {
        "MIDDLEWARE": [
            "assetpipe.serve.whitenoise.WhiteNoiseMiddleware",
            "assetpipe.serve.preload.PreloadMiddleware",
        ],
        "WHITENOISE_MIMETYPES": whitenoise_mimetypes(),
        "WHITENOISE_IMMUTABLE_FILE_TEST": immutable_file_test,
    },
    # As the ASGI how-to documents it.
    "servestatic": {
        "MIDDLEWARE": [
            "assetpipe.serve.servestatic.ServeStaticMiddleware",
            "assetpipe.serve.preload.PreloadMiddleware",
        ],
        "SERVESTATIC_MIMETYPES": servestatic_mimetypes(),
    },
}

PAGE = """{% load static assetpipe %}<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sub-path</title>
{% importmap %}
{% modulepreload "app/mod/main.mjs" %}
{% static_stylesheet "admin/css/base.css" %}
{% static_stylesheet "app/site.css" %}
{% static_script "app/classic.js" %}
{% static_script "app/mod/main.mjs" type="module" %}
</head><body><img src="{% static 'app/img/logo.svg' %}" alt=""></body></html>
"""


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(engines["django"].from_string(PAGE).render({}, request))


urlpatterns = [path("", page)]


def under_script_name(script_name: str, app: WSGIApplication) -> WSGIApplication:
    """``app`` mounted at ``script_name`` as a front server mounts it (gunicorn's SCRIPT_NAME,
    uWSGI's mount): the prefix moves from PATH_INFO to SCRIPT_NAME; other paths are not the app's.
    """

    def mounted(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path_info: str = environ.get("PATH_INFO", "")
        if not path_info.startswith(script_name + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not below the script name\n"]
        below = path_info[len(script_name) :]
        environ = {**environ, "SCRIPT_NAME": script_name, "PATH_INFO": below}
        return app(environ, start_response)

    return mounted


def running_wsgi() -> Any:
    return running_wsgi_server(under_script_name(SCRIPT_NAME, get_wsgi_application()))


def running_asgi_app() -> Any:
    # The requests keep the prefix: Django removes FORCE_SCRIPT_NAME from an ASGI path itself.
    return running_asgi(get_asgi_application())


SERVERS: dict[str, Callable[[], Any]] = {"wsgi": running_wsgi, "asgi": running_asgi_app}


def url(name: str) -> str:
    return f"{SCRIPT_NAME}/static/{quote(name)}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltStatic:
    """The serving tests' tree, Django admin's, a prehashed bundler output and an ES module app,
    built under the script name."""
    extra = {PREHASHED: b"export const main = 1;\n" * 100}
    extra |= {name: text.encode() for name, text in MODULES.items()}
    extra |= {"app/classic.js": CLASSIC_SCRIPT.encode(), "app/site.css": STYLESHEET.encode()}
    return build_static(
        tmp_path_factory.mktemp("subpath"),
        extra,
        options={"prehashed": ["app/assets/*-[hash].js"], "integrity": True},
        overrides={**SUBPATH, "ROOT_URLCONF": __name__},
    )


@pytest.fixture(
    scope="module",
    params=[(m, s) for m in MIDDLEWARES for s in SERVERS],
    ids=lambda param: "-".join(param),
)
def served(request: pytest.FixtureRequest, built: BuiltStatic) -> Iterator[str]:
    """The base URL of the app under the script name, served by one middleware and interface."""
    middleware, server = request.param
    # The middlewares read STATIC_ROOT and the manifest while the server runs.
    with override_settings(**built.settings, **MIDDLEWARES[middleware]), SERVERS[server]() as base:
        yield base


def test_content_named_files_are_cached_for_ever(served: str, built: BuiltStatic) -> None:
    manifest = built.manifest()
    assert manifest[PREHASHED] == PREHASHED
    assert any(name.startswith("admin/") for name in manifest)
    for original, named in manifest.items():
        response = fetch(served, url(named), {"Accept-Encoding": "br"})
        assert response.status == 200, named
        assert response.header("Cache-Control") == FOREVER, named
        if named != original:
            response = fetch(served, url(original), {"Accept-Encoding": "br"})
            assert response.status == 200, original
            assert response.header("Cache-Control") == SHORT, original


def test_an_unhashed_lookalike_keeps_a_short_max_age(served: str, built: BuiltStatic) -> None:
    assert built.manifest()[LOOKALIKE] != LOOKALIKE
    response = fetch(served, url(LOOKALIKE))
    assert response.status == 200
    assert response.header("Cache-Control") == SHORT


def test_variants_are_negotiated_below_the_script_name(served: str, built: BuiltStatic) -> None:
    hashed = built.manifest()["app/css/site.css"]
    for accept, encoding in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("identity", None)):
        response = fetch(served, url(hashed), {"Accept-Encoding": accept})
        assert response.header("Content-Encoding") == encoding
        assert response.decoded() == (built.root / hashed).read_bytes()
        assert response.header("Vary") == "Accept-Encoding"


STATIC_REFERENCE = re.compile(r'[^\s"<>]*/static/[^\s"<>]*')


def test_tags_and_preload_links_carry_the_script_name(served: str, built: BuiltStatic) -> None:
    response = fetch(served, f"{SCRIPT_NAME}/")
    assert response.status == 200
    html = response.body.decode()
    preloads = STATIC_REFERENCE.findall(response.header("Link") or "")
    assert len(preloads) >= 5
    importmap = re.search(r'<script type="importmap"[^>]*>(.*?)</script>', html, re.S)
    assert importmap is not None
    assert json.loads(importmap[1])["imports"]
    # Every URL of a static file the page and its Link header name: the tags' src and href, the
    # import map's specifiers, targets and integrity keys, the preloads.
    references = set(STATIC_REFERENCE.findall(html)) | set(preloads)
    assert len(references) >= 10
    prefix = f"{SCRIPT_NAME}/static/"
    assert all(reference.startswith(prefix) for reference in references), references
    content_named = set(built.manifest().values())
    for reference in references:
        response = fetch(served, reference)
        assert response.status == 200, reference
        # The import map's specifiers are the plain names, which the browser never fetches.
        named = unquote(reference.removeprefix(prefix)) in content_named
        assert response.header("Cache-Control") == (FOREVER if named else SHORT), reference
    assert all(unquote(p.removeprefix(prefix)) in content_named for p in preloads), preloads


@pytest.mark.parametrize("middleware", MIDDLEWARES)
def test_a_static_prefix_of_the_server_s_own(built: BuiltStatic, middleware: str) -> None:
    # STATIC_URL on a CDN whose path differs from the app's: the middleware's own prefix setting
    # says where the app serves STATIC_ROOT, and the immutable test follows it.
    settings = {
        **built.settings,
        **MIDDLEWARES[middleware],
        "FORCE_SCRIPT_NAME": None,
        "STATIC_URL": "https://cdn.example/assets/",
        f"{middleware.upper()}_STATIC_PREFIX": "/static/",
    }
    hashed = built.manifest()["app/css/site.css"]
    with override_settings(**settings), running_wsgi_server(get_wsgi_application()) as base:
        assert fetch(base, f"/static/{hashed}").header("Cache-Control") == FOREVER
        assert fetch(base, "/static/app/css/site.css").header("Cache-Control") == SHORT


# --- nginx, configured by `manage.py assetpipe nginx` under the script name --------------------


def nginx_command(built: BuiltStatic, static_url: str, directory: Path) -> str:
    """``assetpipe nginx`` in a process of its own, as a deploy runs it: Django's set-up there
    sets the script prefix from FORCE_SCRIPT_NAME, which a relative STATIC_URL is joined to."""
    storages = built.settings["STORAGES"]
    (directory / "subpath_settings.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        f"FORCE_SCRIPT_NAME = {SCRIPT_NAME!r}\n"
        f"STATIC_URL = {static_url!r}\n"
        f"STATIC_ROOT = {str(built.root)!r}\n"
        f"STATICFILES_DIRS = {[str(built.source)]!r}\n"
        f"STORAGES = {storages!r}\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "PYTHONPATH": os.pathsep.join([str(directory), str(REPO)]),
        "DJANGO_SETTINGS_MODULE": "subpath_settings",
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "assetpipe", "nginx"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.nginx
@pytest.mark.parametrize("static_url", ["/prefix/static/", "static/"])
def test_nginx_serves_the_prefixed_urls(
    built: BuiltStatic, tmp_path: Path, static_url: str
) -> None:
    snippet = nginx_command(built, static_url, tmp_path)
    assert "location ^~ /prefix/static/ {" in snippet
    assert f'location = "/prefix/static/{PREHASHED}" {{' in snippet

    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n{snippet}\n}}"

    short = short_cache_control(60)
    with running_nginx(tmp_path / "nginx", server) as nginx:
        for original, named in built.manifest().items():
            response = fetch(nginx.url, url(named), {"Accept-Encoding": "br"})
            assert response.status == 200, named
            assert response.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL, named
            if named != original:
                response = fetch(nginx.url, url(original), {"Accept-Encoding": "br"})
                assert response.status == 200, original
                assert response.header("Cache-Control") == short, original
        hashed = built.manifest()["app/css/site.css"]
        response = fetch(nginx.url, url(hashed), {"Accept-Encoding": "br"})
        assert response.header("Content-Encoding") == "br"
        assert response.decoded() == (built.root / hashed).read_bytes()
        # The location is the prefixed path alone: the document root does not serve the build.
        assert fetch(nginx.url, f"/static/{hashed}").status == 404


@pytest.mark.nginx
def test_nginx_in_front_of_the_app_below_the_script_name(
    built: BuiltStatic, tmp_path: Path
) -> None:
    # The page from the app, proxied without the script name; the files its tags and preload
    # links name, from disk with nginx's own caching (not a middleware's: there is none).
    site = static_site(SUBPATH["STATIC_URL"], built.root)
    settings = {**built.settings, "MIDDLEWARE": ["assetpipe.serve.preload.PreloadMiddleware"]}
    with (
        override_settings(**settings),
        running_wsgi_server(get_wsgi_application()) as app,
        running_nginx(
            tmp_path / "nginx",
            lambda listen: render_server(
                site, listen=listen, upstream=app, script_name=SCRIPT_NAME
            ),
        ) as nginx,
    ):
        response = fetch(nginx.url, f"{SCRIPT_NAME}/")
        assert response.status == 200
        references = set(STATIC_REFERENCE.findall(response.body.decode()))
        preloads = STATIC_REFERENCE.findall(response.header("Link") or "")
        assert len(preloads) >= 5
        assert all(p.startswith(f"{SCRIPT_NAME}/static/") for p in references), references
        for reference in preloads:
            served = fetch(nginx.url, reference, {"Accept-Encoding": "br"})
            assert served.status == 200, reference
            assert served.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL, reference
            assert served.header("Content-Encoding") == "br", reference
        # The app's location is the script name with a slash: nginx sends /prefix there.
        redirect = fetch(nginx.url, SCRIPT_NAME)
        assert redirect.status == 301
        assert (redirect.header("Location") or "").endswith(f"{SCRIPT_NAME}/")


@pytest.mark.parametrize("script_name", ["prefix", "/a b", "/a;b", "/a{b", '/a"b'])
def test_a_script_name_nginx_would_misread_is_refused(tmp_path: Path, script_name: str) -> None:
    site = static_site("/a/static/", tmp_path)
    with pytest.raises(ValueError, match="script name"):
        render_server(site, listen="80", upstream="http://app:8000", script_name=script_name)


@pytest.mark.parametrize("script_name", [None, "", "/"])
def test_without_a_script_name_the_whole_site_is_proxied(
    tmp_path: Path, script_name: str | None
) -> None:
    site = static_site("/static/", tmp_path)
    text = render_server(site, listen="80", upstream="http://app:8000", script_name=script_name)
    assert "    location / {\n        proxy_pass http://app:8000;\n" in text


# --- publishing: keys come from the location, never from the script name ---------------------


def test_publishing_with_a_location_is_not_moved_by_the_script_name(
    tmp_path: Path, s3_endpoint: str, make_bucket: Callable[[], str]
) -> None:
    bucket = make_bucket()
    s3 = {
        "bucket_name": bucket,
        "location": "site/static",
        "endpoint_url": s3_endpoint,
        "default_acl": "public-read",  # read over HTTP below, as a CDN would
    }
    built = build_static(tmp_path, options={"s3": s3}, overrides=SUBPATH)
    manifest = built.manifest()
    hashed = manifest["app/css/site.css"]
    # The bucket over HTTP, as a CDN in front of it reads it.
    for name, cache_control in (
        (hashed, IMMUTABLE_CACHE_CONTROL),
        ("app/css/site.css", short_cache_control(60)),
    ):
        response = fetch(s3_endpoint, f"/{bucket}/site/static/{quote(name)}")
        assert response.status == 200, name
        assert response.body == (built.root / name).read_bytes()
        assert response.header("Cache-Control") == cache_control, name
    assert fetch(s3_endpoint, f"/{bucket}/site/static/staticfiles.json").status == 200
    for key in (f"prefix/static/{hashed}", f"site/prefix/static/{hashed}"):
        assert fetch(s3_endpoint, f"/{bucket}/{quote(key)}").status == 404
    # The pages name the files by STATIC_URL, the script name included.
    with override_settings(**built.settings):
        from django.contrib.staticfiles.storage import staticfiles_storage

        assert staticfiles_storage.url("app/css/site.css") == f"/prefix/static/{hashed}"
