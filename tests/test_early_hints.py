"""EarlyHints: a 103 with a path's last preload links, only where the server offers one."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from assetpipe.early_hints import EXTENSION, EarlyHints, preload_links

STYLE = b'</static/a.0123456789ab.css>; rel=preload; as=style; crossorigin="anonymous"'
MODULE = b"</static/m.0123456789ab.mjs>; rel=modulepreload"
OTHER = b"<https://cdn.example>; rel=preconnect"


def page(links: bytes | None, content_type: bytes = b"text/html; charset=utf-8") -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", content_type)]
        if links is not None:
            headers.append((b"link", links))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"<!DOCTYPE html>"})

    return app


def request(app: Any, path: str = "/", extensions: Any = None) -> list[dict[str, Any]]:
    scope = {"type": "http", "method": "GET", "path": path}
    if extensions is not None:
        scope["extensions"] = extensions
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    # A loop of its own, in a thread of its own: this thread may already run one (playwright's).
    thread = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))
    thread.start()
    thread.join()
    return sent


def kinds(sent: list[dict[str, Any]]) -> list[str]:
    return [message["type"] for message in sent]


def test_the_next_request_gets_the_last_links_first() -> None:
    app = EarlyHints(page(b", ".join([STYLE, OTHER, MODULE])))
    first = request(app, extensions={EXTENSION: {}})
    assert kinds(first) == ["http.response.start", "http.response.body"]
    second = request(app, extensions={EXTENSION: {}})
    assert kinds(second) == [EXTENSION, "http.response.start", "http.response.body"]
    assert second[0]["links"] == [STYLE, MODULE]
    # Another path has links of its own.
    assert kinds(request(app, "/other", {EXTENSION: {}}))[0] == "http.response.start"


def test_nothing_where_the_server_offers_no_early_hints() -> None:
    app = EarlyHints(page(STYLE))
    offers: list[dict[str, Any] | None] = [None, {}, {"http.response.trailers": {}}]
    for extensions in offers:
        request(app, extensions=extensions)
        assert kinds(request(app, extensions=extensions))[0] == "http.response.start"
    assert app.links == {}


def test_only_html_pages_with_preloads_are_kept() -> None:
    assert not EarlyHints(page(None)).links
    app = EarlyHints(page(STYLE, b"application/json"))
    request(app, extensions={EXTENSION: {}})
    assert app.links == {}
    app = EarlyHints(page(OTHER))
    request(app, extensions={EXTENSION: {}})
    assert app.links == {}


def test_paths_are_capped() -> None:
    app = EarlyHints(page(MODULE), max_paths=2)
    for path in ("/a", "/b", "/c"):
        request(app, path, {EXTENSION: {}})
    assert list(app.links) == ["/b", "/c"]


def test_preload_links() -> None:
    headers = [(b"Link", b", ".join([STYLE, OTHER])), (b"link", MODULE), (b"x", STYLE)]
    assert preload_links(headers) == [STYLE, MODULE]
