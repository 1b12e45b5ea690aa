"""The CORS rule in the generated nginx configuration, answered by a real nginx.

Every kind of location the configuration writes is asked: the static location (an unhashed
name), the hashed-name location, an exact location (a prehashed name, an unhashed lookalike) and
the ones that answer 404. What nginx answers is compared with the rule itself
(``assetpipe.edge.cors``), never with a second copy of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assetpipe.conf.edge import CorsConfig
from assetpipe.edge.cors import METHODS, origin_allowed
from assetpipe.headers import IMMUTABLE_CACHE_CONTROL as IMMUTABLE
from assetpipe.serve.nginx import render_snippet, static_site
from tests.serve.conftest import DOTFILE_SECRET, BuiltStatic, NginxServer, running_nginx
from tests.serve.fetch import Response, fetch

pytestmark = pytest.mark.nginx

ANY = CorsConfig.from_options({"origins": ["*"], "max_age": 600})
LISTED = CorsConfig.from_options(
    {"origins": ["https://shop.example", "https://*.acme.example"], "max_age": 600}
)
PAGE = "https://shop.example"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Timing-Allow-Origin")
ACCEPT = {"br": "br", "gzip": "gzip", None: "identity"}  # Content-Encoding: Accept-Encoding
# A name given an exact location as if a bundler had hashed it.
PREHASHED = "app/img/logo.svg"
LOOKALIKE = "app/lib.deadbeefcafe.css"


@contextmanager
def serve(built: BuiltStatic, prefix: Path, cors: CorsConfig | None) -> Iterator[NginxServer]:
    inner_state = built.root / "build-state"
    inner_state.mkdir(exist_ok=True)
    (inner_state / "state.json").write_bytes(DOTFILE_SECRET)
    site = static_site("/static/", built.root, private_dirs=(inner_state,), cors=cors)
    assert site.lookalikes == (LOOKALIKE,)
    snippet = render_snippet(dataclasses.replace(site, prehashed=(PREHASHED,)))

    def server(listen: str) -> str:
        return f"server {{\n listen {listen};\n root {built.site};\n{snippet}\n}}"

    with running_nginx(prefix, server) as nginx:
        yield nginx
    assert "[warn]" not in nginx.error_log() and "[emerg]" not in nginx.error_log()


@pytest.fixture(scope="module")
def any_origin(
    built_static: BuiltStatic, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    with serve(built_static, tmp_path_factory.mktemp("nginx-any"), ANY) as server:
        yield server


@pytest.fixture(scope="module")
def listed(
    built_static: BuiltStatic, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    with serve(built_static, tmp_path_factory.mktemp("nginx-listed"), LISTED) as server:
        yield server


@pytest.fixture(scope="module")
def without(
    built_static: BuiltStatic, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NginxServer]:
    with serve(built_static, tmp_path_factory.mktemp("nginx-without"), None) as server:
        yield server


def names(built: BuiltStatic) -> dict[str, str]:
    """One name per kind of location, each with .br and .gz variants."""
    chosen = {
        "static location": "app/css/site.css",
        "hashed location": built.manifest()["app/js/app.js"],
        "prehashed location": PREHASHED,
        "lookalike location": LOOKALIKE,
    }
    for name in chosen.values():
        assert Path(f"{built.root / name}.br").exists() and Path(f"{built.root / name}.gz").exists()
    return chosen


def vary(response: Response) -> set[str]:
    """Every value of every Vary header: nginx sends Accept-Encoding and Origin apart."""
    values = response.headers.get_all("Vary") or []
    return {token.strip() for value in values for token in value.split(",") if token.strip()}


def cors_headers(response: Response) -> dict[str, str | None]:
    return {name: response.header(name) for name in CORS_HEADERS}


def get(server: NginxServer, name: str, headers: dict[str, str], method: str = "GET") -> Response:
    return fetch(server.url, f"/static/{name}", headers, method)


# --- "origins": ["*"] ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "gzip", None])
@pytest.mark.parametrize("origin", [PAGE, None])
def test_any_origin_on_originals_and_variants(
    any_origin: NginxServer, built_static: BuiltStatic, encoding: str | None, origin: str | None
) -> None:
    for where, name in names(built_static).items():
        headers = {"Accept-Encoding": ACCEPT[encoding], **({"Origin": origin} if origin else {})}
        response = get(any_origin, name, headers)
        assert response.status == 200, where
        assert response.header("Content-Encoding") == encoding, where
        assert response.decoded() == (built_static.root / name).read_bytes(), where
        assert cors_headers(response) == {name: "*" for name in CORS_HEADERS}, where
        # "*" is the same for every origin: nothing to vary on but the encoding.
        assert vary(response) == {"Accept-Encoding"}, where
        assert response.header("X-Content-Type-Options") == "nosniff", where


def test_any_origin_leaves_the_other_headers_as_they_were(
    any_origin: NginxServer, without: NginxServer, built_static: BuiltStatic
) -> None:
    for where, name in names(built_static).items():
        headers = {"Accept-Encoding": "br", "Origin": PAGE}
        with_cors, plain = get(any_origin, name, headers), get(without, name, headers)
        for header in ("Cache-Control", "Content-Type", "Content-Length", "ETag"):
            assert with_cors.header(header) == plain.header(header), (where, header)
    hashed = get(any_origin, names(built_static)["hashed location"], {"Origin": PAGE})
    assert hashed.header("Cache-Control") == IMMUTABLE


@pytest.mark.parametrize("encoding", ["br", "gzip", None])
def test_any_origin_on_not_modified(
    any_origin: NginxServer, built_static: BuiltStatic, encoding: str | None
) -> None:
    for where, name in names(built_static).items():
        headers = {"Accept-Encoding": ACCEPT[encoding], "Origin": PAGE}
        first = get(any_origin, name, headers)
        assert first.header("Content-Encoding") == encoding
        etag, last_modified = first.header("ETag"), first.header("Last-Modified")
        assert etag and last_modified
        for validator in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
            response = get(any_origin, name, {**headers, **validator})
            assert response.status == 304, (where, validator)
            assert response.body == b""
            assert cors_headers(response) == {name: "*" for name in CORS_HEADERS}, where
            assert vary(response) == {"Accept-Encoding"}, where


@pytest.mark.parametrize(
    "path",
    [
        "/static/app/css/missing.css",
        "/static/app/css/missing.0123456789ab.css",
        "/static/.env",
        "/static/app/.hidden/x.css",
        "/static/build-state/state.json",
    ],
)
def test_any_origin_on_not_found(any_origin: NginxServer, path: str) -> None:
    # "always": a page that asks for a missing file can read that it is missing.
    response = fetch(any_origin.url, path, {"Origin": PAGE})
    assert response.status == 404
    assert DOTFILE_SECRET not in response.body
    assert cors_headers(response) == {name: "*" for name in CORS_HEADERS}


def test_any_origin_on_head(any_origin: NginxServer, built_static: BuiltStatic) -> None:
    for where, name in names(built_static).items():
        response = get(any_origin, name, {"Accept-Encoding": "br", "Origin": PAGE}, "HEAD")
        assert response.status == 200, where
        assert response.body == b""
        assert response.header("Content-Encoding") == "br", where
        assert cors_headers(response) == {name: "*" for name in CORS_HEADERS}, where


@pytest.mark.parametrize("method", METHODS)
def test_any_origin_answers_preflights(
    any_origin: NginxServer, built_static: BuiltStatic, method: str
) -> None:
    for where, name in names(built_static).items():
        response = get(
            any_origin,
            name,
            {
                "Origin": PAGE,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "range, if-none-match",
            },
            "OPTIONS",
        )
        assert response.status == 204, where
        assert response.body == b""
        assert cors_headers(response) == {name: "*" for name in CORS_HEADERS}, where
        assert response.header("Access-Control-Allow-Methods") == "GET, HEAD"
        assert response.header("Access-Control-Allow-Headers") == "range, if-none-match"
        assert response.header("Access-Control-Max-Age") == "600"
    # Without requested headers there are none to allow.
    plain = get(
        any_origin,
        "app/css/site.css",
        {"Origin": PAGE, "Access-Control-Request-Method": "GET"},
        "OPTIONS",
    )
    assert plain.status == 204
    assert plain.header("Access-Control-Allow-Headers") is None


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "get"])
def test_any_origin_refuses_preflights_for_other_methods(
    any_origin: NginxServer, method: str
) -> None:
    response = fetch(
        any_origin.url,
        "/static/app/css/site.css",
        {"Origin": PAGE, "Access-Control-Request-Method": method},
        "OPTIONS",
    )
    assert response.status == 403
    assert cors_headers(response) == dict.fromkeys(CORS_HEADERS)
    assert response.header("Access-Control-Allow-Methods") is None


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("OPTIONS", {}),
        ("OPTIONS", {"Origin": PAGE}),
        ("OPTIONS", {"Access-Control-Request-Method": "GET"}),
        ("PUT", {"Origin": PAGE}),
        ("DELETE", {}),
    ],
)
def test_what_is_not_a_preflight_stays_not_allowed(
    any_origin: NginxServer, without: NginxServer, method: str, headers: dict[str, str]
) -> None:
    for server in (any_origin, without):
        response = fetch(server.url, "/static/app/css/site.css", headers, method)
        assert response.status == 405, (server.url, method, headers)
        assert response.header("Access-Control-Allow-Methods") is None


def test_a_preflight_for_a_private_path_is_not_found(any_origin: NginxServer) -> None:
    preflight = {"Origin": PAGE, "Access-Control-Request-Method": "GET"}
    for path in ("/static/.env", "/static/build-state/state.json"):
        assert fetch(any_origin.url, path, preflight, "OPTIONS").status == 404


# --- a list of origins ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["br", "gzip", None])
def test_listed_origin_is_echoed_on_originals_and_variants(
    listed: NginxServer, built_static: BuiltStatic, encoding: str | None
) -> None:
    for origin in (PAGE, "https://eu.acme.example"):
        for where, name in names(built_static).items():
            response = get(listed, name, {"Accept-Encoding": ACCEPT[encoding], "Origin": origin})
            assert response.status == 200, where
            assert response.header("Content-Encoding") == encoding, where
            assert response.decoded() == (built_static.root / name).read_bytes(), where
            assert cors_headers(response) == dict.fromkeys(CORS_HEADERS, origin), where
            # Both: the encoding nginx picked and the origin it echoed.
            assert vary(response) == {"Accept-Encoding", "Origin"}, where


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", None])
def test_other_origins_get_no_cors_headers_but_vary(
    listed: NginxServer, built_static: BuiltStatic, origin: str | None
) -> None:
    for where, name in names(built_static).items():
        headers = {"Accept-Encoding": "br", **({"Origin": origin} if origin else {})}
        response = get(listed, name, headers)
        assert response.status == 200
        assert response.header("Content-Encoding") == "br"
        assert cors_headers(response) == dict.fromkeys(CORS_HEADERS), where
        assert vary(response) == {"Accept-Encoding", "Origin"}, where


def test_listed_vary_without_variants(listed: NginxServer, built_static: BuiltStatic) -> None:
    # A PNG has no variants: only the origin varies.
    response = get(listed, "app/img/dot.png", {"Accept-Encoding": "br", "Origin": PAGE})
    assert not Path(f"{built_static.root}/app/img/dot.png.br").exists()
    assert response.header("Content-Encoding") is None
    assert vary(response) == {"Origin"}
    assert response.header("Access-Control-Allow-Origin") == PAGE


@pytest.mark.parametrize("encoding", ["br", "gzip", None])
def test_listed_on_not_modified_not_found_and_head(
    listed: NginxServer, built_static: BuiltStatic, encoding: str | None
) -> None:
    name = names(built_static)["hashed location"]
    for origin, echoed in ((PAGE, PAGE), ("https://evil.example", None)):
        headers = {"Accept-Encoding": ACCEPT[encoding], "Origin": origin}
        first = get(listed, name, headers)
        etag, last_modified = first.header("ETag"), first.header("Last-Modified")
        assert etag and last_modified
        for validator in ({"If-None-Match": etag}, {"If-Modified-Since": last_modified}):
            response = get(listed, name, {**headers, **validator})
            assert response.status == 304
            assert cors_headers(response) == dict.fromkeys(CORS_HEADERS, echoed)
            assert vary(response) == {"Accept-Encoding", "Origin"}
        missing = get(listed, "app/css/missing.css", headers)
        assert missing.status == 404
        assert cors_headers(missing) == dict.fromkeys(CORS_HEADERS, echoed)
        assert "Origin" in vary(missing)
        head = get(listed, name, headers, "HEAD")
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Encoding") == encoding
        assert cors_headers(head) == dict.fromkeys(CORS_HEADERS, echoed)


def test_listed_preflights(listed: NginxServer, built_static: BuiltStatic) -> None:
    for where, name in names(built_static).items():
        allowed = get(
            listed,
            name,
            {
                "Origin": "https://a.b.acme.example",
                "Access-Control-Request-Method": "HEAD",
                "Access-Control-Request-Headers": "range",
            },
            "OPTIONS",
        )
        assert allowed.status == 204, where
        assert cors_headers(allowed) == dict.fromkeys(CORS_HEADERS, "https://a.b.acme.example")
        assert allowed.header("Access-Control-Allow-Methods") == "GET, HEAD"
        assert allowed.header("Access-Control-Allow-Headers") == "range"
        assert allowed.header("Access-Control-Max-Age") == "600"
        assert vary(allowed) == {"Origin"}
    for origin, method in (("https://evil.example", "GET"), (PAGE, "PUT")):
        refused = get(
            listed,
            "app/css/site.css",
            {"Origin": origin, "Access-Control-Request-Method": method},
            "OPTIONS",
        )
        assert refused.status == 403, (origin, method)
        assert cors_headers(refused) == dict.fromkeys(CORS_HEADERS)
        assert refused.header("Access-Control-Allow-Methods") is None


# Origins a browser may send, and some it never would, around each configured pattern.
ORIGINS = [
    "https://shop.example",
    "https://shop.example:443",
    "https://shop.example.evil",
    "https://shopXexample",
    "https://www.shop.example",
    "http://shop.example",
    "HTTPS://SHOP.EXAMPLE",
    "https://acme.example",
    "https://.acme.example",
    "https://eu.acme.example",
    "https://a.b.acme.example",
    "https://eu.acme.example:8443",
    "https://eu.acme.example.evil",
    "https://eu-acme.example",
    "http://eu.acme.example",
    "https://evil.example/.acme.example",
    "https://evil.example?.acme.example",
    "null",
    "*",
    "http://127.0.0.1:8000",
    "http://127.0.0.1:8000:1",
    'https://a"b\\c.example',
    "https://a'b.example",
    "https://x-.example:8443",
    "https://x-y.z.example:8443",
    "https://x-y.example:80",
    "https://x.example:8443",
    "https://(a|b).example",
    "https://a.example",
    "https://b.example",
]


@pytest.mark.parametrize(
    "cors",
    [
        LISTED,
        # Odd but valid configurations: a port wildcard, characters a regex or nginx's
        # parser would read as syntax, a "*" before a port.
        CorsConfig.from_options(
            {
                "origins": [
                    "http://127.0.0.1:*",
                    'https://a"b\\c.example',
                    "https://a'b.example",
                    "https://x-*.example:8443",
                    "https://(a|b).example",
                ]
            }
        ),
    ],
    ids=["listed", "odd"],
)
def test_nginx_allows_exactly_the_origins_the_rule_allows(
    built_static: BuiltStatic, tmp_path: Path, cors: CorsConfig
) -> None:
    allowed = [origin for origin in ORIGINS if origin_allowed(cors, origin)]
    assert allowed and len(allowed) < len(ORIGINS)  # both answers are asked for
    with serve(built_static, tmp_path, cors) as server:
        for origin in ORIGINS:
            expected = origin if origin in allowed else None
            response = get(server, "app/css/site.css", {"Origin": origin})
            assert response.header("Access-Control-Allow-Origin") == expected, origin
            preflight = get(
                server,
                "app/css/site.css",
                {"Origin": origin, "Access-Control-Request-Method": "GET"},
                "OPTIONS",
            )
            assert preflight.status == (204 if expected else 403), origin


# --- without the option ----------------------------------------------------------------------


def test_without_the_option_no_cors_headers(
    without: NginxServer, built_static: BuiltStatic
) -> None:
    for where, name in names(built_static).items():
        for encoding in ("br", "gzip", None):
            response = get(without, name, {"Accept-Encoding": ACCEPT[encoding], "Origin": PAGE})
            assert response.status == 200
            assert cors_headers(response) == dict.fromkeys(CORS_HEADERS), where
            assert vary(response) == {"Accept-Encoding"}, where
    missing = fetch(without.url, "/static/app/css/missing.css", {"Origin": PAGE})
    assert missing.status == 404
    assert cors_headers(missing) == dict.fromkeys(CORS_HEADERS)
    preflight = fetch(
        without.url,
        "/static/app/css/site.css",
        {"Origin": PAGE, "Access-Control-Request-Method": "GET"},
        "OPTIONS",
    )
    assert preflight.status == 405
    assert preflight.header("Access-Control-Allow-Origin") is None
