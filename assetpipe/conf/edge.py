"""``STORAGES["staticfiles"]["OPTIONS"]["cors"]`` and ``["cdn"]``, validated once.

``cors`` says which origins may read the static files cross-origin (a page on
``www.example.com`` whose ``STATIC_URL`` is the bucket's or a CDN's host); ``cdn`` names the CDN
in front of the bucket that serves the precompressed variants. Both are plain data, read by the
build, publishing, the nginx configuration and the generated edge code alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assetpipe.conf.kit import OPTIONS, Check, choice, invalid, key, read_group

# The CDNs whose edge code assetpipe generates.
CDNS = ("cloudfront", "cloudflare")

# An origin as a browser sends it: scheme://host[:port], no path; S3 allows one "*" in it.
_ORIGIN = re.compile(r"https?://[^/\s*]*(\*[^/\s*]*)?(:\d{1,5})?")

# A day: browsers cap preflight caching lower (Chromium at two hours), S3 and nginx take it.
DEFAULT_MAX_AGE = 86400

CORS = key(OPTIONS, "cors")


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
        group = read_group(CORS, value, CORS_CHECKS)
        group.raise_first()
        return cls(**group.values)


def _origins(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise invalid(where, value, 'a non-empty list of origins, e.g. ["*"]')
    for origin in value:
        if origin != "*" and not (isinstance(origin, str) and _ORIGIN.fullmatch(origin)):
            raise invalid(
                where,
                origin,
                '"*" or an origin such as "https://www.example.com" (scheme, host and '
                'port only, no trailing "/"; at most one "*" in the host)',
            )
    if len(value) > 1 and "*" in value:
        raise invalid(where, value, '["*"] alone, or a list of origins')
    return tuple(value)


def _max_age(where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(where, value, "a number of seconds (an integer >= 0)")
    return value


CORS_CHECKS: dict[str, Check[Any]] = {"origins": _origins, "max_age": _max_age}

# ``cdn``: the CDN in front of the bucket, which picks ``.br``/``.gz`` keys by Accept-Encoding.
cdn = choice(*CDNS)
