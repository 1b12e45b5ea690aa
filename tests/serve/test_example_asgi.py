"""The example shop under uvicorn with ServeStatic (``ACME_SERVER=servestatic``, ``acme.asgi``):
the header checks on every file of its build, and the page in chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from assetpipe.headers import content_type
from tests.conftest import free_port
from tests.serve.conftest import REPO, DemoServer, running_demo, wait_for_port
from tests.serve.fetch import fetch
from tests.serve.test_browser import check_shop, visit
from tests.serve.test_servestatic import IMMUTABLE, SHORT, parsed


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The demo's build and its S3 server (the page's upload form stores to it)."""
    with running_demo(tmp_path_factory.mktemp("demo-asgi")) as server:
        yield server


@pytest.fixture(scope="module")
def shop(demo: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn acme.asgi:application`` on the demo's build, as a user would start it."""
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    env = demo.env | {"ACME_SERVER": "servestatic"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "acme.asgi:application",
                "--app-dir",
                str(REPO / "example_project"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_for_port(port, timeout=60)
            except OSError:
                raise AssertionError(log.read_text()) from None
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=15)


def test_every_file_of_the_build_as_nginx_and_s3_send_it(shop: str, demo: DemoServer) -> None:
    manifest: dict[str, str] = json.loads((demo.static_root / "staticfiles.json").read_text())[
        "paths"
    ]
    assert any(name.startswith("admin/") for name in manifest)
    for original, hashed in manifest.items():
        for name, cache_control in ((hashed, IMMUTABLE), (original, SHORT)):
            response = fetch(shop, "/static/" + quote(name), {"Accept-Encoding": "gzip, br"})
            assert response.status == 200, name
            assert response.header("Cache-Control") == cache_control, name
            assert parsed(response.header("Content-Type")) == parsed(content_type(name)), name
            variant = demo.static_root / f"{name}.br"
            assert response.header("Content-Encoding") == ("br" if variant.exists() else None)
            assert response.decoded() == (demo.static_root / name).read_bytes(), name


def test_the_page_has_preload_links(shop: str) -> None:
    response = fetch(shop, "/")
    assert response.status == 200
    link = response.header("Link") or ""
    assert "rel=preload; as=style" in link, link


@pytest.mark.browser
def test_shop_served_by_servestatic(
    chromium: Any, shop: str, demo: DemoServer, tmp_path: Path
) -> None:
    preloaded = [
        link.split(">", 1)[0].removeprefix("<")
        for link in (fetch(shop, "/").header("Link") or "").split(", ")
    ]
    assert preloaded

    def check(page: Any, record: Any) -> None:
        # The preloads' fetches are the only ones: each file once (until the upload reloads).
        paths = [re.sub(r"^https?://[^/]+", "", r.url) for r in record.static()]
        for url in preloaded:
            assert paths.count(url) == 1, (url, paths)
        check_shop(page, record, demo.static_root, server_header="uvicorn")

    visit(chromium, shop + "/", tmp_path / "servestatic.png", check)
