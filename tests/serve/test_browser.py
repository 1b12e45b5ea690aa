"""The example shop in headless chromium, served by WhiteNoise and by nginx in front of it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.serve.conftest import (
    EXAMPLE_MANAGE,
    DemoServer,
    running_demo,
    running_nginx,
)

pytestmark = pytest.mark.browser

HASHED_URL = re.compile(r"/static/.+\.[0-9a-f]{12}\.[a-z0-9]+$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with running_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


@pytest.fixture(scope="module")
def nginx_front(demo: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx with ``manage.py assetpipe nginx --server``: static from disk, the rest proxied."""

    def server_block(listen: str) -> str:
        result = subprocess.run(
            [
                sys.executable,
                str(EXAMPLE_MANAGE),
                "assetpipe",
                "nginx",
                "--server",
                "--listen",
                listen,
                "--upstream",
                demo.url.rstrip("/"),
            ],
            env=demo.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    with running_nginx(tmp_path_factory.mktemp("nginx-front"), server_block) as server:
        yield server.url + "/"


@dataclass
class PageVisit:
    responses: list[Any] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def static(self) -> list[Any]:
        return [r for r in self.responses if "/static/" in r.url]


def visit(browser: Any, url: str, screenshot: Path, check: Any) -> None:
    """Open ``url`` in a fresh context, record the traffic, run ``check``; screenshot on failure."""
    context = browser.new_context()
    page = context.new_page()
    record = PageVisit()
    page.on("response", lambda response: record.responses.append(response))
    page.on(
        "requestfailed", lambda request: record.failed.append(f"{request.url}: {request.failure}")
    )
    page.on("console", lambda m: record.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: record.errors.append(str(error)))
    try:
        page.goto(url, wait_until="networkidle")
        check(page, record)
    except BaseException:
        page.screenshot(path=str(screenshot), full_page=True)
        raise
    finally:
        context.close()


def check_shop(page: Any, record: PageVisit, static_root: Path, server_header: str) -> None:
    # The imported module ran, and was fetched by the hashed name written into app.js.
    page.wait_for_selector('#module-status[data-state="ready"]', timeout=10_000)
    greeting_url = page.evaluate("document.documentElement.dataset.greetingModule")
    assert re.search(r"/static/acme/js/greeting\.[0-9a-f]{12}\.js$", greeting_url)

    static = record.static()
    requested = {re.sub(r"^https?://[^/]+", "", r.url) for r in static}
    expected = [
        r"/static/admin/css/base\.[0-9a-f]{12}\.css",
        r"/static/acme/css/site\.[0-9a-f]{12}\.css",
        r"/static/acme/css/theme\.[0-9a-f]{12}\.css",  # @import
        r"/static/acme/img/stripes\.[0-9a-f]{12}\.png",  # url() in site.css
        r"/static/acme/img/logo\.[0-9a-f]{12}\.svg",  # url() in site.css
        r"/static/acme/fonts/acme-display\.[0-9a-f]{12}\.woff2",  # @font-face in site.css
        r"/static/acme/js/app\.[0-9a-f]{12}\.js",
        r"/static/acme/js/greeting\.[0-9a-f]{12}\.js",  # import in app.js
    ]
    assert any(r.all_headers().get("content-encoding") == "br" for r in static)
    for pattern in expected:
        assert any(re.fullmatch(pattern, path) for path in requested), (pattern, sorted(requested))

    for response in static:
        headers = response.all_headers()
        assert response.status == 200, response.url
        assert HASHED_URL.search(response.url), f"unhashed reference: {response.url}"
        assert "immutable" in headers["cache-control"], response.url
        assert headers["server"].startswith(server_header), response.url
        # Whatever the build precompressed (tiny files and PNGs it leaves alone) arrives as br.
        name = response.url.split("/static/", 1)[1]
        encoding = "br" if (static_root / f"{name}.br").exists() else None
        assert headers.get("content-encoding") == encoding, response.url
        if "/img/" in response.url:
            assert response.body(), response.url

    # The stylesheets took effect: admin's variables, the imported theme, the url() background.
    styles = page.evaluate(
        """() => ({
            adminPrimary: getComputedStyle(document.documentElement).getPropertyValue('--primary'),
            bannerColor: getComputedStyle(document.querySelector('.banner')).backgroundColor,
            bannerImage: getComputedStyle(document.querySelector('.banner')).backgroundImage,
        })"""
    )
    assert styles["adminPrimary"].strip()
    assert styles["bannerColor"] == "rgb(29, 78, 137)"
    assert re.search(r"stripes\.[0-9a-f]{12}\.png", styles["bannerImage"])
    # The @font-face font loaded and the heading uses it.
    assert page.evaluate(
        "document.fonts.ready.then(() => document.fonts.check('16px \"ACME Display\"'))"
    )
    fonts = page.evaluate("[...document.fonts].map(f => [f.family, f.status])")
    assert ['"ACME Display"', "loaded"] in fonts or ["ACME Display", "loaded"] in fonts, fonts

    assert not record.failed
    assert not record.errors

    # The upload lands in the tenant's prefix, readable through the signed URL only.
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "invoice 7.txt", "mimeType": "text/plain", "buffer": b"invoice 7\n"}],
    )
    page.click("input[type=submit]")
    page.wait_for_selector("#upload-key")
    assert re.fullmatch(r"media/acme-corp/uploads/invoice_7.*\.txt", page.inner_text("#upload-key"))
    signed = page.get_attribute("#upload-url", "href")
    assert "X-Amz-Signature=" in signed
    assert page.request.get(signed).body() == b"invoice 7\n"
    assert page.request.get(signed.split("?")[0]).status == 403
    page.wait_for_selector('#module-status[data-state="ready"]', timeout=10_000)
    assert not record.failed
    assert not record.errors


def test_shop_served_by_whitenoise(chromium: Any, demo: DemoServer, tmp_path: Path) -> None:
    visit(
        chromium,
        demo.url,
        tmp_path / "whitenoise.png",
        lambda page, record: check_shop(
            page, record, demo.static_root, server_header="WSGIServer/"
        ),
    )


@pytest.mark.nginx
def test_shop_served_by_nginx(
    chromium: Any, demo: DemoServer, nginx_front: str, tmp_path: Path
) -> None:
    visit(
        chromium,
        nginx_front,
        tmp_path / "nginx.png",
        lambda page, record: check_shop(page, record, demo.static_root, server_header="nginx/"),
    )
