"""``{% load assetpipe %}``: tags that use what the build recorded in ``staticfiles.json``.

With the storage's ``integrity`` option on, the build writes each served file's Subresource
Integrity value (``"integrity"``) and the JS module graph (``"modules"``) beside Django's
``"paths"``. These tags read them from ``staticfiles_storage``, which loaded them with the
manifest (from the bucket too, with ``read_manifest_from_bucket``); nothing is read from disk
while rendering, and what the tags derive is cached per manifest.

URLs are the ones ``{% static %}`` gives. In DEBUG those are plain names that the development
server serves from the finders, whose bytes may differ from the build's, so the tags leave
integrity out (and say so once in the log) rather than break the page.

``{% static_picture %}`` reads the ``"images"`` key the ``images`` option writes (sizes and the
AVIF/WebP variants kept, independent of ``integrity``); in DEBUG, or for an image the build has
no variants of, it renders a plain ``<img>``: it never names a variant that does not exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urljoin, urlsplit, urlunsplit

from django import template
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, staticfiles_storage
from django.utils.encoding import filepath_to_uri
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from assetpipe.naming import IMAGE_VARIANTS
from assetpipe.serve.preload import Preload, record, record_tag

register = template.Library()
logger = logging.getLogger("assetpipe")

_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
_logged: set[str] = set()


@dataclass
class BuildView:
    """The build as the tags see it: hashed names, integrity values, the module graph."""

    paths: Mapping[str, str]
    integrity: Mapping[str, str]
    modules: Mapping[str, Mapping[str, Any]]
    base_url: str
    images: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    derived: dict[object, Any] = field(default_factory=dict)  # rendered once per manifest

    def key(self, path: str) -> str:
        storage = _storage()
        return str(storage.hash_key(storage.clean_name(path)))

    def plain_url(self, name: str) -> str:
        return urljoin(self.base_url, (filepath_to_uri(name) or "").lstrip("/"))

    def asset(self, path: str) -> tuple[str, str | None]:
        """The URL and integrity for ``path``; a ValueError naming it if the build lacks it."""
        if settings.DEBUG:
            _log_once("debug", "DEBUG is on: assetpipe's tags render plain URLs, no integrity")
            return staticfiles_storage.url(path), None
        hashed = self.paths.get(self.key(path))
        if hashed is None:
            raise ValueError(f"Missing staticfiles manifest entry for '{path}'")
        value = self.integrity.get(hashed)
        if value is None:
            raise ValueError(
                f"No integrity for '{path}' in staticfiles.json: build it with "
                'STORAGES["staticfiles"]["OPTIONS"]["integrity"] = True'
            )
        return self.plain_url(hashed), value


_cache: list[tuple[object, object, BuildView]] = []


def _storage() -> ManifestStaticFilesStorage:
    return cast(ManifestStaticFilesStorage, staticfiles_storage)


def current_build() -> BuildView:
    """The build of the storage's manifest, made once per manifest the storage loads."""
    storage = _storage()
    extras: Mapping[str, Any] = getattr(storage, "manifest_extras", None) or {}
    manifest_hash = getattr(storage, "manifest_hash", None)
    # The cache holds ``extras`` itself, so its identity cannot be reused by another dict.
    if _cache and _cache[0][0] is extras and _cache[0][1] == manifest_hash:
        return _cache[0][2]
    if not extras and settings.DEBUG:
        _log_once("no-build", "no build with integrity in staticfiles.json; plain URLs only")
    view = BuildView(
        paths=getattr(storage, "hashed_files", {}),
        integrity=extras.get("integrity", {}),
        modules=extras.get("modules", {}),
        base_url=str(storage.base_url or settings.STATIC_URL),
        images=extras.get("images", {}),
    )
    _cache[:] = [(extras, manifest_hash, view)]
    return view


def _log_once(topic: str, message: str) -> None:
    if topic not in _logged:
        _logged.add(topic)
        logger.warning("assetpipe: %s", message)


def _nonce(context: template.Context, nonce: object) -> str | None:
    # Django 6.0+'s csp context processor puts a lazy ``csp_nonce`` in the context.
    value = nonce if nonce is not None else context.get("csp_nonce")
    return None if value is None or value == "" else str(value)


def render_attrs(attrs: Mapping[str, object]) -> str:
    """HTML attributes: ``True`` renders the bare name, ``False`` and ``None`` leave it out,
    ``_`` in a name becomes ``-`` (``data_role`` -> ``data-role``)."""
    parts: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        attr = name.replace("_", "-")
        parts.append(attr if value is True else f'{attr}="{conditional_escape(str(value))}"')
    return "".join(f" {part}" for part in parts)


def _asset_attrs(
    url_attr: str, path: str, attrs: dict[str, object]
) -> tuple[str, dict[str, object]]:
    """The build's URL for ``path`` and the element's attributes (``attrs`` replace defaults)."""
    url, integrity = current_build().asset(path)
    crossorigin = "anonymous" if integrity else None
    return url, {url_attr: url, "integrity": integrity, "crossorigin": crossorigin, **attrs}


@register.simple_tag
def static_integrity(path: str) -> str:
    """The ``sha384-...`` value of the file ``{% static path %}`` names ('' in DEBUG)."""
    return current_build().asset(path)[1] or ""


@register.simple_tag(takes_context=True)
def static_script(context: template.Context, path: str, **attrs: object) -> SafeString:
    """``<script src integrity crossorigin ...></script>``; other attributes pass through."""
    attrs["nonce"] = _nonce(context, attrs.pop("nonce", None))
    url, rendered = _asset_attrs("src", path, attrs)
    record_tag("src", rendered, "script", url)
    html = f"<script{render_attrs(rendered)}></script>"
    return mark_safe(html)  # every value escaped by render_attrs


@register.simple_tag(takes_context=True)
def static_stylesheet(context: template.Context, path: str, **attrs: object) -> SafeString:
    """``<link rel="stylesheet" href integrity crossorigin ...>``; other attributes pass through."""
    attrs["nonce"] = _nonce(context, attrs.pop("nonce", None))
    url, rendered = _asset_attrs("href", path, attrs)
    record_tag("href", rendered, "style", url)
    html = f'<link rel="stylesheet"{render_attrs(rendered)}>'
    return mark_safe(html)  # every value escaped by render_attrs


@register.simple_tag(takes_context=True)
def importmap(context: template.Context, nonce: object = None) -> SafeString:
    """``<script type="importmap">``: each mapped module's plain URL -> its hashed URL, with the
    ``integrity`` of each, so modules that import each other by plain names load hashed files."""
    build = current_build()
    key = ("importmap", settings.DEBUG)
    if key not in build.derived:
        build.derived[key] = _import_map_json(build)
    attrs = render_attrs({"type": "importmap", "nonce": _nonce(context, nonce)})
    return mark_safe(f"<script{attrs}>{build.derived[key]}</script>")


def _import_map_json(build: BuildView) -> str:
    imports: dict[str, str] = {}
    integrity: dict[str, str] = {}
    if not settings.DEBUG:
        for key, module in build.modules.items():
            hashed = build.paths.get(key)
            value = build.integrity.get(hashed or "")
            if module.get("mapped") and hashed is not None and value is not None:
                hashed_url = build.plain_url(hashed)
                imports[build.plain_url(key)] = hashed_url
                integrity[hashed_url] = value
    payload = {"imports": imports, "integrity": integrity}
    return json.dumps(payload, indent=1, sort_keys=True).translate(_JSON_SCRIPT_ESCAPES)


@register.simple_tag(takes_context=True)
def modulepreload(context: template.Context, path: str, nonce: object = None) -> SafeString:
    """``<link rel="modulepreload">`` for the module and its static imports, transitively,
    dependencies first, each with its integrity."""
    build = current_build()
    links: list[str] = []
    for key in static_closure(build, build.key(path)):
        url, integrity = build.asset(key)
        attrs = {"rel": "modulepreload", "href": url, "integrity": integrity}
        record(Preload(url=url, rel="modulepreload", integrity=integrity))
        links.append(f"<link{render_attrs({**attrs, 'nonce': _nonce(context, nonce)})}>")
    return mark_safe("\n".join(links))  # every value escaped by render_attrs


@register.simple_tag
def static_picture(path: str, **attrs: object) -> SafeString:
    """``<picture>``: a ``<source type srcset>`` per AVIF/WebP variant the build kept, then
    ``<img src width height ...>``; other attributes (``alt``, ``loading``, ``class``,
    ``sizes``...) go on the ``<img>``. A plain ``<img>`` when the build has no variants of it."""
    src = staticfiles_storage.url(path)  # as {% static %}: hashed, or an error if missing
    data: Mapping[str, Any] = {}
    if not settings.DEBUG:  # the development server serves the finders' files, no variants
        build = current_build()
        data = build.images.get(build.key(path), {})
    size = {"width": data.get("width"), "height": data.get("height")}
    img = f"<img{render_attrs({'src': src, **size, **attrs})}>"
    sources = [
        f"<source{render_attrs({'type': IMAGE_VARIANTS[f][1], 'srcset': _variant_url(src, f)})}>"
        for f in IMAGE_VARIANTS
        if f in data.get("formats", ())
    ]
    if not sources:
        return mark_safe(img)  # every value escaped by render_attrs
    return mark_safe(f"<picture>{''.join(sources)}{img}</picture>")


def _variant_url(url: str, image_format: str) -> str:
    """The URL of ``url``'s image variant: its path with the variant's suffix, query kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + IMAGE_VARIANTS[image_format][0]))


def static_closure(build: BuildView, entry: str) -> Iterator[str]:
    """``entry`` and every module it imports statically, transitively, each after its imports."""
    done: set[str] = set()

    def visit(key: str) -> Iterator[str]:
        done.add(key)
        for imported in build.modules.get(key, {}).get("imports", ()):
            if imported not in done:
                yield from visit(imported)
        yield key

    return visit(entry)
