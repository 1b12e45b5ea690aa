"""Early Hints in chromium, over HTTP/2 from Hypercorn: each file the 103 names is fetched once,
by the 103, and the page uses that fetch."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetpipe.serve.preload import parse_links
from tests.serve import test_integrity_browser as integrity
from tests.serve.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.serve.test_early_hints import (
    Server,
    certificate,
    get,
    server,
    static_url,
)

__all__ = ["certificate", "server"]  # fixtures, used by name

site = integrity.site

pytestmark = pytest.mark.browser
HOLD_AFTER_HINTS = True  # the page's response waits for chromium to act on the 103


def spki_pin(certificate: Path) -> str:
    """The base64 SHA-256 of the certificate's public key, as chromium's SPKI allow-list wants."""
    public = subprocess.run(
        ["openssl", "x509", "-in", str(certificate), "-pubkey", "-noout"],
        check=True,
        capture_output=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=public,
        check=True,
        capture_output=True,
    ).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def trusting(chromium: Any, certificate: tuple[Path, Path]) -> Iterator[Any]:
    """A second chromium from the suite's playwright that trusts the test's certificate.

    With a certificate error (``--ignore-certificate-errors``, or playwright's
    ``ignore_https_errors``) chromium keeps nothing of that host in its HTTP cache, and an Early
    Hints preload is handed to the page only through that cache, so each hinted file would be
    fetched twice. Pinning the key makes the certificate valid to chromium."""
    pin = spki_pin(certificate[0])
    browser = chromium.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"],
    )
    try:
        yield browser
    finally:
        browser.close()


@dataclass(frozen=True)
class Hinted:
    """A visit that got a 103: what the server saw of it, and how the page timed each file."""

    requests: list[tuple[str, dict[str, str]]]
    initiators: dict[str, str]

    def of(self, url: str) -> list[dict[str, str]]:
        """The headers of each request the server saw for ``url``."""
        return [headers for path, headers in self.requests if path == url]


def visit_twice(browser: Any, server: Server, **context_options: Any) -> Hinted:
    """Two first visits (fresh contexts, empty caches): the first teaches the page's links, the
    second gets them in a 103."""
    for _ in range(2):
        context = browser.new_context(**context_options)
        try:
            page = context.new_page()
            before = len(server.seen.requests)
            page.goto(server.url + "/", wait_until="networkidle")
            page.wait_for_function("document.documentElement.dataset.modules", timeout=10_000)
            assert page.evaluate("document.documentElement.dataset.modules") == (
                "a uses shared leaf | shared leaf | lazy uses shared leaf"
            )
            initiators = page.evaluate(
                """() => Object.fromEntries(performance.getEntriesByType('resource')
                    .map(e => [new URL(e.name).pathname, e.initiatorType]))"""
            )
        finally:
            context.close()
    return Hinted(server.seen.requests[before:], initiators)


def hinted_urls(server: Server) -> list[str]:
    return [link.target for link in parse_links([get(server, "/").headers["link"]])]


def test_chromium_fetches_each_hinted_file_once(trusting: Any, server: Server, site: Any) -> None:
    visit = visit_twice(trusting, server)
    urls = hinted_urls(server)
    modules = [static_url(site, f"app/mod/{name}.mjs") for name in ("shared", "a", "main")]
    assert urls[:3] == modules  # the modulepreloads, then the stylesheets and classic script
    # The second visit's 103 was followed: chromium asked for every file it named before the
    # page was sent, and the page used those fetches instead of asking again.
    assert server.seen.hints_followed == [True]
    for url in urls:
        assert len(visit.of(url)) == 1, (url, visit.requests)
