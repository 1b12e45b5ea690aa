"""A small site built again and again into one STATIC_ROOT with the ``dictionaries`` option,
each build's stylesheet and module script a little different from the last, as a deploy's are;
and nginx serving it with the configuration rendered from the latest build."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.test import override_settings

from assetpipe.conf.edge import CorsConfig
from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import STATIC_BACKEND

CSS = "app/css/site.css"
JS = "app/js/app.mjs"
ICON = "app/img/logo.svg"
# Chromium 156's Accept-Encoding on a request that has a dictionary to offer.
CHROMIUM_ACCEPT_ENCODING = "gzip, deflate, br, zstd, dcb, dcz"


def stylesheet(version: int) -> str:
    """A stylesheet whose versions differ in a few rules; ``.applied`` turns a page's marker
    element this version's colour."""

    def colour(i: int) -> str:
        return f"#{(i * (version if i % 31 == 0 else 1)) % 4096:03x}"

    rules = "\n".join(
        f".block-{i} {{ margin: {i % 7}px; color: {colour(i)}; }}" for i in range(300)
    )
    return f"/* theme {version} */\n.applied {{ color: rgb(0, {version}, 0); }}\n{rules}\n"


def script(version: int) -> str:
    """A module script whose versions differ in a few places; it counts its runs on window
    and says which version ran."""
    words = random.Random(9842)
    functions = "\n".join(
        f"export function {''.join(words.choices(string.ascii_lowercase, k=8))}(element) {{\n"
        f"  element.dataset.{''.join(words.choices(string.ascii_lowercase, k=6))} = "
        f"'{i * (version if i % 17 == 0 else 1)}';\n"
        f"  return element.querySelectorAll('.{words.randrange(10**9):x}').length;\n}}\n"
        for i in range(120)
    )
    return (
        f'export const VERSION = "1.{version}.0";\n'
        "window.assetpipeRuns = (window.assetpipeRuns || 0) + 1;\n"
        "window.assetpipeVersion = VERSION;\n"
        f"{functions}"
    )


@dataclass
class Site:
    """A project directory: sources, STATIC_ROOT (with the build state beside it), pages."""

    base: Path
    options: Mapping[str, Any] = field(default_factory=lambda: {"dictionaries": {}})

    @property
    def source(self) -> Path:
        return self.base / "src"

    @property
    def root(self) -> Path:
        return self.base / "site" / "static"

    @property
    def pages(self) -> Path:
        return self.base / "site" / "pages"

    def settings(self) -> dict[str, Any]:
        return {
            "STATIC_URL": "/static/",
            "STATIC_ROOT": str(self.root),
            "STATICFILES_DIRS": [str(self.source)],
            "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
            "STORAGES": {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": STATIC_BACKEND, "OPTIONS": dict(self.options)},
            },
        }

    def build(self, version: int) -> dict[str, Any]:
        """Build ``version`` of the sources into STATIC_ROOT; its ``staticfiles.json``."""
        files = {
            CSS: stylesheet(version),
            JS: script(version),
            ICON: '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n' * 20,
        }
        for name, text in files.items():
            path = self.source / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        with override_settings(**self.settings()):
            call_command("collectstatic", interactive=False, verbosity=0)
        manifest: dict[str, Any] = json.loads((self.root / "staticfiles.json").read_bytes())
        return manifest

    def snippet(self, cors: CorsConfig | None = None) -> str:
        """The configuration ``manage.py assetpipe nginx`` renders for the build in place."""
        return render_snippet(static_site("/static/", self.root, cors=cors))

    def server_block(self, listen: str, snippet: str, log_format: str | None = None) -> str:
        """A server block with the snippet, pages from ``pages``; with ``log_format``'s name,
        an access log in that format (``logs/dictionaries.log`` under nginx's prefix)."""
        log = f" access_log logs/dictionaries.log {log_format};\n" if log_format else ""
        return f"server {{\n listen {listen};\n root {self.pages};\n{log}{snippet}\n}}"


def write_page(site: Site, build: int, manifest: Mapping[str, Any]) -> str:
    """``pages/build-<n>.html``: the stylesheet and the module script of this build by their
    hashed URLs, with the integrity values ``staticfiles.json`` records; its path."""
    paths, integrity = manifest["paths"], manifest["integrity"]
    css, js = paths[CSS], paths[JS]
    html = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="/static/{css}" integrity="{integrity[css]}" '
        'crossorigin="anonymous">\n'
        f'<script type="module" src="/static/{js}" integrity="{integrity[js]}" '
        'crossorigin="anonymous"></script>\n'
        '</head><body><p class="applied" id="marker">dictionaries</p></body></html>\n'
    )
    site.pages.mkdir(parents=True, exist_ok=True)
    (site.pages / f"build-{build}.html").write_text(html)
    return f"/build-{build}.html"
