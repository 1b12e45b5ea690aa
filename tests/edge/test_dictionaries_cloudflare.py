"""The Cloudflare Worker with the ``dictionaries`` option, run by workerd in front of three
builds published to moto (tests/edge/dictionaries_builds.py), and chromium through it."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import brotli
import pytest

from assetpipe.build.dictionaries import dcz_decode
from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.edge.cloudflare import COMPATIBILITY_DATE, edge_files
from assetpipe.edge.negotiation import Negotiation
from assetpipe.headers import DELTA_VARY, IMMUTABLE_CACHE_CONTROL, use_as_dictionary
from assetpipe.naming import delta_name, dictionary_id
from tests.conftest import free_port
from tests.dictionary_probe import wait_until_offered
from tests.edge.dictionaries_builds import (
    DICTIONARY_FILES,
    EXCLUDED,
    PAGE_FILES,
    PREFIX,
    Published,
    publish_builds,
)
from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import public_read_policy
from tests.edge.test_cloudflare import Client, Reply
from tests.edge.workerd import CF_BLOB_HEADER, WorkerdServer, running_worker

GOLDEN = Path(__file__).resolve().parent / "golden"
CHROME = "gzip, deflate, br, zstd, dcb, dcz"  # chromium's, with a dictionary
ANY_ORIGIN = CorsConfig(origins=("*",))


@pytest.fixture(scope="module")
def published(s3_front: S3CorsFront, tmp_path_factory: pytest.TempPathFactory) -> Published:
    return publish_builds(
        s3_front, "cloudflare-dictionaries", tmp_path_factory.mktemp("builds"), "cloudflare"
    )


@pytest.fixture(scope="module")
def worker(
    published: Published, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerdServer]:
    files = edge_files(published.negotiation, ANY_ORIGIN, DictionarySettings(previous_builds=1))
    with running_worker(
        tmp_path_factory.mktemp("workerd"),
        files["worker.js"],
        published.origin,
        COMPATIBILITY_DATE,
    ) as server:
        yield server


@pytest.fixture
def client(worker: WorkerdServer) -> Iterator[Client]:
    connection = Client(worker)
    try:
        yield connection
    finally:
        connection.close()


def fetch(client: Client, key: str, accept_encoding: str | None, available: str | None) -> Reply:
    """A request as Cloudflare hands it to the Worker: the client's Accept-Encoding in cf."""
    cf = {} if accept_encoding is None else {"clientAcceptEncoding": accept_encoding}
    headers = [(CF_BLOB_HEADER, json.dumps(cf)), ("Accept-Encoding", "br, gzip")]
    if available is not None:
        headers.append(("Available-Dictionary", available))
    return client.request("GET", "/" + key, headers)


def test_the_live_build_has_one_delta_per_dictionary_file(published: Published) -> None:
    live, previous = published.builds[-1], published.builds[-2]
    assert set(live.dictionaries) == {live.hashed(name) for name in DICTIONARY_FILES}
    for name in DICTIONARY_FILES:
        sha256 = hashlib.sha256(previous.files[previous.hashed(name)]).digest()
        deltas = live.dictionaries[live.hashed(name)]["deltas"]
        assert deltas == [base64.b64encode(sha256).decode()], name
        delta = PREFIX + delta_name(live.hashed(name), dictionary_id(sha256))
        assert delta in published.bucket_keys()


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("name", DICTIONARY_FILES)
def test_a_known_dictionary_gets_the_delta_and_it_decodes_to_the_new_file(
    published: Published, client: Client, name: str, method: str
) -> None:
    live, previous = published.builds[-1], published.builds[-2]
    hashed = live.hashed(name)
    key = PREFIX + hashed
    old = previous.files[previous.hashed(name)]
    delta = PREFIX + delta_name(hashed, dictionary_id(hashlib.sha256(old).digest()))
    stored = published.get(delta)
    cf = json.dumps({"clientAcceptEncoding": CHROME})
    reply = client.request(
        method,
        "/" + key,
        [(CF_BLOB_HEADER, cf), ("Available-Dictionary", previous.available(name))],
    )
    assert reply.status == 200
    assert reply.header("Content-Encoding") == "dcz"
    assert reply.header("Content-Type") == published.get(key)["ContentType"]
    assert reply.header("Cache-Control") == IMMUTABLE_CACHE_CONTROL
    assert reply.header("ETag") == stored["ETag"]
    assert reply.vary() == {v.strip().lower() for v in DELTA_VARY.split(",")}
    entry = live.dictionaries[hashed]
    assert reply.header("Use-As-Dictionary") == use_as_dictionary(entry["match"], entry["dest"])
    if method == "GET":
        assert reply.body == stored["Body"]
        assert dcz_decode(reply.body, old, len(live.files[hashed])) == live.files[hashed]


def sha256_header(data: bytes) -> str:
    return f":{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"


# (id, Accept-Encoding, which Available-Dictionary) -> today's coding
FALLBACKS = [
    ("no dictionary", CHROME, None, "br"),
    ("stale: older than previous_builds", CHROME, "build 1", "br"),
    ("an unknown dictionary", CHROME, "unknown", "br"),
    ("malformed: no colons", CHROME, "bare", "br"),
    ("malformed: short", CHROME, ":AAAA:", "br"),
    ("malformed: not base64", CHROME, ":" + "!" * 43 + "=:", "br"),
    ("malformed: two values", CHROME, "twice", "br"),
    ("dcz refused", "br, dcz;q=0", "build 2", "br"),
    ("dcz not offered", "gzip, br", "build 2", "br"),
    ("star refused", "gzip, *;q=0", "build 2", "gzip"),
    ("no Accept-Encoding", None, "build 2", None),
]


def available_value(published: Published, name: str, which: str | None) -> str | None:
    builds = {f"build {b.version}": b for b in published.builds}
    if which is None:
        return None
    if which in builds:
        return builds[which].available(name)
    if which == "unknown":
        return sha256_header(b"a dictionary nobody published")
    if which == "bare":
        return sha256_header(b"x").strip(":")
    if which == "twice":
        return published.builds[-2].available(name) + ", " + published.builds[-2].available(name)
    return which


@pytest.mark.parametrize("name", DICTIONARY_FILES)
@pytest.mark.parametrize(
    ("accept_encoding", "which", "coding"),
    [pytest.param(*case[1:], id=case[0]) for case in FALLBACKS],
)
def test_any_other_request_gets_todays_response_with_the_dictionary_headers(
    published: Published,
    client: Client,
    name: str,
    accept_encoding: str | None,
    which: str | None,
    coding: str | None,
) -> None:
    hashed = published.live.hashed(name)
    key = PREFIX + hashed
    reply = fetch(client, key, accept_encoding, available_value(published, name, which))
    assert reply.status == 200
    assert reply.header("Content-Encoding") == coding
    suffix = {"br": ".br", "gzip": ".gz", None: ""}[coding]
    assert reply.body == published.get(key + suffix)["Body"]
    entry = published.live.dictionaries[hashed]
    assert reply.header("Use-As-Dictionary") == use_as_dictionary(entry["match"], entry["dest"])
    assert reply.vary() == {"accept-encoding", "available-dictionary"}


def test_only_the_live_builds_dictionary_files_are_declared_dictionaries(
    published: Published, client: Client
) -> None:
    live, previous = published.builds[-1], published.builds[-2]
    others = [
        *(PREFIX + live.hashed(name) for name in EXCLUDED),  # lib.js beside lib.min.js
        *(PREFIX + previous.hashed(name) for name in DICTIONARY_FILES),  # no longer live
        PREFIX + "js/app.js",  # the unhashed name
    ]
    for key in others:
        reply = fetch(client, key, CHROME, previous.available("js/app.js"))
        assert reply.status == 200, key
        assert reply.header("Content-Encoding") == "br", key
        assert reply.header("Use-As-Dictionary") is None, key
        assert reply.vary() == {"accept-encoding"}, key
    for name in EXCLUDED:
        assert live.hashed(name) not in live.dictionaries


def test_a_missing_delta_falls_back_to_todays_response(
    published: Published, tmp_path: Path
) -> None:
    """The guarantee: a manifest that lists a delta the bucket lacks (here a copy whose listed
    hash has no key) still gets br. The Worker asks the bucket, never trusts the list."""
    live = published.live
    hashed = live.hashed("js/app.js")
    manifest = json.loads(live.manifest)
    fake = sha256_header(b"listed, never published")
    manifest["dictionaries"][hashed]["deltas"].append(fake.strip(":"))
    bucket = "cloudflare-dictionaries-missing"
    s3 = boto3.client("s3", endpoint_url=published.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    for key in (PREFIX + hashed, PREFIX + hashed + ".br"):
        got = published.get(key)
        extra = {"ContentEncoding": got["ContentEncoding"]} if key.endswith(".br") else {}
        s3.put_object(
            Bucket=bucket, Key=key, Body=got["Body"], ContentType=got["ContentType"], **extra
        )
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "staticfiles.json",
        Body=json.dumps(manifest).encode(),
        CacheControl="public, max-age=60",
    )
    s3.close()
    files = edge_files(published.negotiation, None, DictionarySettings())
    origin = published.origin.rsplit("/", 1)[0] + "/" + bucket
    with running_worker(tmp_path, files["worker.js"], origin, COMPATIBILITY_DATE) as server:
        connection = Client(server)
        try:
            reply = fetch(connection, PREFIX + hashed, CHROME, fake)
        finally:
            connection.close()
    assert reply.status == 200
    assert reply.header("Content-Encoding") == "br"
    assert brotli.decompress(reply.body) == live.files[hashed]
    assert reply.header("Use-As-Dictionary") is not None


@pytest.mark.parametrize("case", ["plain", "images-cors"])
def test_without_the_option_the_worker_is_byte_for_byte_todays(case: str) -> None:
    negotiation = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS)
    cors = None
    if case == "images-cors":
        negotiation = Negotiation(
            "static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS, image_formats=("avif", "webp")
        )
        cors = CorsConfig(origins=("https://shop.example",), max_age=600)
    for name, text in edge_files(negotiation, cors).items():
        assert text == (GOLDEN / f"{case}-cloudflare-{name}").read_text(), name
    with_option = edge_files(negotiation, cors, DictionarySettings())["worker.js"]
    assert with_option != edge_files(negotiation, cors)["worker.js"]


# --- chromium ----------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html><head><title>build {version}</title>
<link rel="stylesheet" href="/static/{css}" integrity="{css_integrity}">
<script type="module" src="/static/{js}" integrity="{js_integrity}"></script>
</head><body><p id="p">build {version}</p></body></html>
"""


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def put_page(published: Published, version: int) -> str:
    """An HTML page of the build in the bucket (the Worker serves any key under the prefix)."""
    build = published.builds[version - 1]
    css, js = build.hashed("css/site.css"), build.hashed("js/app.js")
    page = PAGE.format(
        version=version,
        css=css,
        js=js,
        css_integrity=integrity(build.files[css]),
        js_integrity=integrity(build.files[js]),
    )
    key = f"{PREFIX}page-{version}.html"
    s3 = boto3.client("s3", endpoint_url=published.endpoint, region_name="us-east-1")
    # With its variants, as the Worker may ask for them (publishing writes them for a build).
    for suffix, body, encoding in (
        ("", page.encode(), {}),
        (".br", brotli.compress(page.encode()), {"ContentEncoding": "br"}),
        (".gz", gzip.compress(page.encode(), mtime=0), {"ContentEncoding": "gzip"}),
    ):
        s3.put_object(
            Bucket=published.bucket,
            Key=key + suffix,
            Body=body,
            ContentType="text/html; charset=utf-8",
            CacheControl="no-store",
            **encoding,
        )
    s3.close()
    return "/" + key


def load(page: Any, url: str) -> dict[str, Any]:
    """Open ``url``; what chromium sent and received for the static files, and the page's
    state: the stylesheet applied, the module's runs."""
    seen: dict[str, Any] = {}

    def record(response: Any) -> None:
        if response.url.endswith((".css", ".js")):
            seen[response.url.rsplit("/", 1)[1]] = {
                "status": response.status,
                "encoding": response.all_headers().get("content-encoding"),
                "available": response.request.all_headers().get("available-dictionary"),
                "dictionary": response.all_headers().get("use-as-dictionary"),
            }

    page.on("response", record)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    page.wait_for_function("window.appRuns !== undefined")
    state = page.evaluate(
        """() => ({
            runs: window.appRuns,
            version: document.documentElement.dataset.version,
            build: getComputedStyle(document.documentElement).getPropertyValue('--build').trim(),
            sheets: [...document.styleSheets].filter(s => s.cssRules.length > 0).length,
        })"""
    )
    page.remove_listener("response", record)
    return {"files": seen, "state": state, "errors": errors}


def make_live(published: Published, manifest: bytes) -> None:
    """Put ``manifest`` back as the live staticfiles.json, as a rollback would."""
    current = published.get(PREFIX + "staticfiles.json")
    s3 = boto3.client("s3", endpoint_url=published.endpoint, region_name="us-east-1")
    s3.put_object(
        Bucket=published.bucket,
        Key=PREFIX + "staticfiles.json",
        Body=manifest,
        ContentType=current["ContentType"],
        CacheControl=current["CacheControl"],
    )
    s3.close()


def test_chromium_holding_the_previous_build_gets_each_changed_file_as_a_delta(
    published: Published, chromium: Any, tmp_path: Path
) -> None:
    """A visitor of build k-1 (then live) comes back after build k is deployed: chromium
    offers the old files as dictionaries and receives each changed file as dcz; the page
    works (stylesheet applied, module ran once, integrity held). A fresh profile gets br.
    A deploy is the live manifest changing and a Worker isolate that has not read it yet:
    a second workerd on the same port (the dictionaries are the origin's)."""
    previous, live = published.builds[-2], published.builds[-1]
    old_page, new_page = put_page(published, previous.version), put_page(published, live.version)
    worker_js = edge_files(published.negotiation, None, DictionarySettings())["worker.js"]
    port = free_port()
    origin = f"http://localhost:{port}"
    context = chromium.new_context()
    try:
        page = context.new_page()
        make_live(published, previous.manifest)
        with running_worker(
            tmp_path / "k-1", worker_js, published.origin, COMPATIBILITY_DATE, port=port
        ):
            first = load(page, origin + old_page)
            wait_until_offered(page, [previous.hashed(n) for n in PAGE_FILES])
        make_live(published, live.manifest)
        with running_worker(
            tmp_path / "k", worker_js, published.origin, COMPATIBILITY_DATE, port=port
        ):
            second = load(page, origin + new_page)
            fresh = chromium.new_context()
            try:
                cold = load(fresh.new_page(), origin + new_page)
            finally:
                fresh.close()
    finally:
        context.close()
        make_live(published, live.manifest)
    assert first["state"]["runs"] == 1, first
    for name in PAGE_FILES:
        seen = first["files"][previous.hashed(name).rsplit("/", 1)[1]]
        assert seen["dictionary"] is not None, (name, seen)  # live then: a dictionary
    assert second["errors"] == [], second
    state = second["state"]
    assert state["runs"] == 1 and state["version"] == f"1.{live.version}.0", state
    assert state["build"] == str(live.version) and state["sheets"] == 1, state
    for name in PAGE_FILES:
        seen = second["files"][live.hashed(name).rsplit("/", 1)[1]]
        assert seen["status"] == 200, (name, seen)
        assert seen["available"] == previous.available(name), (name, seen)
        assert seen["encoding"] == "dcz", (name, seen)
    assert cold["errors"] == [] and cold["state"]["runs"] == 1, cold
    for name in PAGE_FILES:
        seen = cold["files"][live.hashed(name).rsplit("/", 1)[1]]
        assert seen["encoding"] == "br" and seen["available"] is None, (name, seen)
        assert seen["dictionary"] is not None, (name, seen)
