"""The one CORS rule for static files, as each server states it.

Static files are read with ``GET`` and ``HEAD`` and never with credentials, so the rule is
small: those methods, from the configured origins, preflights cached for ``max_age``. S3 states
it as a bucket CORS rule (:func:`s3_rule`); nginx as the same headers stated once for every
request (:func:`stated_headers`, :func:`preflight_headers`), with the origins and methods it
allows as regular expressions it matches itself (:func:`origins_pattern`,
:func:`methods_pattern`; ``assetpipe.serve.nginx``); the generated edge code embeds
:func:`as_json` and runs ``cors.js``, the same rule in JavaScript (:func:`response_headers` is
its reference).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from assetpipe.conf.edge import CorsConfig

# Names assetpipe's rule among the bucket's: `cors --apply` replaces it and keeps the others.
RULE_ID = "assetpipe-static"
METHODS = ("GET", "HEAD")
# Requests with Range or a cache validator may be preflighted; nothing else is sent by a browser.
ALLOWED_HEADERS = ("*",)


def s3_rule(cors: CorsConfig) -> dict[str, Any]:
    """The bucket CORS rule (PutBucketCors's ``CORSRule``) for static files."""
    return {
        "ID": RULE_ID,
        "AllowedMethods": list(METHODS),
        "AllowedOrigins": list(cors.origins),
        "AllowedHeaders": list(ALLOWED_HEADERS),
        "MaxAgeSeconds": cors.max_age,
    }


def merged_s3_rules(
    existing: Sequence[Mapping[str, Any]], cors: CorsConfig
) -> list[dict[str, Any]]:
    """The bucket's rules with assetpipe's first: S3 applies the first rule that matches.

    Every other rule is kept as it was, in its order: media or another app may depend on it.
    """
    others = [dict(rule) for rule in existing if rule.get("ID") != RULE_ID]
    return [s3_rule(cors), *others]


def rule_is_current(existing: Sequence[Mapping[str, Any]], cors: CorsConfig) -> bool:
    """Whether the bucket already has the rule, first, as :func:`s3_rule` states it."""
    return bool(existing) and _normal(existing[0]) == _normal(s3_rule(cors))


def _normal(rule: Mapping[str, Any]) -> dict[str, Any]:
    # S3 returns lists in stored order and omits empty ones; compare as sets of values.
    normal: dict[str, Any] = {}
    for key, value in rule.items():
        normal[key] = sorted(value) if isinstance(value, list) else value
    return normal


def origin_allowed(cors: CorsConfig, origin: str) -> bool:
    """Whether ``origin`` matches one of the configured origins (each may hold one ``*``)."""
    return any(_pattern(allowed).fullmatch(origin) for allowed in cors.origins)


def _pattern(allowed: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in allowed.split("*")))


def response_headers(cors: CorsConfig, origin: str | None) -> dict[str, str]:
    """The CORS headers of a response to a request from ``origin`` (``None``: no ``Origin``).

    ``*`` is sent as ``*`` to every request, so caches may share one response; a list of
    origins echoes the request's origin when it is allowed, and the response then varies on it.
    ``Timing-Allow-Origin`` goes with it: the same pages may then read each file's timing and
    sizes (Resource Timing), e.g. to see that it arrived compressed.
    """
    allowed = origin is not None and origin_allowed(cors, origin)
    return stated_headers(cors, origin if allowed else None)


def stated_headers(cors: CorsConfig, allowed_origin: str | None) -> dict[str, str]:
    """:func:`response_headers` for a request from ``allowed_origin``, an origin already found
    allowed (``None``: none, or not allowed).

    A server that states its headers once for every request (nginx) passes the variable that
    holds the request's origin when the rule allows it and nothing otherwise; nginx leaves out a
    header whose value is empty, as :func:`response_headers` leaves it out.
    """
    if cors.any_origin:
        return {"Access-Control-Allow-Origin": "*", "Timing-Allow-Origin": "*"}
    headers = {"Vary": "Origin"}
    if allowed_origin is not None:
        headers["Access-Control-Allow-Origin"] = allowed_origin
        headers["Timing-Allow-Origin"] = allowed_origin
    return headers


def preflight_headers(cors: CorsConfig, request_headers: str | None) -> dict[str, str]:
    """What an allowed preflight's answer adds to :func:`response_headers`.

    ``request_headers`` is the preflight's ``Access-Control-Request-Headers`` (or the server's
    variable for it): every header is allowed (:data:`ALLOWED_HEADERS`), so the answer names
    the ones asked for, as S3 does.
    """
    headers = {
        "Access-Control-Allow-Methods": ", ".join(METHODS),
        "Access-Control-Max-Age": str(cors.max_age),
    }
    if request_headers:
        headers["Access-Control-Allow-Headers"] = request_headers
    return headers


def origins_pattern(cors: CorsConfig) -> str:
    """A regular expression matching exactly the origins :func:`origin_allowed` allows.

    Anchored, for a server that matches the ``Origin`` header itself (nginx's ``~``): the
    configured origins' own patterns, literal text and ``.*`` for each ``*``, in syntax that
    PCRE and Python's ``re`` read alike.
    """
    alternatives = "|".join(_pattern(allowed).pattern for allowed in cors.origins)
    return f"^(?:{alternatives})$"


def methods_pattern() -> str:
    """A regular expression matching exactly the methods in :data:`METHODS` (a preflight's
    ``Access-Control-Request-Method``), anchored like :func:`origins_pattern`."""
    return f"^(?:{'|'.join(re.escape(method) for method in METHODS)})$"


def as_json(cors: CorsConfig | None) -> dict[str, Any] | None:
    """The rule as the edge code embeds it (``cors.js`` reads these keys); ``None`` without
    a ``cors`` option: no CORS headers, every preflight refused, as S3 without CORS rules."""
    if cors is None:
        return None
    return {
        "origins": list(cors.origins),
        "methods": list(METHODS),
        "allowedHeaders": list(ALLOWED_HEADERS),
        "maxAge": cors.max_age,
    }


def cors_js() -> str:
    """``cors.js``: the rule's functions for the generated edge code (ES5, for any runtime)."""
    return files("assetpipe.edge").joinpath("cors.js").read_text(encoding="utf-8")


def config_js(cors: CorsConfig | None) -> str:
    """:func:`as_json` as a JavaScript literal, sorted so the output is deterministic."""
    return json.dumps(as_json(cors), sort_keys=True, ensure_ascii=True)
