"""The example shop in chromium with its static files on another origin than its pages.

``build_shop`` collects (and publishes) the example project with ``STATIC_URL`` on the static
origin under test: the bucket behind S3's CORS behaviour, nginx, WhiteNoise or an edge Worker.
``serving_pages`` serves its pages from a Django process of their own, and ``load_shop`` opens
the page in chromium and reports what a user would see: which stylesheets applied, which modules
ran, whether the web font loaded, what was blocked, and how each static file arrived.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.serve.conftest import EXAMPLE_MANAGE, example_env, run_example

# The page's <link rel="stylesheet">s (admin's base.css and forms.css, the shop's site.css) and
# the modules it runs (app.js, and shop.mjs through the import map), by the element each marks.
STYLESHEETS = 3
MODULES = ("module-status", "cart-status")
FONT = "ACME Display"
START_TIMEOUT = 60.0

# Serves the example project's pages (WSGI, threaded) on the loopback port given (0: a free one);
# prints the port.
_SERVE = """
import django, socketserver, sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
sys.path.insert(0, sys.argv[1])
django.setup()
from django.core.wsgi import get_wsgi_application

class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", int(sys.argv[2]), get_wsgi_application(), Server, Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class Shop:
    """A built (and, with an S3 endpoint, published) example project."""

    env: dict[str, str]
    static_root: Path
    bucket: str

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``manage.py`` of the example project with this build's settings."""
        return run_example(self.env, *args)


def build_shop(
    base: Path,
    *,
    static_url: str,
    s3_endpoint: str,
    bucket: str,
    edge: str | None = None,
) -> Shop:
    """Collect the example project into ``base`` and publish it to ``bucket`` at ``s3_endpoint``.

    The bucket must exist; the static files are published under ``static/``."""
    env = example_env(base)
    env.update(
        ACME_S3_ENDPOINT=s3_endpoint,
        ACME_STATIC_URL=static_url,
        ACME_STATIC_BUCKET=bucket,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    env.pop("ACME_EDGE_CDN", None)
    if edge is not None:
        env["ACME_EDGE_CDN"] = edge
    shop = Shop(env, base / "build" / "static", bucket)
    result = shop.manage("collectstatic", "--noinput", "-v", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    return shop


@contextmanager
def serving_pages(shop: Shop, port: int = 0) -> Iterator[str]:
    """The shop's pages from their own Django process; yields the page's URL.

    The process is the whole example app, WhiteNoise included: on a ``port`` chosen before the
    build (its URL the build's ``STATIC_URL``), it is the static origin too.
    """
    env = {**shop.env, "DJANGO_SETTINGS_MODULE": "acme.settings"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(EXAMPLE_MANAGE.parent), str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{_read_port(process)}/"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _read_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line.strip():
        process.kill()
        errors = process.stderr.read() if process.stderr is not None else ""
        raise AssertionError(f"the shop's pages did not start: {errors}")
    return int(line)


@dataclass
class ShopLoad:
    """What chromium did with the shop's page."""

    stylesheets_applied: int = 0
    modules_ran: list[str] = field(default_factory=list)
    font_loaded: bool = False
    blocked: list[str] = field(default_factory=list)  # failed requests: URL and reason
    console_errors: list[str] = field(default_factory=list)
    # Every static file fetched: URL -> (status, Content-Encoding, encoded, decoded body size).
    static: dict[str, tuple[int, str | None, int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.stylesheets_applied == STYLESHEETS
            and len(self.modules_ran) == len(MODULES)
            and self.font_loaded
            and not self.blocked
            and not self.console_errors
        )

    def summary(self) -> str:
        return (
            f"{self.stylesheets_applied} of {STYLESHEETS} stylesheets applied, "
            f"{len(self.modules_ran)} of {len(MODULES)} modules ran, font "
            f"{'loaded' if self.font_loaded else 'not loaded'}, {len(self.blocked)} requests "
            f"blocked, {len(self.console_errors)} console errors"
        )

    def brotli(self) -> list[str]:
        """Static files that arrived brotli-encoded and smaller than they decode to."""
        return [
            url
            for url, (_, encoding, encoded, decoded) in self.static.items()
            if encoding == "br" and 0 < encoded < decoded
        ]


def load_shop(browser: Any, page_url: str, static_origin: str, screenshot: Path) -> ShopLoad:
    """Open the shop's page in a fresh context; every assertion is left to the caller."""
    context = browser.new_context()
    page = context.new_page()
    load = ShopLoad()
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.on("requestfailed", lambda r: load.blocked.append(f"{r.url}: {r.failure}"))
    page.on("console", lambda m: load.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: load.console_errors.append(str(error)))
    try:
        page.goto(page_url, wait_until="networkidle")
        with suppress(Exception):  # a module that was blocked never marks its element
            page.wait_for_function(
                "ids => ids.every(id => document.getElementById(id).dataset.state === 'ready')",
                arg=list(MODULES),
                timeout=5_000,
            )
        state = page.evaluate(
            """async ([ids, family]) => {
                await document.fonts.ready;
                return {
                    // A stylesheet that failed CORS or integrity leaves an empty sheet behind.
                    sheets: [...document.querySelectorAll('link[rel=stylesheet]')]
                        .filter(link => {
                            try { return link.sheet.cssRules.length > 0; }
                            catch (error) { return false; }
                        }).length,
                    modules: ids.filter(
                        id => document.getElementById(id).dataset.state === 'ready'),
                    font: [...document.fonts].some(f =>
                        f.family.replace(/"/g, '') === family && f.status === 'loaded'),
                    timing: performance.getEntriesByType('resource').map(e =>
                        [e.name, e.encodedBodySize, e.decodedBodySize]),
                };
            }""",
            [list(MODULES), FONT],
        )
        load.stylesheets_applied = state["sheets"]
        load.modules_ran = state["modules"]
        load.font_loaded = state["font"]
        sizes = {name: (encoded, decoded) for name, encoded, decoded in state["timing"]}
        for response in responses:
            if response.url.startswith(static_origin):
                encoded, decoded = sizes.get(response.url, (0, 0))
                encoding = response.all_headers().get("content-encoding")
                load.static[response.url] = (response.status, encoding, encoded, decoded)
        if not load.ok:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return load


def public_read_policy(bucket: str, prefix: str = "static/") -> str:
    """A literal public-read policy for the prefix, for tests that are not about read access.

    S3 authorises HEAD with s3:GetObject; moto asks for "s3:HeadObject", which is no S3 action
    (S3 would refuse this policy), so it is listed too."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:HeadObject"],
                    "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
                }
            ],
        }
    )
