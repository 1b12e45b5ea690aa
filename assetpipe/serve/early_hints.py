"""103 Early Hints under ASGI: the build's files a page preloaded, sent before its next response.

A page's links are known only once its template has rendered, which is when the response is
ready anyway. So :class:`EarlyHints` keeps the preloads that
PreloadMiddleware (:mod:`assetpipe.serve.preload`) wrote for a page's last HTML response and, on
the next request for that page, sends them as a 103 before Django starts on it, as a CDN that caches
``Link`` headers does. It wraps the ASGI application::

    from assetpipe.serve.early_hints import EarlyHints

    application = EarlyHints(get_asgi_application())

What it may send is what a shared cache could hand any visitor, and only files the build made:

- only the links assetpipe's tags recorded for the build's static files (never a media URL, a
  URL with a query, or a ``Link`` header other code set), and only those the final response
  still carries;
- a page is its scheme, host, script name (``root_path``) and path; the query is not part of it;
- nothing is learned from a response that is not the same for every visitor: ``Cache-Control:
  private``, ``no-store`` or ``no-cache``, a ``Set-Cookie``, ``Vary: *``, ``Vary`` on
  ``Cookie`` or ``Authorization``; such a response also forgets what the page had;
- a request with an ``Authorization`` header is passed through: no 103, nothing learned;
- the request headers a response names in ``Vary`` (``Accept-Language``...) must match those of
  the request the links were learned from, as in a cache's secondary key.

It sends a 103 only where the server advertises ASGI's ``http.response.early_hint`` extension in
``scope["extensions"]`` (Hypercorn over HTTP/2 and HTTP/3); elsewhere it passes every request
through untouched. Browsers act on a 103 only over HTTP/2 and later.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from assetpipe.serve.preload import Preload, header_list, noting_written, parse_links

__all__ = ["EXTENSION", "MAX_PATHS", "EarlyHints"]

EXTENSION = "http.response.early_hint"
MAX_PATHS = 1000  # pages whose links are kept, the least recently requested dropped first

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]  # Django's handler types its own

Headers = list[tuple[bytes, bytes]]
# scheme, host, script name, path
Page = tuple[str, str, str, str]

# Directives that make a response unfit for anyone but its own visitor, or for reuse unchecked;
# "*" stands for a header that does not parse.
_PRIVATE = frozenset({"private", "no-store", "no-cache", "*"})
# Request headers whose values are credentials: never kept, so a response varying on them is not.
_CREDENTIALS = frozenset({"cookie", "authorization", "*"})
# The encoding of the page changes none of its links.
_IGNORED_VARY = frozenset({"accept-encoding"})


@dataclass(frozen=True)
class Hints:
    """A page's links and the request header values (``Vary``) they were learned with."""

    vary: tuple[str, ...]
    values: tuple[str | None, ...]
    links: tuple[bytes, ...]


class EarlyHints:
    """ASGI middleware: a 103 with the build's files this page's last shared response preloaded."""

    def __init__(self, app: ASGIApp, max_paths: int = MAX_PATHS) -> None:
        self.app = app
        self.max_paths = max_paths
        self.links: OrderedDict[Page, Hints] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: Headers = [(bytes(k).lower(), bytes(v)) for k, v in scope.get("headers", ())]
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or EXTENSION not in (scope.get("extensions") or {})
            or _values(headers, b"authorization")
        ):
            await self.app(scope, receive, send)
            return
        page = _page(scope, headers)
        known = self.links.get(page)
        if known is not None and known.values == _request_values(headers, known.vary):
            self.links.move_to_end(page)
            await send({"type": EXTENSION, "links": list(known.links)})

        with noting_written() as written:

            async def watch(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self._learn(page, headers, message, written)
                await send(message)

            await self.app(scope, receive, watch)

    def _learn(self, page: Page, request: Headers, start: Message, written: list[Preload]) -> None:
        response: Headers = [(bytes(k).lower(), bytes(v)) for k, v in start.get("headers", ())]
        content_type = b"".join(_values(response, b"content-type")[:1])
        if start.get("status") != 200 or not content_type.startswith(b"text/html"):
            return
        vary = _names(response, b"vary")
        if (
            _names(response, b"cache-control") & _PRIVATE
            or _values(response, b"set-cookie")
            or vary & _CREDENTIALS
        ):
            self.links.pop(page, None)
            return
        links = _carried(written, response)
        if not links:
            self.links.pop(page, None)
            return
        names = tuple(sorted(vary - _IGNORED_VARY))
        self.links[page] = Hints(names, _request_values(request, names), links)
        self.links.move_to_end(page)
        while len(self.links) > self.max_paths:
            self.links.popitem(last=False)


def _carried(written: list[Preload], response: Headers) -> tuple[bytes, ...]:
    """The preloads PreloadMiddleware wrote that the final response still carries, as it does."""
    try:
        carried = set(parse_links(v.decode("latin-1") for v in _values(response, b"link")))
    except ValueError:
        return ()  # a Link header that does not parse: nothing is hinted rather than a guess
    links: list[bytes] = []
    for preload in written:
        link = preload.as_link()
        if link in carried:
            links.append(str(link).encode("ascii"))
    return tuple(links)


def _page(scope: Scope, headers: Headers) -> Page:
    host = b"".join(_values(headers, b"host")[:1]).decode("latin-1").lower()
    if not host and scope.get("server"):
        server_host, port = scope["server"]
        host = f"{server_host}:{port}"
    return (
        str(scope.get("scheme", "http")),
        host,
        str(scope.get("root_path", "")),
        str(scope.get("path", "")),
    )


def _values(headers: Headers, name: bytes) -> list[bytes]:
    return [value for key, value in headers if key == name]


def _names(headers: Headers, name: bytes) -> set[str]:
    """The lower-case names of a list header's elements (``Vary``, ``Cache-Control``)."""
    names: set[str] = set()
    for value in _values(headers, name):
        try:
            elements = header_list(value.decode("latin-1"))
        except ValueError:
            elements = ["*"]  # unreadable: as restrictive as it gets
        names.update(element.split("=", 1)[0].strip().lower() for element in elements)
    return names


def _request_values(headers: Headers, names: tuple[str, ...]) -> tuple[str | None, ...]:
    values: list[str | None] = []
    for name in names:
        found = _values(headers, name.encode("latin-1"))
        values.append(", ".join(v.decode("latin-1") for v in found) if found else None)
    return tuple(values)
