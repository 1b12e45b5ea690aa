"""The example shop in chromium, its static files from nginx or WhiteNoise on their own origin.

The shop is built once with ``STATIC_URL`` on a loopback port chosen up front; each test then
serves STATIC_ROOT on that port (nginx with and without the CORS rule, the example app itself
with WhiteNoise) and opens the pages from another origin. Its stylesheets and scripts carry
``integrity`` and ``crossorigin="anonymous"`` and its web font is fetched in CORS mode: without
``Access-Control-Allow-Origin`` the browser refuses them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from assetpipe.conf.edge import CorsConfig
from assetpipe.serve.nginx import render_server, static_site
from tests.conftest import free_port
from tests.edge.shop import Shop, ShopLoad, build_shop, load_shop, serving_pages
from tests.serve.conftest import running_nginx

pytestmark = pytest.mark.browser

# nginx proxies every other path to the app; the pages come from their own origin instead.
UPSTREAM = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def static_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def shop(static_port: int, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Shop:
    bucket = f"shop-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return build_shop(
        tmp_path_factory.mktemp("shop"),
        static_url=f"http://127.0.0.1:{static_port}/static/",
        s3_endpoint=s3_endpoint,
        bucket=bucket,
    )


@pytest.fixture(scope="module")
def pages(shop: Shop) -> Iterator[str]:
    with serving_pages(shop) as url:
        yield url


def assert_brotli_for_css_and_js(load: ShopLoad) -> None:
    """Every stylesheet and script arrived brotli-encoded, smaller than it decodes to: sizes
    the page can read only with Timing-Allow-Origin."""
    css_js = {url for url in load.static if url.endswith((".css", ".js", ".mjs"))}
    assert len(css_js) >= 5, load.static
    assert css_js <= set(load.brotli()), load.static


@pytest.mark.nginx
def test_nginx_with_the_rule(
    shop: Shop, pages: str, static_port: int, chromium: Any, tmp_path: Path
) -> None:
    def server_block(listen: str) -> str:
        result = shop.manage(
            "assetpipe", "nginx", "--server", "--listen", listen, "--upstream", UPSTREAM
        )
        assert result.returncode == 0, result.stderr
        # The example's "cors" option is {"origins": ["*"]}: the configuration is the one
        # static_site() renders with it, and test_nginx_without_the_rule drops only that.
        cors = CorsConfig.from_options({"origins": ["*"]})
        site = static_site(f"http://{listen}/static/", shop.static_root, cors=cors)
        assert result.stdout == render_server(site, listen=listen, upstream=UPSTREAM)
        return result.stdout

    with running_nginx(tmp_path / "nginx", server_block, static_port) as nginx:
        load = load_shop(chromium, pages, nginx.url, tmp_path / "page.png")
    print(f"nginx with the CORS rule: {load.summary()}, {len(load.brotli())} brotli")
    assert load.ok, load.summary() + f"\n{load.blocked}\n{load.console_errors}"
    assert_brotli_for_css_and_js(load)


@pytest.mark.nginx
def test_nginx_without_the_rule(
    shop: Shop, pages: str, static_port: int, chromium: Any, tmp_path: Path
) -> None:
    def server_block(listen: str) -> str:
        site = static_site(f"http://{listen}/static/", shop.static_root, cors=None)
        return render_server(site, listen=listen, upstream=UPSTREAM)

    with running_nginx(tmp_path / "nginx", server_block, static_port) as nginx:
        load = load_shop(chromium, pages, nginx.url, tmp_path / "page.png")
    print(f"nginx without the CORS rule: {load.summary()}")
    assert not load.ok
    assert load.modules_ran == []
    assert load.stylesheets_applied == 0
    assert not load.font_loaded
    assert load.blocked


def test_whitenoise(
    shop: Shop, pages: str, static_port: int, chromium: Any, tmp_path: Path
) -> None:
    # A second instance of the example app on the static origin: its WhiteNoise middleware
    # serves STATIC_ROOT there, as behind a static host name or a CDN.
    with serving_pages(shop, static_port) as static:
        assert static == f"http://127.0.0.1:{static_port}/"
        load = load_shop(chromium, pages, static.rstrip("/"), tmp_path / "page.png")
    print(f"WhiteNoise: {load.summary()}, {len(load.brotli())} brotli")
    assert load.ok, load.summary() + f"\n{load.blocked}\n{load.console_errors}"
    # WhiteNoise sends no Timing-Allow-Origin, so the page reads no sizes (load.brotli() is
    # empty); the responses' Content-Encoding shows what arrived.
    css_js = [url for url in load.static if url.endswith((".css", ".js", ".mjs"))]
    assert len(css_js) >= 5, load.static
    assert all(load.static[url][1] == "br" for url in css_js), load.static
