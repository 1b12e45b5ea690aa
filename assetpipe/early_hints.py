"""103 Early Hints under ASGI: the preload links of a page's last response, sent before the next.

A page's links are known only once its template has rendered, which is when the response is
ready anyway. So :class:`EarlyHints` keeps the preload and module-preload ``Link`` values of each
path's last HTML response and, on the next request for that path, sends them as a 103 before
Django starts on it, as a CDN that caches ``Link`` headers does. It wraps the ASGI application::

    from assetpipe.early_hints import EarlyHints

    application = EarlyHints(get_asgi_application())

It sends a 103 only where the server advertises ASGI's ``http.response.early_hint`` extension in
``scope["extensions"]`` (uvicorn over HTTP/2, Hypercorn); elsewhere it passes every request
through untouched. Browsers act on a 103 only over HTTP/2 and later.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["EXTENSION", "MAX_PATHS", "EarlyHints", "preload_links"]

EXTENSION = "http.response.early_hint"
MAX_PATHS = 1000  # paths whose links are kept, the least recently requested dropped first

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]  # Django's handler types its own

_PRELOAD_RELS = {b"rel=preload", b"rel=modulepreload"}


def preload_links(headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """The preload and module-preload values among a response's ``Link`` headers, in order."""
    found: list[bytes] = []
    for name, value in headers:
        if name.lower() != b"link":
            continue
        for link in value.split(b", "):
            params = {param.strip().lower() for param in link.split(b";")[1:]}
            if params & _PRELOAD_RELS:
                found.append(link.strip())
    return found


class EarlyHints:
    """ASGI middleware: a 103 with the links this path's last HTML response preloaded."""

    def __init__(self, app: ASGIApp, max_paths: int = MAX_PATHS) -> None:
        self.app = app
        self.max_paths = max_paths
        self.links: OrderedDict[str, list[bytes]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or EXTENSION not in (scope.get("extensions") or {})
        ):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        known = self.links.get(path)
        if known:
            self.links.move_to_end(path)
            await send({"type": EXTENSION, "links": list(known)})

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._learn(path, message)
            await send(message)

        await self.app(scope, receive, watch)

    def _learn(self, path: str, start: Message) -> None:
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", ())]
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if start.get("status") != 200 or not content_type.startswith(b"text/html"):
            return
        links = preload_links(headers)
        if links:
            self.links[path] = links
            self.links.move_to_end(path)
            while len(self.links) > self.max_paths:
                self.links.popitem(last=False)
        else:
            self.links.pop(path, None)
