"""Real Vite, webpack and esbuild builds, collected by assetpipe, loaded in chromium (WhiteNoise,
nginx).

Every module must be evaluated once (one URL per module), nothing requested under a second
(double-hashed) name, no console error, and every bundle file cached as immutable.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from assetpipe.serve.nginx import render_server, static_site
from assetpipe.serve.whitenoise import immutable_file_test
from tests.serve.conftest import running_nginx, running_wsgi
from tests.serve.test_browser import PageVisit

pytestmark = pytest.mark.browser

# A bundler's hash followed by Django's: the name nothing may request.
DOUBLE_HASHED = re.compile(r"[-.][A-Za-z0-9_-]{8,}\.[0-9a-f]{12}\.[a-z0-9]+$")
VITE_PAGE = """{% load django_vite static %}<!doctype html>
<html><head><title>bundle</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{% static 'site/site.css' %}">
{% vite_asset 'src/main.js' %}
</head><body><p class="bundled-font banner">bundled</p></body></html>
"""
ESBUILD_PAGE = """{% load static %}<!doctype html>
<html><head><title>bundle</title><link rel="icon" href="data:,">
<script type="module" src="{% static 'bundles/entry.js' %}"></script>
</head><body></body></html>
"""
VITE_DONE = """() => {
    const r = globalThis.__bundleResults || {};
    return r.worker === "pong" && r.lazy === "lazy loaded" && r.logo === 200;
}"""
ESBUILD_DONE = "() => (globalThis.__bundleResults || {}).lazy === 'lazy loaded'"
WEBPACK_PAGE = """{% load render_bundle from webpack_loader %}<!doctype html>
<html><head><title>bundle</title><link rel="icon" href="data:,">
{% render_bundle 'main' 'css' %}
</head><body><p class="bundled-font">bundled</p>
{% render_bundle 'main' 'js' %}
</body></html>
"""
WEBPACK_DONE = """() => {
    const r = globalThis.__bundleResults || {};
    return r.lazy === "lazy loaded" && r.logo === 200;
}"""


@dataclass(frozen=True)
class Site:
    root: Path
    settings: dict[str, Any]
    bundle_files: frozenset[str]  # names under STATIC_ROOT the bundler wrote


def collect(
    base: Path,
    dist: Path,
    page: str,
    options: dict[str, Any],
    vite_manifest: str | None,
    **extra: Any,
) -> Site:
    """collectstatic over a bundler's output and a Django-side stylesheet that uses it."""
    django_src = base / "django-src"
    (django_src / "site").mkdir(parents=True)
    bundle_files = frozenset(
        p.relative_to(dist).as_posix()
        for p in dist.rglob("*")
        if p.is_file() and ".vite" not in p.parts
    ) - {"manifest.json", "bundles/manifest.json", "bundles/meta.json"}
    if vite_manifest is not None:
        dot = json.loads((dist / vite_manifest).read_bytes())["src/dot.png"]["file"]
        css = f'.banner {{ background: url("../{dot}") repeat; }}\n'
        (django_src / "site" / "site.css").write_text(css)
    root = base / "site" / "static"
    settings: dict[str, Any] = {
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(dist), str(django_src)],
        "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options},
        },
        "DJANGO_VITE": {
            "default": {"dev_mode": False, "manifest_path": str(root / (vite_manifest or "-"))}
        },
        "BUNDLE_PAGE": page,
        "ROOT_URLCONF": "tests.bundlers.urls",
        "MIDDLEWARE": ["whitenoise.middleware.WhiteNoiseMiddleware"],
        # The function itself: WhiteNoise takes a string for a regex.
        "WHITENOISE_IMMUTABLE_FILE_TEST": immutable_file_test,
        **extra,
    }
    with override_settings(**settings):
        # .vite/ is a dotdir, which collectstatic ignores by default.
        dot_vite = vite_manifest is not None and vite_manifest.startswith(".vite/")
        call_command(
            "collectstatic",
            interactive=False,
            verbosity=0,
            use_default_ignore_patterns=not dot_vite,
        )
    return Site(root, settings, bundle_files)


@contextmanager
def serving(site: Site) -> Iterator[str]:
    from django_vite.core.asset_loader import DjangoViteAssetLoader

    with override_settings(**site.settings), webpack_loader_config(site.settings):
        DjangoViteAssetLoader._instance = None  # it keeps the first manifest it read
        with running_wsgi(get_wsgi_application()) as url:
            yield url
        DjangoViteAssetLoader._instance = None


@contextmanager
def webpack_loader_config(settings: dict[str, Any]) -> Iterator[None]:
    """django-webpack-loader reads WEBPACK_LOADER once, when imported, and keeps its loaders."""
    from webpack_loader import config, utils

    saved = config.user_config
    if "WEBPACK_LOADER" in settings:
        config.user_config = {
            name: {
                **config.DEFAULT_CONFIG["DEFAULT"],
                **entry,
                "ignores": [re.compile(pattern) for pattern in entry.get("IGNORE", [])],
            }
            for name, entry in settings["WEBPACK_LOADER"].items()
        }
    utils.get_loader.cache_clear()
    try:
        yield
    finally:
        config.user_config = saved
        utils.get_loader.cache_clear()


def visit(
    browser: Any, url: str, done: str, screenshot: Path, check: Callable[[Any, PageVisit], None]
) -> None:
    """Load ``url`` until ``done`` holds, then ``check`` the modules' run counts and traffic."""
    context = browser.new_context()
    page = context.new_page()
    record = PageVisit()
    page.on("response", lambda response: record.responses.append(response))
    page.on("requestfailed", lambda r: record.failed.append(f"{r.url}: {r.failure}"))
    page.on("console", lambda m: record.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: record.errors.append(str(error)))
    try:
        page.goto(url, wait_until="networkidle")
        page.wait_for_function(done, timeout=10_000)
        check(page.evaluate("globalThis.__bundleRuns"), record)
    except BaseException:
        page.screenshot(path=str(screenshot), full_page=True)
        raise
    finally:
        context.close()


def check(
    runs: Any, record: PageVisit, site: Site, bundle_prefix: str, server: str, every: bool
) -> None:
    assert runs == {"shared": 1, "main": 1, "lazy": 1}
    static = record.static()
    paths = Counter(re.sub(r"^https?://[^/]+/static/", "", r.url) for r in static)
    assert all(count == 1 for count in paths.values()), paths
    assert not [p for p in paths if DOUBLE_HASHED.search(p)], sorted(paths)
    bundle = {p for p in paths if p.startswith(bundle_prefix)}
    assert bundle and bundle <= site.bundle_files, (sorted(bundle), sorted(site.bundle_files))
    if every:  # the page loads every file the bundler wrote, under the name it wrote
        assert bundle == site.bundle_files, (sorted(bundle), sorted(site.bundle_files))
    for response in static:
        assert response.status == 200, response.url
        assert "immutable" in response.all_headers()["cache-control"], response.url
    assert all(r.all_headers()["server"].startswith(server) for r in static)
    assert not record.failed
    assert not record.errors


def nginx_config(site: Site, upstream: str) -> Callable[[str], str]:
    def server_block(listen: str) -> str:
        return render_server(static_site("/static/", site.root), listen=listen, upstream=upstream)

    return server_block


def load_everywhere(
    chromium: Any,
    site: Site,
    tmp_path: Path,
    done: str,
    bundle_prefix: str,
    *,
    every: bool = False,
) -> None:
    with serving(site) as app_url:
        visit(
            chromium,
            app_url + "/",
            done,
            tmp_path / "whitenoise.png",
            lambda runs, record: check(runs, record, site, bundle_prefix, "WSGIServer/", every),
        )
        with running_nginx(tmp_path / "nginx", nginx_config(site, app_url)) as nginx:
            visit(
                chromium,
                nginx.url + "/",
                done,
                tmp_path / "nginx.png",
                lambda runs, record: check(runs, record, site, bundle_prefix, "nginx/", every),
            )


@pytest.mark.nginx
@pytest.mark.parametrize("js_module_imports", [False, True], ids=["default", "js_module_imports"])
@pytest.mark.parametrize(
    ("variant", "manifest"), [("vite8", "manifest.json"), ("vite7", ".vite/manifest.json")]
)
def test_vite_build_through_django_vite(
    chromium: Any,
    builds: Callable[..., Path],
    tmp_path: Path,
    variant: str,
    manifest: str,
    js_module_imports: bool,
) -> None:
    dist = builds(variant, dot_vite=manifest.startswith(".vite/"))
    options = {"js_module_imports": js_module_imports, "missing_references": "fail"}
    site = collect(tmp_path, dist, VITE_PAGE, options, manifest)
    raw = json.loads((site.root / "staticfiles.json").read_bytes())
    assert sorted(raw["prehashed"]) == sorted(site.bundle_files)
    assert all(raw["paths"][name] == name for name in site.bundle_files)
    for name in site.bundle_files:
        assert (site.root / name).read_bytes() == (dist / name).read_bytes()
    load_everywhere(chromium, site, tmp_path, VITE_DONE, "assets/")


@pytest.mark.nginx
@pytest.mark.parametrize("js_module_imports", [False, True], ids=["default", "js_module_imports"])
def test_esbuild_chunks_through_the_prehashed_option(
    chromium: Any, builds: Callable[..., Path], tmp_path: Path, js_module_imports: bool
) -> None:
    out = builds("esbuild")
    options = {
        "js_module_imports": js_module_imports,
        "missing_references": "fail",
        "prehashed": ["bundles/chunks/*-[hash].js"],
    }
    site = collect(tmp_path, out, ESBUILD_PAGE, options, None)
    paths = json.loads((site.root / "staticfiles.json").read_bytes())["paths"]
    chunks = {name for name in site.bundle_files if name.startswith("bundles/chunks/")}
    assert len(chunks) == 2 and all(paths[name] == name for name in chunks)
    # The entry is not content-named: Django's hash, and its imports name the chunks as built.
    assert re.fullmatch(r"bundles/entry\.[0-9a-f]{12}\.js", paths["bundles/entry.js"])
    load_everywhere(chromium, site, tmp_path, ESBUILD_DONE, "bundles/chunks/")


def assert_kept(site: Site, dist: Path, prehashed: set[str]) -> None:
    """Every bundle file is prehashed: the bundler's name and bytes, nothing hashed again."""
    raw = json.loads((site.root / "staticfiles.json").read_bytes())
    assert sorted(raw["prehashed"]) == sorted(prehashed)
    assert all(raw["paths"][name] == name for name in prehashed)
    for name in prehashed:
        assert (site.root / name).read_bytes() == (dist / name).read_bytes()
    written = {p.relative_to(site.root).as_posix() for p in site.root.rglob("*") if p.is_file()}
    assert not [
        n for n in written if DOUBLE_HASHED.search(n.removesuffix(".br").removesuffix(".gz"))
    ]


@pytest.mark.nginx
def test_webpack_build_through_render_bundle(
    chromium: Any, builds: Callable[..., Path], tmp_path: Path
) -> None:
    # No prehashed option: webpack-bundle-tracker's stats, outside the tree, is the record.
    dist = builds("webpack")
    stats = dist.parent / "webpack-stats.json"
    loader = {"DEFAULT": {"BUNDLE_DIR_NAME": "bundles/", "STATS_FILE": str(stats), "CACHE": False}}
    site = collect(
        tmp_path, dist, WEBPACK_PAGE, {"missing_references": "fail"}, None, WEBPACK_LOADER=loader
    )
    # The entry, its CSS, the lazy chunk and its CSS, and the asset modules (image, font, svg).
    assert {n.split("/")[-1].split(".")[0] for n in site.bundle_files} == {
        "main", "lazy", "dot", "logo", "bundled"
    }  # fmt: skip
    assert len(site.bundle_files) == 7
    assert_kept(site, dist, set(site.bundle_files))
    load_everywhere(chromium, site, tmp_path, WEBPACK_DONE, "bundles/", every=True)


@pytest.mark.nginx
def test_esbuild_build_with_its_metafile(
    chromium: Any, builds: Callable[..., Path], tmp_path: Path
) -> None:
    out = builds("esbuild", metafile=True)
    meta = json.loads((out / "bundles" / "meta.json").read_bytes())
    entry = next(
        key.split("/out/", 1)[-1]
        for key, value in meta["outputs"].items()
        if value.get("entryPoint")
    )
    page = ESBUILD_PAGE.replace("bundles/entry.js", entry)
    site = collect(tmp_path, out, page, {"missing_references": "fail"}, None)
    assert len(site.bundle_files) == 3 and entry in site.bundle_files
    assert_kept(site, out, set(site.bundle_files))
    load_everywhere(chromium, site, tmp_path, ESBUILD_DONE, "bundles/", every=True)
