"""Preload ``Link`` headers for what a page's assetpipe tags rendered.

``{% static_stylesheet %}``, ``{% static_script %}`` and ``{% modulepreload %}`` record each file
they render while a :class:`PreloadMiddleware` is handling the request; the middleware then sends
them, in the order they were rendered, as one ``Link`` header of the HTML response::

    Link: </static/app.4f1d2c3b4a59.css>; rel=preload; as=style; crossorigin; integrity="sha384-…",
          </static/app.9a8b7c6d5e4f.js>; rel=modulepreload; integrity="sha384-…"

A preload is used by the element that asks for the same file only if both ask in the same way
(CORS mode and integrity): otherwise the browser fetches the file twice. So each link carries
exactly the ``crossorigin`` and ``integrity`` its tag rendered, a module script
(``type="module"``) is preloaded as a module, and a ``nomodule`` script not at all. A CDN that
turns ``Link`` headers into 103 Early Hints (Cloudflare) sends them before the next response.

The header is capped: at most :attr:`PreloadMiddleware.max_links` links and
:attr:`PreloadMiddleware.max_bytes` bytes (subclass to change them); what does not fit is left
out, the earliest links kept. Without the middleware the tags record nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import cast

from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.encoding import iri_to_uri

__all__ = ["MAX_BYTES", "MAX_LINKS", "Preload", "PreloadMiddleware", "record", "recording"]

MAX_LINKS = 20
# One header's value: nginx holds all of a proxied response's headers in one page-sized buffer
# (proxy_buffer_size, 4 or 8 KiB), and a larger header fails the whole response there.
MAX_BYTES = 2048


@dataclass(frozen=True)
class Preload:
    """One file a tag rendered, and how the element that uses it asks for it."""

    url: str
    rel: str  # "preload" or "modulepreload"
    as_: str | None = None  # "style" or "script", for rel=preload
    crossorigin: str | bool | None = None  # True: the bare attribute
    integrity: str | None = None
    media: str | None = None

    def link(self) -> str:
        """This file as one value of a ``Link`` header."""
        parts = [f"<{_uri(self.url)}>", f"rel={self.rel}"]
        if self.as_:
            parts.append(f"as={self.as_}")
        if self.crossorigin is True or self.crossorigin == "":
            parts.append("crossorigin")
        elif self.crossorigin:
            parts.append(f"crossorigin={_quoted(str(self.crossorigin))}")
        if self.integrity:
            parts.append(f"integrity={_quoted(self.integrity)}")
        if self.media:
            parts.append(f"media={_quoted(self.media)}")
        return "; ".join(parts)


_rendered: ContextVar[list[Preload] | None] = ContextVar("assetpipe_preload", default=None)


def record(preload: Preload) -> None:
    """Note that a tag rendered ``preload``'s file (nothing outside :func:`recording`)."""
    rendered = _rendered.get()
    if rendered is not None:
        rendered.append(preload)


def record_tag(url_attr: str, attrs: Mapping[str, object], kind: str) -> None:
    """Record what a ``<script>`` (kind "script") or stylesheet ``<link>`` ("style") renders."""
    url = attrs.get(url_attr)
    if not isinstance(url, str) or attrs.get("nomodule") not in (None, False):
        return
    module = kind == "script" and attrs.get("type") == "module"
    crossorigin = attrs.get("crossorigin")
    integrity = attrs.get("integrity")
    media = attrs.get("media") if kind == "style" else None
    record(
        Preload(
            url=url,
            rel="modulepreload" if module else "preload",
            as_=None if module else kind,
            crossorigin=crossorigin if isinstance(crossorigin, str | bool) else None,
            integrity=integrity if isinstance(integrity, str) else None,
            media=media if isinstance(media, str) else None,
        )
    )


@contextmanager
def recording() -> Iterator[list[Preload]]:
    """Collect what the tags render inside the block, in order (threads and tasks the block
    starts see the same list)."""
    rendered: list[Preload] = []
    token = _rendered.set(rendered)
    try:
        yield rendered
    finally:
        _rendered.reset(token)


def link_header(preloads: list[Preload], max_links: int, max_bytes: int) -> str:
    """The ``Link`` value for ``preloads``: each URL once, in order, within both caps."""
    seen: set[str] = set()
    links: list[str] = []
    size = 0
    for preload in preloads:
        if preload.url in seen or len(links) >= max_links:
            continue
        seen.add(preload.url)
        link = preload.link()
        added = len(link.encode()) + (2 if links else 0)
        if size + added > max_bytes:
            break
        links.append(link)
        size += added
    return ", ".join(links)


class PreloadMiddleware(MiddlewareMixin):
    """Adds a ``Link`` header with what the page's assetpipe tags rendered (HTML responses)."""

    max_links = MAX_LINKS
    max_bytes = MAX_BYTES

    # Under WSGI, Django's hooks: both run in the request's thread, around the view.
    def process_request(self, request: HttpRequest) -> None:
        rendered: list[Preload] = []
        request._assetpipe_preload = (rendered, _rendered.set(rendered))  # type: ignore[attr-defined]

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        rendered, token = request.__dict__.pop("_assetpipe_preload", ([], None))
        if token is not None:
            _rendered.reset(token)
        return self.add_links(response, rendered)

    # Under ASGI, no hop to a thread and back for either hook: the list is set in this task's
    # context, which a sync view's thread copies, and read here.
    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response = cast(Callable[[HttpRequest], Awaitable[HttpResponseBase]], self.get_response)
        with recording() as rendered:
            response = await get_response(request)
        return self.add_links(response, rendered)

    def add_links(self, response: HttpResponseBase, rendered: list[Preload]) -> HttpResponseBase:
        if not rendered or not response.get("Content-Type", "").startswith("text/html"):
            return response
        value = link_header(rendered, self.max_links, self.max_bytes)
        if value:
            existing = response.get("Link")
            response["Link"] = f"{existing}, {value}" if existing else value
        return response


def _uri(url: str) -> str:
    # A URL in a header is ASCII without spaces or angle brackets: the tags' URLs already are
    # (filepath_to_uri), a custom STATIC_URL may not be.
    return iri_to_uri(url).replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
