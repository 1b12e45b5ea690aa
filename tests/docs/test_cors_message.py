"""The browser's CORS message on the troubleshooting page is chromium's.

A page on one loopback origin loads a web font from another that sends no
``Access-Control-Allow-Origin``; chromium blocks it and says why on the console. The page shows
the message with its example origins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.docs.pages import text

pytestmark = pytest.mark.browser

FONT = "/static/fonts/display.3b1f0c9e8d7a.woff2"
PAGE_ORIGIN, STATIC_ORIGIN = "https://www.example.com", "https://d1234.cloudfront.net"


@contextmanager
def serving(body: bytes, content_type: str) -> Iterator[str]:
    """Answers every GET with ``body`` and no CORS headers; yields the origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_font_from_another_origin_without_the_header(chromium: Any) -> None:
    with serving(b"wOF2 not a real font", "font/woff2") as static_origin:
        html = (
            "<style>@font-face { font-family: Display; "
            f'src: url("{static_origin}{FONT}") format("woff2"); }}'
            "body { font-family: Display; }</style><p>text</p>"
        ).encode()
        with serving(html, "text/html; charset=utf-8") as page_origin:
            context = chromium.new_context()
            try:
                page = context.new_page()
                console: list[str] = []
                page.on("console", lambda message: console.append(message.text))
                page.goto(page_origin + "/", wait_until="networkidle")
                page.evaluate("document.fonts.ready")
            finally:
                context.close()
    blocked = [m for m in console if "CORS policy" in m]
    assert blocked, console
    shown = blocked[0].replace(static_origin, STATIC_ORIGIN).replace(page_origin, PAGE_ORIGIN)
    assert shown in text("troubleshooting.md"), shown
