"""The CORS rule as a server that matches and states it itself (nginx) receives it."""

from __future__ import annotations

import re

import pytest

from assetpipe.conf.edge import CorsConfig
from assetpipe.edge.cors import (
    METHODS,
    methods_pattern,
    origin_allowed,
    origins_pattern,
    preflight_headers,
    response_headers,
    stated_headers,
)

CONFIGS = [
    CorsConfig.from_options({"origins": ["*"]}),
    CorsConfig.from_options({"origins": ["https://shop.example", "https://*.acme.example"]}),
    CorsConfig.from_options({"origins": ["http://127.0.0.1:*", "https://(a|b).example"]}),
]
ORIGINS = [
    "https://shop.example",
    "https://shop.example.evil",
    "https://shopXexample",
    "https://eu.acme.example",
    "https://a.b.acme.example",
    "https://acme.example",
    "https://eu.acme.example:8443",
    "http://127.0.0.1:8000",
    "http://127.0.0.1",
    "https://(a|b).example",
    "https://a.example",
    "null",
    "",
]


@pytest.mark.parametrize("cors", CONFIGS)
def test_origins_pattern_allows_what_origin_allowed_allows(cors: CorsConfig) -> None:
    pattern = origins_pattern(cors)
    assert pattern.startswith("^") and pattern.endswith("$")
    for origin in ORIGINS:
        assert bool(re.search(pattern, origin)) == origin_allowed(cors, origin), origin


def test_methods_pattern() -> None:
    pattern = methods_pattern()
    for method in (*METHODS, "POST", "PUT", "OPTIONS", "get", "GETS", "XGET", ""):
        assert bool(re.search(pattern, method)) == (method in METHODS), method


@pytest.mark.parametrize("cors", CONFIGS)
def test_response_headers_are_the_stated_headers_of_an_allowed_origin(cors: CorsConfig) -> None:
    for origin in [*ORIGINS, None]:
        allowed = origin is not None and origin_allowed(cors, origin)
        expected = stated_headers(cors, origin if allowed else None)
        assert response_headers(cors, origin) == expected, origin
    # What nginx states for every request: a variable in place of the echoed origin.
    if cors.any_origin:
        assert stated_headers(cors, "$v") == {
            "Access-Control-Allow-Origin": "*",
            "Timing-Allow-Origin": "*",
        }
    else:
        assert stated_headers(cors, "$v") == {
            "Vary": "Origin",
            "Access-Control-Allow-Origin": "$v",
            "Timing-Allow-Origin": "$v",
        }


def test_preflight_headers() -> None:
    cors = CorsConfig.from_options({"origins": ["*"], "max_age": 600})
    assert preflight_headers(cors, "range, if-none-match") == {
        "Access-Control-Allow-Methods": "GET, HEAD",
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "range, if-none-match",
    }
    assert "Access-Control-Allow-Headers" not in preflight_headers(cors, None)
    assert "Access-Control-Allow-Headers" not in preflight_headers(cors, "")
