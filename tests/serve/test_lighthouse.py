"""Lighthouse as a guard: a page built by assetpipe and served by nginx with the configuration
``manage.py assetpipe nginx`` renders gets no complaint about a static file from the audits that
judge what the build does (minified CSS/JS, image formats, image compression, text compression,
cache lifetime).

The page is a small shop: Django admin's own CSS and JS, a hand-written stylesheet and script
(tests/serve/lighthouse/static/shop/), four photographs from scikit-image's sample data as
``<img>`` and one of them as a CSS background. The same page built by Django's
ManifestStaticFilesStorage and served by a bare nginx ``location`` is the control: there the same
audits flag the static files, so the guard is known to see them.

Lighthouse 12 (tests/serve/lighthouse/package.json; 13 needs Node 22, Debian has 20) runs on
Debian's chromium. Its package-lock.json pins ``third-party-web`` for
``@paulirish/trace_engine`` through ``overrides``: that package asks for it as "latest", which
``npm ci`` resolves against the registry's current tag and then finds out of step with the lock.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.template import engines
from django.test import override_settings

from tests.conftest import require_component
from tests.npm import node_modules
from tests.serve.conftest import CHROMIUM, CHROMIUM_ARGS, running_nginx
from tests.serve.images.pictures import require_pillow

pytestmark = [pytest.mark.browser, pytest.mark.nginx]

# The storage options of the build under guard. Add "minify": ["css", "js"] once that option
# exists: until then the unminified-* audits pass only because Lighthouse scales a file's
# estimated saving to the brotli-compressed bytes sent, which puts each file here under its
# 2 KiB threshold (the control, sent uncompressed, shows the same files flagged).
BUILD_OPTIONS: dict[str, Any] = {"images": True, "minify": ["css", "js"]}

# The audits that judge what a static build can fix; nothing else is gathered.
AUDITS = (
    "unminified-css",
    "unminified-javascript",
    "modern-image-formats",
    "uses-optimized-images",
    "uses-text-compression",
    "uses-long-cache-ttl",
)
# Not a guard: what chromium fetched, to show that the audits had the files to judge.
REQUESTS_AUDIT = "network-requests"

STATIC_URL = "/static/"
HERE = Path(__file__).parent / "lighthouse"
PAGE = HERE / "index.html"
MIME_TYPES = "/etc/nginx/mime.types"  # Debian's, as its default site includes it


@dataclass(frozen=True)
class Photograph:
    name: str  # below STATICFILES_DIRS
    sample: str  # the file in scikit-image's data directory
    title: str
    width: int
    height: int
    cents: int


# A JPEG from the sample data as it is, two PNG photographs saved as JPEG the way a camera or an
# export would (quality 90), and a PNG photograph left a PNG, as designers hand them over.
PHOTOGRAPHS = (
    Photograph("shop/img/astronaut.jpg", "astronaut.png", "Astronaut", 512, 512, 4200),
    Photograph("shop/img/coffee.jpg", "coffee.png", "Coffee", 600, 400, 1250),
    Photograph("shop/img/rocket.jpg", "rocket.jpg", "Rocket", 640, 427, 99900),
    Photograph("shop/img/chelsea.png", "chelsea.png", "Chelsea", 451, 300, 1800),
)
BACKGROUND = "shop/img/coffee.jpg"  # also shop.css's hero background


def write_sources(source: Path) -> None:
    """The shop's static files: the hand-written CSS/JS and the photographs."""
    image_module = require_pillow()
    for path in (HERE / "static").rglob("*"):
        if path.is_file():
            target = source / path.relative_to(HERE / "static")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    samples = files("skimage") / "data"
    (source / "shop" / "img").mkdir(parents=True, exist_ok=True)
    for photo in PHOTOGRAPHS:
        sample = samples / photo.sample
        target = source / photo.name
        if Path(photo.sample).suffix == target.suffix:
            target.write_bytes(sample.read_bytes())
        else:
            with sample.open("rb") as stream, image_module.open(stream) as image:
                image.convert("RGB").save(target, "JPEG", quality=90)
        with image_module.open(target) as image:
            assert image.size == (photo.width, photo.height), photo


@dataclass(frozen=True)
class Site:
    static_root: Path
    page_root: Path  # index.html, nginx's root
    settings: dict[str, Any]


def build_site(base: Path, backend: str, options: Mapping[str, Any]) -> Site:
    """collectstatic with ``backend`` and its ``options``, and the page rendered by Django's
    template engine with ``{% static %}``, as a view would."""
    source = base / "src"
    write_sources(source)
    static_root = base / "site" / "static"
    page_root = base / "page"
    page_root.mkdir()
    settings: dict[str, Any] = {
        "STATIC_URL": STATIC_URL,
        "STATIC_ROOT": str(static_root),
        "STATICFILES_DIRS": [str(source)],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": backend, "OPTIONS": dict(options)},
        },
    }
    with override_settings(**settings):
        call_command("collectstatic", interactive=False, verbosity=0)
        template = engines["django"].from_string(PAGE.read_text())
        photos = [{**vars(photo), "price": f"{photo.cents / 100:.2f} EUR"} for photo in PHOTOGRAPHS]
        (page_root / "index.html").write_text(template.render({"photos": photos}))
    return Site(static_root, page_root, settings)


def assetpipe_location(site: Site) -> str:
    """The static location ``manage.py assetpipe nginx`` prints for the build's settings."""
    out = StringIO()
    with override_settings(**site.settings):
        call_command("assetpipe", "nginx", stdout=out)
    return out.getvalue()


def bare_location(site: Site) -> str:
    """What a site does without assetpipe: nginx hands out STATIC_ROOT as it is."""
    return f"location {STATIC_URL} {{\n    alias {site.static_root}/;\n}}\n"


@dataclass(frozen=True)
class Report:
    """One Lighthouse run over a site's page."""

    site: Site
    origin: str
    audits: dict[str, Any]
    sent: dict[str, set[int]]
    """Body bytes nginx sent for each path below STATIC_URL, from its access log."""

    def names(self) -> dict[str, str]:
        """staticfiles.json's paths: source name -> served name."""
        manifest = json.loads((self.site.static_root / "staticfiles.json").read_text())
        paths: dict[str, str] = manifest["paths"]
        return paths

    def flagged(self, audit: str) -> set[str]:
        """The static files (paths below STATIC_URL) ``audit`` lists as worth fixing."""
        static = self.origin + STATIC_URL
        items = self.audits[audit]["details"]["items"]
        return {i["url"].removeprefix(static) for i in items if i["url"].startswith(static)}

    def fetched(self) -> dict[str, dict[str, Any]]:
        """What chromium fetched below STATIC_URL, by path."""
        static = self.origin + STATIC_URL
        items = self.audits[REQUESTS_AUDIT]["details"]["items"]
        return {i["url"].removeprefix(static): i for i in items if i["url"].startswith(static)}


def lighthouse_cli() -> Path:
    require_component("chromium", CHROMIUM.exists(), "apt-get install chromium")
    return node_modules(HERE, "lighthouse") / "lighthouse" / "cli" / "index.js"


def run_lighthouse(cli: Path, url: str, output: Path) -> dict[str, Any]:
    """One Lighthouse run over ``url`` with only the audits above; its report's audits."""
    result = subprocess.run(
        [
            "node",
            str(cli),
            url,
            "--output=json",
            f"--output-path={output}",
            "--only-audits=" + ",".join((*AUDITS, REQUESTS_AUDIT)),
            "--chrome-flags=" + " ".join(("--headless=new", *CHROMIUM_ARGS)),
            "--quiet",
        ],
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"lighthouse failed:\n{result.stdout}\n{result.stderr}"
    report = json.loads(output.read_text())
    assert "runtimeError" not in report, report["runtimeError"]
    assert report["lighthouseVersion"].startswith("12."), report["lighthouseVersion"]
    audits: dict[str, Any] = report["audits"]
    return audits


# nginx's default ("combined") log format: the request line, the status, the body's bytes.
LOGGED_REQUEST = re.compile(r'"GET (\S+) HTTP/[0-9.]+" \d{3} (\d+) ')


def bodies_sent(access_log: str) -> dict[str, set[int]]:
    sent: dict[str, set[int]] = {}
    for path, size in LOGGED_REQUEST.findall(access_log):
        if path.startswith(STATIC_URL):
            sent.setdefault(path.removeprefix(STATIC_URL), set()).add(int(size))
    return sent


def serve_and_audit(site: Site, location: str, prefix: Path) -> Iterator[Report]:
    """nginx serving the page and ``location`` for STATIC_URL, and Lighthouse over it."""
    cli = lighthouse_cli()

    def server(listen: str) -> str:
        return (
            f"server {{\n listen {listen};\n root {site.page_root};\n"
            f" include {MIME_TYPES};\n{location}\n}}"
        )

    with running_nginx(prefix / "nginx", server) as nginx:
        audits = run_lighthouse(cli, nginx.url + "/index.html", prefix / "report.json")
        access_log = (prefix / "nginx" / "logs" / "access.log").read_text()
        yield Report(site, nginx.url, audits, bodies_sent(access_log))


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    base = tmp_path_factory.mktemp("lighthouse-guarded")
    site = build_site(base, "assetpipe.storage.AssetPipeStorage", BUILD_OPTIONS)
    yield from serve_and_audit(site, assetpipe_location(site), base)


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    base = tmp_path_factory.mktemp("lighthouse-control")
    site = build_site(base, "django.contrib.staticfiles.storage.ManifestStaticFilesStorage", {})
    yield from serve_and_audit(site, bare_location(site), base)


def assert_ran(report: Report, audit: str) -> None:
    """``audit`` gave a verdict with its list of findings, not an error or an N/A."""
    result = report.audits[audit]
    assert result["scoreDisplayMode"] not in ("error", "notApplicable", "manual"), result
    if audit != REQUESTS_AUDIT:
        assert result["score"] is not None, result
    assert isinstance(result["details"]["items"], list), result


def test_lighthouse_flags_no_static_file_of_the_build(guarded: Report) -> None:
    """Every audit in one test: pytest-xdist may run each test of a module on another worker,
    and each worker would run Lighthouse again."""
    for audit in (*AUDITS, REQUESTS_AUDIT):
        assert_ran(guarded, audit)
    names = guarded.names()
    flagged = {audit: guarded.flagged(audit) for audit in AUDITS}
    assert flagged == {audit: set() for audit in AUDITS}

    # Nothing flagged means something only if the audits judged the build's files. The run
    # does report what it finds: the page itself, which the test's own location serves
    # uncompressed, is flagged.
    uncompressed = guarded.audits["uses-text-compression"]["details"]["items"]
    assert [item["url"] for item in uncompressed] == [guarded.origin + "/index.html"]
    # Chromium fetched every file the page names, each as the build wrote it for a browser that
    # takes brotli, AVIF and WebP.
    built = guarded.site
    page = (built.page_root / "index.html").read_text()
    referenced = {name for name in names.values() if f"{STATIC_URL}{name}" in page}
    fetched = guarded.fetched()
    assert names[BACKGROUND] in fetched
    assert referenced <= fetched.keys()
    photographs = {names[photo.name] for photo in PHOTOGRAPHS}
    for name, request in fetched.items():
        assert request["statusCode"] == 200, name
        path = built.static_root / name
        if name in photographs:
            # Photographs stored as PNG get lossy variants too: AVIF for every one.
            assert request["mimeType"] == "image/avif", name
            assert request["resourceSize"] == path.with_name(path.name + ".avif").stat().st_size
        elif request["resourceType"] in ("Stylesheet", "Script"):
            # The .br variant, or the file where brotli would not save enough (a small
            # minified script).
            brotli = path.with_name(path.name + ".br")
            sent = brotli if brotli.exists() else path
            assert guarded.sent[name] == {sent.stat().st_size}, name


def test_the_same_page_without_assetpipe_is_flagged(control: Report) -> None:
    """The control: Django's ManifestStaticFilesStorage served by a bare nginx location. Every
    audit flags static files there, so the guard above sees them when they need work."""
    for audit in (*AUDITS, REQUESTS_AUDIT):
        assert_ran(control, audit)
    flagged = {audit: control.flagged(audit) for audit in AUDITS}
    names = control.names()
    photographs = {names[photo.name] for photo in PHOTOGRAPHS}
    shop_css, shop_js = names["shop/css/shop.css"], names["shop/js/shop.js"]
    assert flagged["modern-image-formats"] == photographs
    # scikit-image's rocket.jpg as it ships; the photographs the test saved at quality 90 save
    # less than Lighthouse's 4 KiB threshold when it re-encodes them at its 92.
    assert names["shop/img/rocket.jpg"] in flagged["uses-optimized-images"]
    assert flagged["uses-optimized-images"] <= photographs
    # The hand-written files, shipped as written.
    assert shop_css in flagged["unminified-css"]
    assert shop_js in flagged["unminified-javascript"]
    assert {shop_css, shop_js, names["admin/css/base.css"]} <= flagged["uses-text-compression"]
    # No Cache-Control: every file is flagged, whatever its size.
    assert flagged["uses-long-cache-ttl"] == set(control.fetched())
