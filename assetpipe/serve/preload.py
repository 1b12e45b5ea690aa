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

Only files the build made are recorded: a URL under the static storage's, without a query or a
fragment, never under ``MEDIA_URL`` (a signed or per-user URL has no place in a header that a CDN
or :class:`assetpipe.serve.early_hints.EarlyHints` may hand to the next visitor).

This module is assetpipe's one reader and writer of ``Link`` headers (RFC 8288): :func:`parse_links`
and :class:`Link`, whose quoted-string values may hold commas, semicolons and escaped quotes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.encoding import iri_to_uri

__all__ = [
    "MAX_BYTES",
    "MAX_LINKS",
    "Link",
    "Preload",
    "PreloadMiddleware",
    "header_list",
    "is_static_url",
    "parse_links",
    "record",
    "recording",
]

MAX_LINKS = 20
# One header's value: nginx holds all of a proxied response's headers in one page-sized buffer
# (proxy_buffer_size, 4 or 8 KiB), and a larger header fails the whole response there.
MAX_BYTES = 2048


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A quoted-string's content: visible ASCII, space and tab (RFC 9110 5.6.4; obs-text left out, as
# a header value is ASCII here). Anything else cannot be written into a header.
_QUOTABLE = re.compile(r"[\t\x20-\x7e]*")
# A target: visible ASCII without the brackets that delimit it.
_TARGET = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+")
# Parameters whose registered values are tokens; every other value is written quoted.
_TOKEN_PARAMS = frozenset({"rel", "as"})


@dataclass(frozen=True)
class Link:
    """One ``link-value`` of a ``Link`` header (RFC 8288 section 3): a target and its
    parameters, names in lower case, in order; a bare parameter (``crossorigin``) has ``None``."""

    target: str
    params: tuple[tuple[str, str | None], ...] = ()

    def param(self, name: str) -> str | None:
        """The first value of ``name`` (RFC 8288 ignores a repeated ``rel``)."""
        return next((value for key, value in self.params if key == name), None)

    @property
    def rels(self) -> frozenset[str]:
        """The relation types of ``rel``, in lower case."""
        return frozenset((self.param("rel") or "").lower().split())

    def __str__(self) -> str:
        """This link as one value of a ``Link`` header; a ValueError for what cannot be one."""
        if not _TARGET.fullmatch(self.target):
            raise ValueError(f"not a Link target: {self.target!r}")
        parts = [f"<{self.target}>"]
        for name, value in self.params:
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"not a Link parameter name: {name!r}")
            if value is None:
                parts.append(name)
            elif name in _TOKEN_PARAMS and _TOKEN.fullmatch(value):
                parts.append(f"{name}={value}")
            elif _QUOTABLE.fullmatch(value):
                quoted = value.replace("\\", "\\\\").replace('"', '\\"')
                parts.append(f'{name}="{quoted}"')
            else:
                raise ValueError(f"not a Link parameter value: {value!r}")
        return "; ".join(parts)


def header_list(value: str) -> list[str]:
    """The elements of a comma-separated header list (RFC 9110 section 5.6.1), stripped, empty
    ones dropped: a comma inside a quoted-string or a ``<target>`` does not separate."""
    elements: list[str] = []
    start = 0
    quoted = bracketed = escaped = False
    for i, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif bracketed:
            bracketed = char != ">"
        elif char == '"':
            quoted = True
        elif char == "<":
            bracketed = True
        elif char == ",":
            elements.append(value[start:i])
            start = i + 1
    if quoted or bracketed:
        raise ValueError(f"unterminated quoted-string or target in {value!r}")
    elements.append(value[start:])
    return [element.strip(" \t") for element in elements if element.strip(" \t")]


_LINK_VALUE = re.compile(r"<([^>]*)>")
_PARAM = re.compile(
    r"""[ \t]*;[ \t]*(?P<name>[!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*"""
    r"""(?:=[ \t]*(?:(?P<token>[!#$%&'*+\-.^_`|~0-9A-Za-z]+)|"(?P<quoted>(?:[^"\\]|\\.)*)"))?"""
    r"""[ \t]*"""
)
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_links(values: Iterable[str]) -> list[Link]:
    """The links of ``Link`` header fields (RFC 8288 section 3), in order: quoted-string values
    unescaped, whatever commas and semicolons they hold. A ValueError if a field is malformed,
    so a caller that acts on links acts on none rather than on a guess."""
    links: list[Link] = []
    for value in values:
        for element in header_list(value):
            target = _LINK_VALUE.match(element)
            if target is None:
                raise ValueError(f"not a link-value: {element!r}")
            params: list[tuple[str, str | None]] = []
            position = target.end()
            while position < len(element):
                param = _PARAM.match(element, position)
                if param is None or param.end() == position:
                    raise ValueError(f"malformed parameters in {element!r}")
                quoted = param["quoted"]
                text = param["token"] if quoted is None else _QUOTED_PAIR.sub(r"\1", quoted)
                params.append((param["name"].lower(), text))
                position = param.end()
            links.append(Link(target[1], tuple(params)))
    return links


def is_static_url(url: str) -> bool:
    """Whether ``url`` names a file the build made: under the static storage's URL, without a
    query or a fragment (a signed or per-visitor URL has one), not under ``MEDIA_URL``."""
    if "?" in url or "#" in url:
        return False
    base = str(getattr(staticfiles_storage, "base_url", None) or settings.STATIC_URL or "")
    # An empty MEDIA_URL reads as the script name ("/prefix/"), which holds STATIC_URL too:
    # only a media URL that does not hold the static files' tells them apart.
    media = str(settings.MEDIA_URL or "")
    if media and not base.startswith(media) and url.startswith(media):
        return False
    return bool(base) and url.startswith(base)


@dataclass(frozen=True)
class Preload:
    """One file a tag rendered, and how the element that uses it asks for it."""

    url: str
    rel: str  # "preload" or "modulepreload"
    as_: str | None = None  # "style" or "script", for rel=preload
    crossorigin: str | bool | None = None  # True: the bare attribute
    integrity: str | None = None
    media: str | None = None

    def as_link(self) -> Link:
        params: list[tuple[str, str | None]] = [("rel", self.rel)]
        if self.as_:
            params.append(("as", self.as_))
        if self.crossorigin is True or self.crossorigin == "":
            params.append(("crossorigin", None))
        elif self.crossorigin:
            params.append(("crossorigin", str(self.crossorigin)))
        if self.integrity:
            params.append(("integrity", self.integrity))
        if self.media:
            params.append(("media", self.media))
        return Link(_uri(self.url), tuple(params))

    def link(self) -> str:
        """This file as one value of a ``Link`` header; a ValueError if a value cannot be in
        one (a control character, non-ASCII text)."""
        return str(self.as_link())


_rendered: ContextVar[list[Preload] | None] = ContextVar("assetpipe_preload", default=None)


# What PreloadMiddleware wrote into the response's Link header, for EarlyHints around it.
_written: ContextVar[list[Preload] | None] = ContextVar("assetpipe_preload_written", default=None)


def record(preload: Preload) -> None:
    """Note that a tag rendered ``preload``'s file: nothing outside :func:`recording`, nothing
    but a file the build made (:func:`is_static_url`)."""
    rendered = _rendered.get()
    if rendered is not None and is_static_url(preload.url):
        rendered.append(preload)


def record_tag(url_attr: str, attrs: Mapping[str, object], kind: str, built_url: str) -> None:
    """Record what a ``<script>`` (kind "script") or stylesheet ``<link>`` ("style") renders,
    if it loads ``built_url``, the build's file (an ``src=``/``href=`` of the template's own,
    which replaces it, is not the build's)."""
    url = attrs.get(url_attr)
    if url != built_url or attrs.get("nomodule") not in (None, False):
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


@contextmanager
def noting_written() -> Iterator[list[Preload]]:
    """Collect what :class:`PreloadMiddleware` writes into a ``Link`` header inside the block
    (threads and tasks the block starts write to the same list)."""
    written: list[Preload] = []
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def fitting(preloads: list[Preload], max_links: int, max_bytes: int) -> list[tuple[Preload, str]]:
    """Each URL once, in order, as ``Link`` values within both caps; a preload whose values
    cannot be written into a header is left out."""
    seen: set[str] = set()
    kept: list[tuple[Preload, str]] = []
    size = 0
    for preload in preloads:
        if preload.url in seen or len(kept) >= max_links:
            continue
        seen.add(preload.url)
        try:
            link = preload.link()
        except ValueError:
            continue
        added = len(link.encode()) + (2 if kept else 0)
        if size + added > max_bytes:
            break
        kept.append((preload, link))
        size += added
    return kept


def link_header(preloads: list[Preload], max_links: int, max_bytes: int) -> str:
    """The ``Link`` value for ``preloads``: each URL once, in order, within both caps."""
    return ", ".join(link for _, link in fitting(preloads, max_links, max_bytes))


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
        kept = fitting(rendered, self.max_links, self.max_bytes)
        if kept:
            value = ", ".join(link for _, link in kept)
            existing = response.get("Link")
            response["Link"] = f"{existing}, {value}" if existing else value
            written = _written.get()
            if written is not None:
                written[:] = [preload for preload, _ in kept]
        return response


def _uri(url: str) -> str:
    # A URL in a header is ASCII without spaces or angle brackets: the tags' URLs already are
    # (filepath_to_uri), a custom STATIC_URL may not be.
    return iri_to_uri(url).replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
