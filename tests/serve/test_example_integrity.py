"""The example shop's page with assetpipe's tags: integrity on every asset, the import map."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.serve.conftest import DemoServer, running_demo
from tests.serve.fetch import fetch

MODULES = ("acme/js/shop.mjs", "acme/js/cart.mjs", "acme/js/money.mjs", "acme/js/offers.mjs")
COUNTS = re.compile(r"^assetpipe: integrity of (\d+) files: (\d+) computed", re.MULTILINE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with running_demo(tmp_path_factory.mktemp("demo-integrity")) as server:
        yield server


def manifest(demo: DemoServer) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((demo.static_root / "staticfiles.json").read_bytes())
    return loaded


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_every_file_served_has_the_integrity_the_build_recorded(demo: DemoServer) -> None:
    integrity: dict[str, str] = manifest(demo)["integrity"]
    assert {"acme/css/site.css", *MODULES} <= set(integrity)
    for name, value in integrity.items():
        response = fetch(demo.url.rstrip("/"), f"/static/{quote(name)}", {"Accept-Encoding": ""})
        assert response.status == 200 and response.header("Content-Encoding") is None, name
        assert sri(response.body) == value, name
    # The cold build computed them; the run with nothing changed computed none.
    (cold_total, cold_computed), (warm_total, warm_computed) = COUNTS.findall("".join(demo.output))
    assert cold_total == warm_total == str(len(integrity))
    assert int(cold_computed) > 0 and warm_computed == "0"


def test_the_page_uses_the_tags(demo: DemoServer) -> None:
    html = fetch(demo.url.rstrip("/"), "/").body.decode()
    stored = manifest(demo)
    for name in ("admin/css/base.css", "acme/css/site.css", "acme/js/app.js"):
        hashed = stored["paths"][name]
        assert f'"/static/{hashed}" integrity="{stored["integrity"][hashed]}"' in html, name
    match = re.search(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert match
    imports = json.loads(match.group(1))["imports"]
    assert imports == {f"/static/{m}": f"/static/{stored['paths'][m]}" for m in MODULES}
    preloads = re.findall(r'<link rel="modulepreload" href="/static/([^"]+)"', html)
    assert preloads == [stored["paths"][m] for m in ("acme/js/money.mjs", "acme/js/cart.mjs")] + [
        stored["paths"]["acme/js/shop.mjs"]
    ]


@pytest.mark.browser
def test_the_import_mapped_modules_run_from_hashed_urls(
    chromium: Any, demo: DemoServer, tmp_path: Path
) -> None:
    context = chromium.new_context()
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(demo.url, wait_until="networkidle")
        page.wait_for_selector('#cart-status[data-state="ready"]', timeout=10_000)
        assert "Cart total $20.49" in page.inner_text("#cart-status")
        paths = manifest(demo)["paths"]
        mjs = [re.sub(r"^https?://[^/]+", "", url) for url in requested if ".mjs" in url]
        assert sorted(mjs) == sorted(f"/static/{paths[m]}" for m in MODULES)
        assert not errors, errors
    except BaseException:
        page.screenshot(path=str(tmp_path / "shop.png"), full_page=True)
        raise
    finally:
        context.close()
