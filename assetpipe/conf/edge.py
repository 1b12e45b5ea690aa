"""``STORAGES["staticfiles"]["OPTIONS"]["cors"]`` and ``["edge"]``, validated once.

``cors`` says which origins may read the static files cross-origin (a page on
``www.example.com`` whose ``STATIC_URL`` is the bucket's or a CDN's host); ``edge`` names the CDN
in front of the bucket that serves the precompressed variants. Both are plain data, read by the
build, publishing, the nginx configuration and the generated edge code alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ImproperlyConfigured

OPTIONS = 'STORAGES["staticfiles"]["OPTIONS"]'

# The CDNs whose edge code assetpipe generates.
CDNS = ("cloudfront", "cloudflare")

# An origin as a browser sends it: scheme://host[:port], no path; S3 allows one "*" in it.
_ORIGIN = re.compile(r"https?://[^/\s*]*(\*[^/\s*]*)?(:\d{1,5})?")

# A day: browsers cap preflight caching lower (Chromium at two hours), S3 and nginx take it.
DEFAULT_MAX_AGE = 86400


@dataclass(frozen=True)
class CorsConfig:
    """Cross-origin reads of static files: ``GET``/``HEAD`` from ``origins``."""

    origins: tuple[str, ...] = ("*",)
    max_age: int = DEFAULT_MAX_AGE

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    @classmethod
    def from_options(cls, value: object) -> CorsConfig:
        where = f'{OPTIONS}["cors"]'
        values = _known_keys(value, where, cls)
        origins = values.get("origins", ["*"])
        if isinstance(origins, str) or not isinstance(origins, list | tuple) or not origins:
            raise _invalid(where, "origins", origins, 'a non-empty list of origins, e.g. ["*"]')
        for origin in origins:
            if origin != "*" and not (isinstance(origin, str) and _ORIGIN.fullmatch(origin)):
                raise _invalid(
                    where,
                    "origins",
                    origin,
                    '"*" or an origin such as "https://www.example.com" (scheme, host and '
                    'port only, no trailing "/"; at most one "*" in the host)',
                )
        if len(origins) > 1 and "*" in origins:
            raise _invalid(where, "origins", origins, '["*"] alone, or a list of origins')
        max_age = values.get("max_age", DEFAULT_MAX_AGE)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise _invalid(where, "max_age", max_age, "a number of seconds (an integer >= 0)")
        return cls(origins=tuple(origins), max_age=max_age)


@dataclass(frozen=True)
class EdgeConfig:
    """The CDN in front of the bucket, which picks ``.br``/``.gz`` keys by ``Accept-Encoding``."""

    cdn: str

    @classmethod
    def from_options(cls, value: object) -> EdgeConfig:
        where = f'{OPTIONS}["edge"]'
        values = _known_keys(value, where, cls)
        cdn = values.get("cdn")
        if cdn not in CDNS:
            raise _invalid(where, "cdn", cdn, " or ".join(repr(c) for c in CDNS))
        return cls(cdn=cdn)


def _known_keys(value: object, where: str, cls: type) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(
            f"assetpipe: {where} is {value!r} ({type(value).__name__}); expected a dict"
        )
    known = {field.name for field in fields(cls)}
    unknown = sorted(str(key) for key in set(value) - known)
    if unknown:
        raise ImproperlyConfigured(
            f"assetpipe: {where} has unknown key {unknown[0]!r}; known keys: "
            f"{', '.join(sorted(known))}"
        )
    return dict(value)


def _invalid(where: str, key: str, value: object, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"assetpipe: {where}[{key!r}] is {value!r}; expected {expected}")
