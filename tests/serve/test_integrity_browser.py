"""The assetpipe tags in headless chromium, over WhiteNoise and over nginx.

A page uses ``{% importmap %}``, ``{% modulepreload %}`` and the script and stylesheet tags on a
build with ``integrity`` on and ``js_module_imports`` off. Chromium must load every asset with
integrity, every module exactly once under its hashed URL, and refuse a file altered on disk.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import brotli
import pytest
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.test import override_settings
from django.urls import path

from assetpipe.serve.nginx import render_server, static_site
from tests.build.modules_tree import CLASSIC_SCRIPT, MODULES, STYLESHEET
from tests.serve.conftest import running_nginx, running_wsgi, write_source_tree
from tests.serve.fetch import fetch

pytestmark = pytest.mark.browser

PAGE = """{% load assetpipe %}<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>integrity</title><link rel="icon" href="data:,">
{% importmap %}
{% modulepreload "app/mod/main.mjs" %}
{% static_stylesheet "admin/css/base.css" %}
{% static_stylesheet "app/site.css" %}
{% static_script "app/classic.js" %}
{% static_script "app/mod/main.mjs" type="module" %}
</head><body><p class="c1">integrity</p></body></html>
"""
HASHED_URL = re.compile(r"/static/.+\.[0-9a-f]{12}\.[a-z0-9]+$")
ALTERED = "app/classic.js"


def page(request: HttpRequest) -> HttpResponse:
    nonce = secrets.token_urlsafe(16)
    html = engines["django"].from_string(PAGE).render({"csp_nonce": nonce}, request)
    response = HttpResponse(html)
    # The CSP the templates guide documents: the inline import map by nonce, the files from 'self'.
    response["Content-Security-Policy"] = f"script-src 'self' 'nonce-{nonce}'"
    return response


urlpatterns = [path("", page)]


@dataclass(frozen=True)
class Site:
    root: Path
    settings: dict[str, Any]

    def manifest(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.root / "staticfiles.json").read_bytes())
        return loaded

    def hashed(self, name: str) -> str:
        return str(self.manifest()["paths"][name])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("integrity")
    extra = {name: text.encode() for name, text in MODULES.items()}
    extra |= {"app/classic.js": CLASSIC_SCRIPT.encode(), "app/site.css": STYLESHEET.encode()}
    write_source_tree(base / "src", extra)
    root = base / "site" / "static"
    settings: dict[str, Any] = {
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(base / "src")],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "assetpipe.storage.AssetPipeStorage",
                "OPTIONS": {"integrity": True},
            },
        },
        "ROOT_URLCONF": __name__,
        "MIDDLEWARE": ["whitenoise.middleware.WhiteNoiseMiddleware"],
    }
    with override_settings(**settings):
        call_command("collectstatic", interactive=False, verbosity=0)
        # WhiteNoise and the tags read STATIC_ROOT and the manifest while these settings hold.
        yield Site(root, settings)


@pytest.fixture(scope="module")
def whitenoise(site: Site) -> Iterator[str]:
    with running_wsgi(get_wsgi_application()) as url:
        yield url


@pytest.fixture(scope="module")
def nginx(site: Site, whitenoise: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx serving STATIC_ROOT from disk, the page proxied to the Django app."""
    static = static_site("/static/", site.root)
    with running_nginx(
        tmp_path_factory.mktemp("nginx-sri"),
        lambda listen: render_server(static, listen=listen, upstream=whitenoise),
    ) as server:
        yield server.url


@dataclass
class Visit:
    responses: list[Any] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def static_paths(self) -> list[str]:
        paths = [re.sub(r"^https?://[^/]+", "", r.url) for r in self.responses]
        return [p for p in paths if p.startswith("/static/")]


def visit(browser: Any, url: str, screenshot: Path, check: Callable[[Any, Visit], None]) -> None:
    context = browser.new_context()
    page = context.new_page()
    record = Visit()
    page.on("response", lambda response: record.responses.append(response))
    page.on("requestfailed", lambda r: record.failed.append(f"{r.url}: {r.failure}"))
    page.on("console", lambda m: record.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda error: record.console.append(f"pageerror: {error}"))
    try:
        page.goto(url, wait_until="networkidle")
        check(page, record)
    except BaseException:
        page.screenshot(path=str(screenshot), full_page=True)
        raise
    finally:
        context.close()


def check_page(page: Any, record: Visit, site: Site) -> None:
    page.wait_for_function("document.documentElement.dataset.modules", timeout=10_000)
    assert page.evaluate("document.documentElement.dataset.modules") == (
        "a uses shared leaf | shared leaf | lazy uses shared leaf"
    )
    assert page.evaluate("window.classicRan") is True
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(1, 2, 3)"
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--primary')")
    assert not record.failed, record.failed
    assert not [m for m in record.console if m.startswith(("error", "pageerror"))], record.console

    # Every module exactly once, under its hashed URL; no plain module URL was requested.
    requested = record.static_paths()
    for name in MODULES:
        assert requested.count(f"/static/{quote(site.hashed(name))}") == 1, (name, requested)
    assert all(HASHED_URL.search(p) for p in requested), requested
    assert all(r.status == 200 for r in record.responses), [r.url for r in record.responses]

    # Each element the tags rendered carries the build's integrity for what it loads.
    integrity = site.manifest()["integrity"]
    elements = page.evaluate(
        """() => [...document.querySelectorAll('script[src], link[href^="/static/"]')]
            .map(e => [e.getAttribute('src') || e.getAttribute('href'), e.integrity])"""
    )
    assert len(elements) == 3 + 2 + 2  # three preloads, two stylesheets, two scripts
    for url, value in elements:
        assert value and value == integrity[url.removeprefix("/static/")], url
    check_preloads(page, site)


def check_preloads(page: Any, site: Site) -> None:
    """The preloads fetched main.mjs's imports before main.mjs itself had arrived (parsing it
    could not have found them yet), and all of them before any module was evaluated."""
    timings = {
        path: (start, end)
        for path, start, end in page.evaluate(
            """() => performance.getEntriesByType('resource')
                .map(e => [new URL(e.name).pathname, e.startTime, e.responseEnd])"""
        )
    }
    evaluated = page.evaluate("window.evaluated")
    assert [name for name, _ in evaluated] == ["shared", "a", "main", "lazy"]
    first_evaluation = min(when for _, when in evaluated)
    _, main_arrived = timings[f"/static/{site.hashed('app/mod/main.mjs')}"]
    for name in ("app/mod/shared.mjs", "app/mod/a.mjs"):
        start, end = timings[f"/static/{site.hashed(name)}"]
        assert start < main_arrived, (name, timings)
        assert end <= first_evaluation, (name, timings, evaluated)


@pytest.mark.parametrize("server", ["whitenoise", pytest.param("nginx", marks=pytest.mark.nginx)])
def test_page_loads_every_asset_with_integrity(
    chromium: Any, site: Site, server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(server)
    visit(chromium, url + "/", tmp_path / "page.png", lambda p, r: check_page(p, r, site))


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.mark.parametrize("server", ["whitenoise", pytest.param("nginx", marks=pytest.mark.nginx)])
def test_integrity_is_sha384_of_the_identity_bytes_served(
    site: Site, server: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(server)
    integrity: dict[str, str] = site.manifest()["integrity"]
    assert any(name.startswith("admin/") for name in integrity)
    for name, value in integrity.items():
        response = fetch(url, f"/static/{quote(name)}", {"Accept-Encoding": "identity"})
        assert response.status == 200 and response.header("Content-Encoding") is None, name
        assert sri(response.body) == value, name


@contextmanager
def altered(site: Site, name: str) -> Iterator[None]:
    """The served file and its precompressed variants replaced by other bytes of the same
    length, as a tampered bucket or disk would hold them; restored afterwards."""
    path = site.root / site.hashed(name)
    variants = {
        path.with_name(path.name + ".br"): brotli.compress,
        path.with_name(path.name + ".gz"): lambda data: gzip.compress(data, mtime=0),
    }
    saved = {p: p.read_bytes() for p in [path, *variants] if p.exists()}
    data = saved[path].replace(b"window.classicRan = true;", b"window.classicRan = 'ha';")
    assert data != saved[path] and len(data) == len(saved[path])
    try:
        path.write_bytes(data)
        for variant, encode in variants.items():
            if variant in saved:
                variant.write_bytes(encode(data))
        yield
    finally:
        for saved_path, content in saved.items():
            saved_path.write_bytes(content)


def check_refused(page: Any, record: Visit, site: Site) -> None:
    page.wait_for_function("document.documentElement.dataset.modules", timeout=10_000)
    assert page.evaluate("window.classicRan") is None  # the altered script did not run
    hashed = site.hashed(ALTERED)
    refusals = [m for m in record.console if "integrity" in m and hashed in m]
    assert refusals, record.console
    assert refusals[0].startswith("error: ")


@pytest.mark.parametrize("server", ["whitenoise", pytest.param("nginx", marks=pytest.mark.nginx)])
def test_chromium_refuses_an_altered_file(
    chromium: Any, site: Site, server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    upstream = request.getfixturevalue("nginx" if server == "nginx" else "whitenoise")
    with altered(site, ALTERED):
        if server == "nginx":
            visit(
                chromium, upstream + "/", tmp_path / "p.png", lambda p, r: check_refused(p, r, site)
            )
            return
        # WhiteNoise records each file's size and variants when it starts: start one afresh.
        with running_wsgi(get_wsgi_application()) as url:
            visit(chromium, url + "/", tmp_path / "p.png", lambda p, r: check_refused(p, r, site))
