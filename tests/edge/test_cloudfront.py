"""The CloudFront function, run on node as the runtime would run it, its policies, and
``manage.py assetpipe edge``.

Each test sends its events through one node process (tests/edge/function_driver.js).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import boto3
import brotli
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.edge.cloudfront import FUNCTION_MAX_BYTES, edge_files, function_code
from assetpipe.edge.negotiation import Negotiation
from assetpipe.naming import VARIANT_SUFFIXES, split_variant
from tests.edge.conftest import CheckFunction, RunFunction
from tests.publish.conftest import bucket_keys

REPO = Path(__file__).resolve().parents[2]
NEGOTIATION = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS)
# A skip list far longer than anyone's: the function must still fit.
LONG_SKIP = DEFAULT_SKIP_EXTENSIONS | {f"skipped-extension-{n:03}" for n in range(150)}
# What the runtime lacks ("Restricted features"): modules, the process, the network, timers.
ABSENT = (
    "require",
    "module",
    "exports",
    "process",
    "fetch",
    "XMLHttpRequest",
    "setTimeout",
    "setInterval",
    "setImmediate",
    "clearTimeout",
    "Buffer",
)
# ... and what the function has no use for: code from strings, logging, the global object.
UNUSED = ("eval", "Function", "console", "globalThis")


@dataclass(frozen=True)
class Header:
    """An ``Accept-Encoding`` as CloudFront hands it to the function."""

    id: str
    value: str | list[str] | None  # None: no header; a list: a header sent more than once
    chosen: str | None  # the coding the variant is picked for (a negotiable key)

    def event_header(self) -> dict[str, Any] | None:
        if self.value is None:
            return None
        if isinstance(self.value, str):
            return {"value": self.value}
        return {"value": self.value[0], "multiValue": [{"value": v} for v in self.value]}

    def joined(self) -> str | None:
        """The header as one field value, as the Python rule reads it."""
        return self.value if not isinstance(self.value, list) else ", ".join(self.value)


HEADERS = [
    Header("absent", None, None),
    Header("empty", "", None),
    Header("gzip", "gzip", "gzip"),
    Header("br", "br", "br"),
    Header("chrome", "gzip, deflate, br, zstd", "br"),
    Header("br refused", "br;q=0", None),
    Header("both refused", "gzip;q=0, br;q=0", None),
    Header("identity", "identity", None),
    Header("identity refused", "identity;q=0", None),
    Header("star", "*", "br"),
    Header("star refused", "*;q=0", None),
    Header("star refused, gzip", "*;q=0, gzip", "gzip"),
    Header("star half, br refused", "*;q=0.5, br;q=0", "gzip"),
    Header("upper case", "GZIP", "gzip"),
    Header("mixed case", "Br", "br"),
    Header("spaced weights", " br ; q=0.5 , gzip ; q=0.6", "gzip"),
    Header("q=1.0", "gzip;q=1.0", "gzip"),
    Header("q=1.001 malformed", "gzip;q=1.001", None),
    Header("q empty malformed", "gzip;q=", None),
    Header("q=0.000", "br;q=0.000", None),
    Header("x-gzip", "x-gzip", "gzip"),
    Header("deflate", "deflate", None),
    Header("compress, identity", "compress, identity", None),
    Header("br lower weight", "br;q=0.8, gzip", "gzip"),
    Header("no space", "gzip,br", "br"),
    Header("tabs", "gzip;q=0.5,\tbr\t;\tq=0.9", "br"),
    Header("Q upper case", "br;Q=1", "br"),
    Header("duplicate refused", "br, br;q=0", None),
    Header("duplicate lowest", "gzip;q=0.5, br;q=0.4, br", "gzip"),
    Header("last q wins", "br;q=0.5;q=0", None),
    Header("no coding", ";q=1", None),
    Header("multiValue", ["gzip", "br"], "br"),
    Header("multiValue refusing", ["br;q=0", "gzip"], "gzip"),
    Header("multiValue second", ["identity", "br"], "br"),
]


@dataclass(frozen=True)
class Name:
    id: str
    uri: str  # the request path, "/" + the percent-encoded key
    negotiable: bool


NAMES = [
    Name("css", "/static/css/app.css", True),
    Name("no extension", "/static/LICENSE", True),
    Name("space", "/static/css/my%20app.css", True),
    Name("non-ASCII", "/static/css/caf%C3%A9.css", True),
    Name("252-byte segment", "/static/" + "a" * 248 + ".css", True),
    Name("253-byte segment", "/static/" + "a" * 249 + ".css", False),
    Name("png", "/static/img/logo.png", False),
    Name("PNG", "/static/img/LOGO.PNG", False),
    Name("manifest", "/static/staticfiles.json", False),
    Name("history manifest", "/static/manifests/20260101T000000Z-0123456789ab.json", False),
    Name("variant asked directly", "/static/css/app.css.br", False),
    Name("outside the prefix", "/media/css/app.css", False),
    Name("the prefix alone", "/static/", False),
    Name("malformed", "/static/%E0%A4%A", False),
]


def event(uri: Any, header: dict[str, Any] | None) -> dict[str, Any]:
    """A viewer-request event, as "CloudFront Functions event structure" describes it."""
    headers: dict[str, Any] = {"host": {"value": "d111111abcdef8.cloudfront.net"}}
    if header is not None:
        headers["accept-encoding"] = header
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE"},
        "viewer": {"ip": "198.51.100.10"},
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": {"v": {"value": "1"}},
            "headers": headers,
            "cookies": {},
        },
    }


def expected_uri(name: Name, header: Header) -> str:
    if name.negotiable and header.chosen is not None:
        return name.uri + VARIANT_SUFFIXES[header.chosen]
    return name.uri


def default_function() -> str:
    return edge_files(NEGOTIATION, None)["cloudfront-function.js"]


@pytest.fixture(scope="module")
def table(run_function: RunFunction) -> dict[tuple[str, str], dict[str, Any]]:
    """The function's result for every name and header of the tables, from one batch."""
    pairs = [(name, header) for name in NAMES for header in HEADERS]
    events = [event(name.uri, header.event_header()) for name, header in pairs]
    results = run_function(default_function(), events)
    return {
        (name.id, header.id): {"sent": sent, **result}
        for (name, header), sent, result in zip(pairs, events, results, strict=True)
    }


def assert_rewritten(result: dict[str, Any], uri: str) -> None:
    assert "error" not in result, result["error"]
    # Only the URI changes; everything else goes on as it came.
    assert result["request"] == {**result["sent"]["request"], "uri": uri}


@pytest.mark.parametrize("header", HEADERS, ids=[h.id for h in HEADERS])
def test_accept_encoding_picks_the_variant(table: Any, header: Header) -> None:
    (css,) = (name for name in NAMES if name.id == "css")
    assert_rewritten(table["css", header.id], expected_uri(css, header))


@pytest.mark.parametrize("name", NAMES, ids=[n.id for n in NAMES])
def test_a_name_is_rewritten_only_when_it_has_every_variant(table: Any, name: Name) -> None:
    for header in HEADERS:
        assert_rewritten(table[name.id, header.id], expected_uri(name, header))


# Paths that a URL parser would resolve to a key outside the prefix. CloudFront hands the
# function the URI as received; the function never parses it, only appends a variant's suffix,
# and S3 reads the key it is asked for literally ("static/../media/x" is a key under static/).
# So the function asks for nothing outside the prefix; it must stay that way (the Worker, which
# builds a URL and so would resolve them, refuses them instead).
TRAVERSALS = [
    "/static/../media/acme/app.css",
    "/static/%2e%2e/media/acme/app.css",
    "/static/.%2E/media/acme/app.css",
    "/static/..%2fmedia%2facme%2fapp.css",
    "/static/..\\media\\acme\\app.css",
    "/static//media/acme/app.css",
]


def test_a_traversal_is_passed_on_as_received(run_function: RunFunction) -> None:
    pairs = [(uri, header) for uri in TRAVERSALS for header in HEADERS]
    results = run_function(default_function(), [event(u, h.event_header()) for u, h in pairs])
    suffixes: dict[str, set[str]] = {uri: set() for uri in TRAVERSALS}
    for (uri, _), result in zip(pairs, results, strict=True):
        asked = result["request"]["uri"]
        assert asked.startswith(uri), (uri, asked)
        suffixes[uri].add(asked[len(uri) :])
    assert all(found <= {"", ".br", ".gz"} for found in suffixes.values()), suffixes


def test_odd_input_passes_through_without_throwing(run_function: RunFunction) -> None:
    request = event("/static/css/app.css", None)["request"]
    odd = [
        None,
        {},
        {"request": None},
        {"request": {"uri": "/static/css/app.css"}},  # no headers at all
        {"request": {**request, "uri": 7, "headers": {"accept-encoding": {"value": "br"}}}},
        {"request": {**request, "uri": None, "headers": {"accept-encoding": {"value": "br"}}}},
        {"request": {**request, "headers": {"accept-encoding": {}}}},
        {"request": {**request, "headers": {"accept-encoding": {"value": 7}}}},
        {"request": {**request, "headers": {"accept-encoding": {"value": None}}}},
        {"request": {**request, "headers": {"accept-encoding": {"multiValue": [None]}}}},
        {"request": {**request, "headers": {"accept-encoding": {"multiValue": "br"}}}},
        {"request": {**request, "headers": {"accept-encoding": "br"}}},
        {"request": {**request, "headers": None}},
        event("/static/" + "%" * 3000, {"value": "br"}),
        event("/static/css/app.css", {"value": "," * 8000 + ";q=" * 1000}),
    ]
    results = run_function(default_function(), odd)
    for sent, result in zip(odd, results, strict=True):
        assert "error" not in result, (sent, result)
        assert result.get("request") == (sent or {}).get("request"), sent


def test_the_function_fits_cloudfronts_limit_with_a_long_skip_list() -> None:
    for skip in (DEFAULT_SKIP_EXTENSIONS, LONG_SKIP):
        code = edge_files(Negotiation("static/", ("br", "gzip"), skip), None)
        assert len(code["cloudfront-function.js"].encode()) <= FUNCTION_MAX_BYTES
    huge = Negotiation("static/", ("br", "gzip"), frozenset(f"x{n:05}" for n in range(2000)))
    with pytest.raises(ImproperlyConfigured, match=r"CloudFront function would be \d+ bytes"):
        edge_files(huge, None)


@pytest.mark.parametrize("skip", [DEFAULT_SKIP_EXTENSIONS, LONG_SKIP], ids=["default", "long"])
def test_the_code_is_es5_and_reaches_for_nothing_outside_the_language(
    check_function: CheckFunction, skip: frozenset[str]
) -> None:
    negotiation = Negotiation("static/", ("br", "gzip"), skip)
    checked = check_function(function_code(negotiation), [*ABSENT, *UNUSED, "CONFIG", "handler"])
    assert checked["es5"] is None
    assert checked["names"] == ["CONFIG", "handler"]
    # It ran where none of these exist and code generation from strings throws.
    assert {name: checked["context"][name] for name in ABSENT} == dict.fromkeys(ABSENT, "undefined")
    assert {k: v for k, v in checked["context"].items() if k not in (*ABSENT, *UNUSED)} == {
        "CONFIG": "object",
        "handler": "function",
        "eval('1')": "EvalError",
    }


def test_the_code_embeds_the_negotiation_and_renders_the_same_text_every_time() -> None:
    code = default_function()
    config = code.split("var CONFIG = ", 1)[1].split(";\n", 1)[0]
    assert json.loads(config) == NEGOTIATION.as_json()
    # The same text whatever order a frozenset iterates in (a new hash seed per process).
    render = (
        "import sys; from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS as S; "
        "from assetpipe.edge.negotiation import Negotiation as N; "
        "from assetpipe.edge.cloudfront import function_code as f; "
        "sys.stdout.write(f(N('static/', ('br', 'gzip'), S)))"
    )
    for seed in ("1", "2"):
        rendered = subprocess.run(
            [sys.executable, "-c", render],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert rendered.stdout == code


# --- the same rule as Python's ------------------------------------------------------------------

OWS = st.sampled_from(["", "", " ", "\t", "  ", " \t"])
NAMED_CODINGS = st.sampled_from(
    ["br", "gzip", "br", "gzip", "x-gzip", "identity", "deflate", "zstd", "*", "BR", "Gzip"]
)
CODINGS = st.one_of(NAMED_CODINGS, NAMED_CODINGS, NAMED_CODINGS, st.text("abgirz*-", max_size=5))
WELL_FORMED_Q = ["0", "1", "0.5", "1.0", "1.000", "0.001", "0.000", "0.8", "0.", "1."]
MALFORMED_Q = ["1.001", "2", "-1", "0.0001", ".5", "abc", "", "1e0", " 1", "0x1"]
QVALUES = st.sampled_from(WELL_FORMED_Q + MALFORMED_Q)
PARAMETER_NAMES = st.sampled_from(["q", "q", "Q", "level"])


@st.composite
def elements(draw: st.DrawFn) -> str:
    text = draw(OWS) + draw(CODINGS) + draw(OWS)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        text += ";" + draw(OWS) + draw(PARAMETER_NAMES) + draw(OWS) + "="
        text += draw(OWS) + draw(QVALUES) + draw(OWS)
    return text


FIELDS = st.lists(elements(), max_size=5).map(",".join)
ACCEPT_ENCODINGS: st.SearchStrategy[str | list[str] | None] = st.one_of(
    st.none(), FIELDS, FIELDS, st.lists(FIELDS, min_size=1, max_size=3)
)
SEGMENTS = st.text(
    st.characters(codec="utf-8", exclude_characters="/", exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
)
EXTENSIONS = st.sampled_from(
    ["css", "js", "svg", "mjs", "CSS", "css", "js", "png", "PNG", "woff2", "br", "gz", "map", ""]
)


@st.composite
def keys(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["static/"] * 5 + ["media/", "", "stat"]))
    special = draw(st.sampled_from([None] * 6 + ["staticfiles.json", "manifests/x.json", "long"]))
    if special == "long":
        # A last segment of about 248-256 bytes: variants fit up to 252.
        character = draw(st.sampled_from(["a", "é", "😀"]))
        count = draw(st.integers(244, 252)) // len(character.encode())
        return prefix + "d/" + character * count + ".css"
    if special is not None:
        return prefix + special
    folders = draw(st.lists(SEGMENTS, max_size=2))
    extension = draw(EXTENSIONS)
    return prefix + "/".join([*folders, draw(SEGMENTS)]) + (f".{extension}" if extension else "")


def test_the_function_picks_the_key_the_python_rule_picks(run_function: RunFunction) -> None:
    cases: list[tuple[str, Header]] = []

    @settings(max_examples=300, database=None, deadline=None)
    @given(keys(), ACCEPT_ENCODINGS)
    def collect(key: str, value: str | list[str] | None) -> None:
        cases.append((key, Header("generated", value, None)))

    collect()
    assert len(cases) >= 250
    events = [event("/" + quote(key), header.event_header()) for key, header in cases]
    results = run_function(default_function(), events)
    wrong, rewritten = [], 0
    for (key, header), result in zip(cases, results, strict=True):
        variant = NEGOTIATION.variant_key(key, header.joined())
        expected = "/" + quote(variant)
        rewritten += variant != key
        if result.get("request", {}).get("uri") != expected or "error" in result:
            wrong.append((key, header.value, expected, result))
    assert not wrong, f"{len(wrong)} of {len(cases)} differ, e.g. {wrong[:5]}"
    # The cases reach both outcomes, not just one.
    assert 10 <= rewritten <= len(cases) - 10, rewritten


# --- the policies -------------------------------------------------------------------------------


def policies(cors: CorsConfig | None) -> tuple[dict[str, Any], dict[str, Any]]:
    files = edge_files(NEGOTIATION, cors)
    return json.loads(files["cache-policy.json"]), json.loads(files["response-headers-policy.json"])


def test_the_cache_key_is_the_uri_and_normalised_accept_encoding() -> None:
    for cors in (None, CorsConfig(("https://www.example.com",))):
        cache, _ = policies(cors)
        assert len(cache["Comment"]) <= 128
        assert (cache["MinTTL"], cache["DefaultTTL"], cache["MaxTTL"]) == (0, 86400, 31536000)
        assert cache["ParametersInCacheKeyAndForwardedToOrigin"] == {
            "EnableAcceptEncodingBrotli": True,
            "EnableAcceptEncodingGzip": True,
            # Not Accept-Encoding (the flags add it), not Origin (the policy's CORS headers
            # are computed per response).
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        }


def test_without_cors_the_response_headers_policy_adds_only_vary() -> None:
    _, headers = policies(None)
    assert "CorsConfig" not in headers
    assert headers["CustomHeadersConfig"] == {
        "Quantity": 1,
        "Items": [{"Header": "Vary", "Value": "Accept-Encoding", "Override": True}],
    }


def test_any_origin_is_sent_as_star_and_varies_on_the_encoding_alone() -> None:
    _, headers = policies(CorsConfig(("*",), max_age=600))
    assert headers["CorsConfig"] == {
        "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]},
        "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowCredentials": False,
        "AccessControlMaxAgeSec": 600,
        "OriginOverride": True,
    }
    assert headers["CustomHeadersConfig"]["Items"][0]["Value"] == "Accept-Encoding"


def test_listed_origins_are_echoed_and_vary_on_origin_too() -> None:
    origins = ("https://www.example.com", "https://*.example.org")
    _, headers = policies(CorsConfig(origins))
    assert headers["CorsConfig"]["AccessControlAllowOrigins"] == {
        "Quantity": 2,
        "Items": list(origins),
    }
    assert headers["CorsConfig"]["AccessControlMaxAgeSec"] == 86400
    assert headers["CustomHeadersConfig"]["Items"] == [
        {"Header": "Vary", "Value": "Accept-Encoding, Origin", "Override": True}
    ]


def test_an_origin_cloudfront_cannot_state_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"'https://app-\*\.example\.com'.*leftmost"):
        edge_files(NEGOTIATION, CorsConfig(("https://app-*.example.com",)))


def test_the_readme_names_the_behaviour_and_the_steps() -> None:
    readme = edge_files(NEGOTIATION, None)["README.md"]
    for step in (
        "cloudfront-js-2.0",
        "publish-function",
        "viewer request",
        "`/static/*`",
        "create-cache-policy",
        "create-response-headers-policy",
        "Origin Access Control",
        "bucket-policy --cloudfront ARN",
        "Compress objects automatically",
    ):
        assert step in readme
    root = Negotiation("", ("br",), DEFAULT_SKIP_EXTENSIONS)
    assert "`Default (*)`" in edge_files(root, None)["README.md"]


# --- against a real publish ---------------------------------------------------------------------


@dataclass
class Published:
    bucket: str
    keys: set[str]
    negotiation: Negotiation


@pytest.fixture(scope="module")
def published(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The example project's static files and the admin's, built with a CloudFront edge and
    published to moto over HTTP."""
    from django.contrib.staticfiles import finders
    from django.core.files.storage import storages

    from assetpipe.storage import AssetPipeStorage

    bucket = f"edge-cloudfront-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    root = tmp_path_factory.mktemp("edge-publish") / "static"
    options = {
        # The example project's options (example_project/acme/settings.py) and an edge.
        "encodings": ["br", "gzip"],
        "js_module_imports": True,
        "integrity": True,
        "s3": {
            "bucket_name": bucket,
            "location": "static",
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        },
        "cdn": "cloudfront",
    }
    with override_settings(
        STATIC_ROOT=str(root),
        STATICFILES_DIRS=[str(REPO / "example_project" / "acme" / "static")],
        STATICFILES_FINDERS=[
            "django.contrib.staticfiles.finders.FileSystemFinder",
            "django.contrib.staticfiles.finders.AppDirectoriesFinder",  # the admin's
        ],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options},
        },
    ):
        finders.get_finder.cache_clear()  # type: ignore[attr-defined]
        call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
        storage = storages["staticfiles"]
        assert isinstance(storage, AssetPipeStorage) and storage.negotiation is not None
        negotiation = storage.negotiation
    finders.get_finder.cache_clear()  # type: ignore[attr-defined]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    yield Published(bucket, bucket_keys(client, bucket), negotiation)


def test_every_key_the_function_asks_for_is_published_with_its_encoding(
    published: Published, run_function: RunFunction, s3_endpoint: str
) -> None:
    originals = sorted(
        key
        for key in published.keys
        if split_variant(key)[1] is None and not key.startswith("static/manifests/")
    )
    assert any(key.startswith("static/admin/") for key in originals)
    assert any(key.startswith("static/acme/") for key in originals)
    assert "static/staticfiles.json" in originals
    pairs = [(key, header) for key in originals for header in HEADERS]
    events = [event("/" + quote(key), header.event_header()) for key, header in pairs]
    code = edge_files(published.negotiation, None)["cloudfront-function.js"]
    results = run_function(code, events)

    asked: dict[str, str] = {}  # the key the function asked for -> its original
    for (key, header), result in zip(pairs, results, strict=True):
        assert "error" not in result, result
        chosen = header.chosen if published.negotiation.negotiable(key) else None
        target = unquote(result["request"]["uri"])[1:]
        assert target == key + (VARIANT_SUFFIXES[chosen] if chosen else ""), (key, header)
        assert target in published.keys, f"{target} ({header.id}) is not in the bucket"
        asked[target] = key
    # Each variant of a negotiable file was asked for by some header, and only those.
    assert {k for k in asked if split_variant(k)[1]} == {
        key + suffix
        for key in originals
        if published.negotiation.negotiable(key)
        for suffix in VARIANT_SUFFIXES.values()
    }

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")

    def fetch(key: str) -> tuple[dict[str, Any], bytes]:
        head = client.head_object(Bucket=published.bucket, Key=key)
        body: bytes = client.get_object(Bucket=published.bucket, Key=key)["Body"].read()
        return head, body

    with ThreadPoolExecutor(4) as pool:
        fetched = dict(zip(asked, pool.map(fetch, asked), strict=True))
    decode: dict[str | None, Callable[[bytes], bytes]] = {
        None: lambda data: data,
        "br": brotli.decompress,
        "gzip": gzip.decompress,
    }
    for target, original in asked.items():
        head, body = fetched[target]
        original_head, original_body = fetched[original]
        encoding = split_variant(target)[1]
        assert head.get("ContentEncoding") == encoding, target
        assert head["ContentType"] == original_head["ContentType"], target
        assert head["CacheControl"] == original_head["CacheControl"], target
        assert decode[encoding](body) == original_body, target


# --- manage.py assetpipe edge -------------------------------------------------------------------


def use_storage(settings: Settings, **options: Any) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {
                "s3": {"bucket_name": "b", "location": "static", "variants": "bucket"},
                **options,
            },
        },
    }


def test_edge_command_writes_the_four_files(settings: Settings, tmp_path: Path) -> None:
    use_storage(settings, cdn="cloudfront", cors={"origins": ["https://example.com"]})
    out = io.StringIO()
    call_command("assetpipe", "edge", "--out", str(tmp_path / "edge"), stdout=out)

    expected = edge_files(
        Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS),
        CorsConfig(("https://example.com",)),
    )
    assert sorted(expected) == [
        "README.md",
        "cache-policy.json",
        "cloudfront-function.js",
        "response-headers-policy.json",
    ]
    for name, text in expected.items():
        assert (tmp_path / "edge" / name).read_text() == text
    assert out.getvalue().count("wrote ") == 4


def test_edge_command_without_an_edge_names_the_option(settings: Settings) -> None:
    use_storage(settings)
    with pytest.raises(
        CommandError, match=r'\["cdn"\] is not set: name the CDN, e.g. "cloudfront"'
    ):
        call_command("assetpipe", "edge", stdout=io.StringIO())


def test_edge_command_refuses_cors_origins_cloudfront_cannot_state(
    settings: Settings,
) -> None:
    use_storage(settings, cdn="cloudfront", cors={"origins": ["https://a*.example.com"]})
    with pytest.raises(CommandError, match=r"leftmost label"):
        call_command("assetpipe", "edge", stdout=io.StringIO())
