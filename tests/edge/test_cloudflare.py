"""The generated Cloudflare Worker, run by workerd in front of a published build.

Django admin's static files and the example shop's are built with ``"cdn": "cloudflare"`` and
published through the S3 front (S3's CORS behaviour in front of moto) to a bucket whose static
prefix is publicly readable. The Worker that ``edge_files`` renders runs in workerd with
``ORIGIN`` pointing at that bucket, and every request goes through it.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import brotli
import pytest
from django.core.management import call_command
from django.test import override_settings

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.options import parse_storage_options
from assetpipe.edge.cloudflare import COMPATIBILITY_DATE, edge_files
from assetpipe.edge.negotiation import Negotiation, preferred_encoding
from tests.conftest import StaticProject, free_port
from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import build_shop, load_shop, public_read_policy, serving_pages
from tests.edge.workerd import CF_BLOB_HEADER, WorkerdServer, running_worker

REPO = Path(__file__).resolve().parents[2]
SHOP_STATIC = REPO / "example_project" / "acme" / "static"
PREFIX = "static/"
SHOP = "https://shop.example"
PRIVATE_KEY = "private/notes.txt"  # outside the prefix the bucket policy opens

# Accept-Encoding (None: no header) -> the coding a negotiable key is served in, written out.
ACCEPT_ENCODINGS: list[tuple[str | None, str | None]] = [
    (None, None),
    ("", None),
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip, deflate, br, zstd", "br"),  # Chrome's
    ("br;q=0", None),
    ("identity", None),
    ("*", "br"),
    ("*;q=0", None),
    ("GZIP", "gzip"),
    (" br ; q=0.5 , gzip ; q=0.6", "gzip"),
    ("gzip;q=1.001", None),  # malformed weight: not acceptable
    ("x-gzip", "gzip"),
    ("deflate", None),
    ("gzip,\tbr", "br"),
    ("br, br;q=0", None),  # listed twice: the lower weight
    ("gzip;q=0.5, br;q=0.4", "gzip"),
    ("br;q=0.001", "br"),
    ("gzip, br;q=0", "gzip"),
    ("*, br;q=0", "gzip"),
    ("*;q=0.5, gzip", "gzip"),
    ("deflate, identity;q=0.5", None),
    ("BR;Q=1", "br"),
    ("br;q=1.0, gzip;q=1", "br"),  # a tie goes to the server's order
    ("gzip;q=0", None),
    ("br;q=", None),
    ("br;level=5", "br"),
    ("zstd", None),
    ("gzip;q=0.8,br;q=0.9", "br"),
    ("br;q=1.1", None),
    ("gzip ;q=0.3, *;q=0.2", "gzip"),
    (",,gzip,,", "gzip"),
]
CHROME = "gzip, deflate, br, zstd"

# Whether files of each published extension have variants: the build's default skip list, written
# out, so that a new kind of file in the tree needs a decision here.
NEGOTIABLE_EXTENSIONS = {
    "": True,  # LICENSE
    "css": True,
    "js": True,
    "mjs": True,
    "svg": True,
    "txt": True,
    "md": True,
    "json": True,
    "map": True,
    "png": False,
    "gif": False,
    "woff2": False,
}


@dataclass(frozen=True)
class Stored:
    body: bytes
    content_type: str
    cache_control: str
    content_encoding: str | None
    etag: str


@dataclass
class Published:
    bucket: str
    origin: str  # the bucket's URL through the S3 front: ORIGIN for the Worker
    root: Path
    objects: dict[str, Stored]  # every key in the bucket
    negotiation: Negotiation
    manifest: dict[str, str]

    def originals(self) -> list[str]:
        return sorted(
            k for k in self.objects if k.startswith(PREFIX) and not k.endswith((".br", ".gz"))
        )

    def expected_encoding(self, key: str, accepted: str | None) -> str | None:
        """``accepted`` (the table's coding) when the key has variants, else none."""
        name = key[len(PREFIX) :]
        if name == "staticfiles.json" or name.startswith("manifests/"):
            return None
        return accepted if NEGOTIABLE_EXTENSIONS[extension(name)] else None


def extension(name: str) -> str:
    """A file name's extension, lower case, "" for none (a hashed LICENSE has none either)."""
    parts = name.rpartition("/")[2].split(".")
    if len(parts) == 1 or (len(parts) == 2 and re.fullmatch(r"[0-9a-f]{12}", parts[1])):
        return ""
    return parts[-1].lower()


def storage_options(front: S3CorsFront, bucket: str) -> dict[str, Any]:
    return {
        "js_module_imports": True,
        "s3": {
            "bucket_name": bucket,
            "location": PREFIX.rstrip("/"),
            "endpoint_url": front.url,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        },
        "cdn": "cloudflare",
        "cors": {"origins": ["*"]},
    }


@pytest.fixture(scope="module")
def published(s3_front: S3CorsFront, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The admin's and the shop's static files, built for Cloudflare and published."""
    s3 = boto3.client("s3", endpoint_url=s3_front.url, region_name="us-east-1")
    bucket = "cloudflare-edge"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    s3.put_object(Bucket=bucket, Key=PRIVATE_KEY, Body=b"not for browsers\n")
    root = tmp_path_factory.mktemp("cloudflare") / "static"
    options = storage_options(s3_front, bucket)
    settings = {
        "STATIC_URL": "https://cdn.example.com/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(SHOP_STATIC)],
        "STATICFILES_FINDERS": [
            "django.contrib.staticfiles.finders.FileSystemFinder",
            "django.contrib.staticfiles.finders.AppDirectoriesFinder",
        ],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options},
        },
    }
    with override_settings(**settings):
        call_command("collectstatic", interactive=False, verbosity=0)
    objects: dict[str, Stored] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for item in page.get("Contents", ()):
            got = s3.get_object(Bucket=bucket, Key=item["Key"])
            objects[item["Key"]] = Stored(
                body=got["Body"].read(),
                content_type=got["ContentType"],
                cache_control=got["CacheControl"],
                content_encoding=got.get("ContentEncoding"),
                etag=got["ETag"],
            )
    s3.close()
    negotiation = Negotiation.for_options(parse_storage_options(options)[0], "staticfiles.json")
    assert negotiation is not None
    manifest = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    return Published(
        bucket=bucket,
        origin=f"{s3_front.url}/{bucket}",
        root=root,
        objects=objects,
        negotiation=negotiation,
        manifest=manifest,
    )


@pytest.fixture(scope="module")
def worker(
    published: Published, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[CorsConfig | None], WorkerdServer]]:
    """``worker(cors)``: workerd running the Worker rendered for that CORS rule (one each)."""
    started: dict[CorsConfig | None, WorkerdServer] = {}
    with ExitStack() as stack:

        def start(cors: CorsConfig | None) -> WorkerdServer:
            if cors not in started:
                files = edge_files(published.negotiation, cors)
                started[cors] = stack.enter_context(
                    running_worker(
                        tmp_path_factory.mktemp("workerd"),
                        files["worker.js"],
                        published.origin,
                        COMPATIBILITY_DATE,
                    )
                )
            return started[cors]

        yield start


ANY_ORIGIN = CorsConfig(origins=("*",))
# The CORS headers of every response with origins ["*"].
STAR = {"access-control-allow-origin": "*", "timing-allow-origin": "*"}
SHOP_ONLY = CorsConfig(origins=(SHOP,), max_age=600)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def vary(self) -> set[str]:
        return {v.strip().lower() for v in ",".join(self.headers.get_all("Vary") or []).split(",")}

    def cors(self) -> dict[str, str]:
        """The CORS headers and Timing-Allow-Origin, which goes with them."""
        return {
            n.lower(): v
            for n, v in self.headers.items()
            if n.lower().startswith("access-control-") or n.lower() == "timing-allow-origin"
        }


class Client:
    """One keep-alive connection to the Worker; headers go out exactly as given."""

    def __init__(self, server: WorkerdServer) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def close(self) -> None:
        self.connection.close()

    def request(
        self, method: str, path: str, headers: list[tuple[str, str]] | None = None
    ) -> Reply:
        self.connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers or []:
            self.connection.putheader(name, value)
        self.connection.endheaders()
        response = self.connection.getresponse()
        body = response.read()
        return Reply(response.status, response.headers, body)

    def get(self, path: str, accept_encoding: str | None = None, **headers: str) -> Reply:
        sent = [(name.replace("_", "-"), value) for name, value in headers.items()]
        if accept_encoding is not None:
            sent.append(("Accept-Encoding", accept_encoding))
        return self.request("GET", path, sent)


@pytest.fixture
def client(worker: Callable[[CorsConfig | None], WorkerdServer]) -> Iterator[Client]:
    connection = Client(worker(ANY_ORIGIN))
    try:
        yield connection
    finally:
        connection.close()


def decoded(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


def check_served(published: Published, key: str, reply: Reply, encoding: str | None) -> None:
    """The reply is the stored object of ``key`` in ``encoding``, with the original's headers."""
    where = f"{key} as {encoding}"
    original = published.objects[key]
    suffix = {"br": ".br", "gzip": ".gz", None: ""}[encoding]
    stored = published.objects[key + suffix]
    assert reply.status == 200, where
    assert reply.header("Content-Encoding") == encoding, where
    assert reply.body == stored.body, where
    assert decoded(reply.body, encoding) == original.body, where
    assert reply.header("Content-Type") == original.content_type, where
    assert reply.header("Cache-Control") == original.cache_control, where
    assert reply.header("ETag") == stored.etag, where
    assert "accept-encoding" in reply.vary(), where
    assert reply.cors() == STAR, where


def test_the_published_tree_has_every_kind_of_file_and_its_variants(published: Published) -> None:
    originals = published.originals()
    assert len(originals) > 100  # the admin's and the shop's
    extensions = {extension(k) for k in originals if not k.startswith("static/manifests/")}
    assert extensions <= set(NEGOTIABLE_EXTENSIONS), extensions - set(NEGOTIABLE_EXTENSIONS)
    for key in originals:
        has_variants = published.expected_encoding(key, "br") == "br"
        assert (key + ".br" in published.objects) == has_variants, key
        assert (key + ".gz" in published.objects) == has_variants, key
        assert published.negotiation.negotiable(key) == has_variants, key


def test_python_rule_gives_the_table_codings() -> None:
    # The Worker runs negotiate.js; the build runs this: both against the same literals.
    for header, expected in ACCEPT_ENCODINGS:
        assert preferred_encoding(header, ("br", "gzip")) == expected, header


@pytest.mark.parametrize(("header", "accepted"), ACCEPT_ENCODINGS)
def test_every_file_with_each_accept_encoding_of_the_table(
    published: Published, client: Client, header: str | None, accepted: str | None
) -> None:
    for key in published.originals():
        reply = client.get("/" + key, header)
        check_served(published, key, reply, published.expected_encoding(key, accepted))


def test_the_accept_encoding_table_on_a_handful_of_files(
    published: Published, client: Client
) -> None:
    hashed = published.manifest
    names = [
        hashed["admin/css/base.css"],
        hashed["acme/js/app.js"],
        "acme/css/site.css",  # unhashed: the short Cache-Control
        hashed["acme/img/logo.svg"],
        hashed["acme/img/stripes.png"],  # never compressed
        hashed["acme/fonts/acme-display.woff2"],  # never compressed
        "staticfiles.json",  # the manifest: never negotiated
    ]
    for name in names:
        key = PREFIX + name
        for header, accepted in ACCEPT_ENCODINGS:
            reply = client.get("/" + key, header)
            check_served(published, key, reply, published.expected_encoding(key, accepted))


def test_request_cf_client_accept_encoding_wins_over_the_header(
    published: Published, client: Client
) -> None:
    key = PREFIX + published.manifest["acme/js/app.js"]

    def get(cf: dict[str, str], header: str | None) -> Reply:
        headers = [(CF_BLOB_HEADER, json.dumps(cf))]
        if header is not None:
            headers.append(("Accept-Encoding", header))
        return client.request("GET", "/" + key, headers)

    # Cloudflare rewrites the header; the client's own value is in request.cf.
    check_served(published, key, get({"clientAcceptEncoding": "gzip"}, "br, gzip"), "gzip")
    check_served(published, key, get({"clientAcceptEncoding": CHROME}, "gzip"), "br")
    check_served(published, key, get({"clientAcceptEncoding": "identity"}, "br, gzip"), None)
    # On Cloudflare's network without the client's value, the rewritten header proves nothing.
    check_served(published, key, get({"country": "NL"}, "br, gzip"), None)


def test_head_conditional_and_range_requests(published: Published, client: Client) -> None:
    key = PREFIX + published.manifest["admin/css/base.css"]
    stored = published.objects[key + ".br"]

    head = client.request("HEAD", "/" + key, [("Accept-Encoding", "br")])
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Encoding") == "br"
    assert head.header("Content-Length") == str(len(stored.body))
    assert head.header("ETag") == stored.etag
    assert head.cors() == STAR

    not_modified = client.get("/" + key, "br", If_None_Match=stored.etag, Origin=SHOP)
    assert not_modified.status == 304
    assert not_modified.body == b""
    assert not_modified.header("ETag") == stored.etag
    assert "accept-encoding" in not_modified.vary()
    assert not_modified.cors() == STAR
    # Another coding is another representation, with its own ETag.
    gzip_reply = client.get("/" + key, "gzip", If_None_Match=stored.etag)
    check_served(published, key, gzip_reply, "gzip")

    part = client.get("/" + key, "br", Range="bytes=0-9")
    assert part.status == 206
    assert part.body == stored.body[:10]
    assert part.header("Content-Range") == f"bytes 0-9/{len(stored.body)}"
    assert part.header("Content-Encoding") == "br"
    assert part.cors() == STAR


def test_other_methods_are_refused(published: Published, client: Client) -> None:
    key = PREFIX + published.manifest["admin/css/base.css"]
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        reply = client.request(method, "/" + key, [("Content-Length", "0")])
        assert reply.status == 405, method
        assert reply.header("Allow") == "GET, HEAD, OPTIONS"
    plain_options = client.request("OPTIONS", "/" + key)
    assert plain_options.status == 204
    assert plain_options.header("Allow") == "GET, HEAD, OPTIONS"
    assert published.objects[key].body  # nothing was written or deleted
    assert client.get("/" + key, "br").status == 200


def test_errors_from_the_bucket_pass_through(client: Client, published: Published) -> None:
    missing = client.get("/static/acme/css/missing.css", CHROME, Origin=SHOP)
    assert missing.status == 404
    assert b"NoSuchKey" in missing.body
    assert missing.header("Content-Encoding") is None
    assert missing.cors() == STAR


# Request paths that are under the Worker's route but would name a key outside its prefix, or
# could be read as another key by a parser on the way, sent as raw bytes (http.client sends
# the path as given; a browser or an HTTP library would resolve most of them first).
ESCAPES = [
    "/static/../private/notes.txt",
    "/static/%2e%2e/private/notes.txt",
    "/static/%2E%2e/private/notes.txt",
    "/static/.%2e/private/notes.txt",
    "/static/acme/../../private/notes.txt",
    "/static/..%2fprivate%2fnotes.txt",
    "/static/%2e%2e%2fprivate%2fnotes.txt",
    "/static/..\\private\\notes.txt",
    "/static/%5c..%5cprivate/notes.txt",
    "/static/%252e%252e/private/notes.txt",  # decoded twice by a proxy: still ".."
    "/static//private/notes.txt",
    "/static/./acme/css/base.css",
    "/static/acme/css/%00base.css",
    "/static/%E0%A4%A",  # not UTF-8: names no key
    "/static/",
    "/static",
    "/" + PRIVATE_KEY,
]


@pytest.mark.parametrize("path", ESCAPES)
def test_a_path_that_leaves_the_prefix_is_refused_without_asking_the_bucket(
    published: Published, client: Client, s3_front: S3CorsFront, path: str
) -> None:
    asked = len(s3_front.seen)

    refused = client.get(path, CHROME, Origin=SHOP)

    assert refused.status == 404
    assert refused.body == b"Not Found\n"
    assert refused.cors() == STAR
    assert s3_front.seen[asked:] == []
    # The same connection, a path inside the prefix: the bucket is asked.
    key = PREFIX + published.manifest["acme/css/site.css"]
    assert client.get("/" + key, CHROME).status == 200
    assert [seen.path for seen in s3_front.seen[asked:]] == [f"/{published.bucket}/{key}.br"]


def test_names_that_need_encoding_reach_their_key(
    published: Published, client: Client, s3_client: Any
) -> None:
    """The Worker asks the bucket for the key it decoded, encoded again segment by segment."""
    key = PREFIX + "acme/caf\u00e9 menu+(1).txt"
    s3_client.put_object(Bucket=published.bucket, Key=key, Body=b"served\n")
    for path in (
        "/static/acme/caf%C3%A9%20menu%2B%281%29.txt",
        "/static/acme/caf%c3%a9%20menu+(1).txt",
    ):
        reply = client.get(path)
        assert (reply.status, reply.body) == (200, b"served\n"), path


def test_any_origin_gets_a_star_on_every_response(published: Published, client: Client) -> None:
    key = PREFIX + published.manifest["acme/js/app.js"]
    for origin in (SHOP, "https://other.example", None):
        headers = {} if origin is None else {"Origin": origin}
        reply = client.get("/" + key, CHROME, **headers)
        assert reply.cors() == STAR, origin
        assert "origin" not in reply.vary()
    preflight = client.request(
        "OPTIONS",
        "/" + key,
        [("Origin", SHOP), ("Access-Control-Request-Method", "GET")],
    )
    assert preflight.status == 204
    assert preflight.cors() == {
        **STAR,
        "access-control-allow-methods": "GET, HEAD",
        "access-control-max-age": "86400",
    }


def test_a_list_of_origins_echoes_an_allowed_one(
    published: Published, worker: Callable[[CorsConfig | None], WorkerdServer]
) -> None:
    key = PREFIX + published.manifest["acme/css/site.css"]
    client = Client(worker(SHOP_ONLY))
    try:
        allowed = client.get("/" + key, CHROME, Origin=SHOP)
        assert allowed.cors() == {
            "access-control-allow-origin": SHOP,
            "timing-allow-origin": SHOP,
        }
        assert {"origin", "accept-encoding"} <= allowed.vary()
        assert allowed.header("Content-Encoding") == "br"
        assert allowed.body == published.objects[key + ".br"].body

        other = client.get("/" + key, CHROME, Origin="https://evil.example")
        assert other.status == 200
        assert other.cors() == {}
        assert "origin" in other.vary()
        no_origin = client.get("/" + key, CHROME)
        assert no_origin.cors() == {}
        assert "origin" in no_origin.vary()

        missing = client.get("/static/missing.css", CHROME, Origin=SHOP)
        assert missing.status == 404
        assert missing.cors() == {
            "access-control-allow-origin": SHOP,
            "timing-allow-origin": SHOP,
        }

        def preflight(origin: str, method: str, headers: str | None = None) -> Reply:
            sent = [("Origin", origin), ("Access-Control-Request-Method", method)]
            if headers is not None:
                sent.append(("Access-Control-Request-Headers", headers))
            return client.request("OPTIONS", "/" + key, sent)

        ok = preflight(SHOP, "GET", "Range, If-None-Match")
        assert ok.status == 204
        assert ok.cors() == {
            "access-control-allow-origin": SHOP,
            "timing-allow-origin": SHOP,
            "access-control-allow-methods": "GET, HEAD",
            "access-control-allow-headers": "range, if-none-match",
            "access-control-max-age": "600",
        }
        assert "origin" in ok.vary()
        refused = preflight("https://evil.example", "GET")
        assert refused.status == 403
        assert refused.cors() == {}
        assert preflight(SHOP, "PUT").status == 403
        assert preflight(SHOP, "DELETE").status == 403
    finally:
        client.close()


def test_without_a_cors_option_no_cors_headers(
    published: Published, worker: Callable[[CorsConfig | None], WorkerdServer]
) -> None:
    key = PREFIX + published.manifest["acme/js/app.js"]
    client = Client(worker(None))
    try:
        reply = client.get("/" + key, CHROME, Origin=SHOP)
        assert reply.status == 200
        assert reply.cors() == {}
        preflight = client.request(
            "OPTIONS", "/" + key, [("Origin", SHOP), ("Access-Control-Request-Method", "GET")]
        )
        assert preflight.status == 403
    finally:
        client.close()


def test_the_s3_front_never_leaks_cors_headers(published: Published, s3_front: S3CorsFront) -> None:
    # The bucket has no CORS rules: whatever CORS header a reply carries is the Worker's.
    key = PREFIX + published.manifest["acme/js/app.js"]
    connection = http.client.HTTPConnection("127.0.0.1", int(s3_front.url.rsplit(":", 1)[1]))
    try:
        connection.request("GET", f"/{published.bucket}/{key}", headers={"Origin": SHOP})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert not [n for n, _ in response.getheaders() if n.lower().startswith("access-control-")]


def test_manage_py_assetpipe_edge_writes_the_three_files(
    project: StaticProject, tmp_path: Path
) -> None:
    project.configure(
        s3={
            "bucket_name": "static-bucket",
            "location": "static",
            "region_name": "eu-west-1",
            "variants": "static_root_and_bucket",
        },
        cdn="cloudflare",
        cors={"origins": [SHOP]},
    )
    out = tmp_path / "edge"
    call_command("assetpipe", "edge", "--out", str(out), verbosity=0)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "worker.js", "wrangler.toml"]
    negotiation = Negotiation.for_options(
        parse_storage_options(project.options)[0], "staticfiles.json"
    )
    assert negotiation is not None
    expected = edge_files(negotiation, CorsConfig(origins=(SHOP,)))
    for name, text in expected.items():
        assert (out / name).read_text() == text
    worker_js = (out / "worker.js").read_text()
    assert json.dumps(SHOP) in worker_js
    assert '"prefix": "static/"' in worker_js
    toml = (out / "wrangler.toml").read_text()
    assert 'main = "worker.js"' in toml
    assert f'compatibility_date = "{COMPATIBILITY_DATE}"' in toml
    assert "cdn.example.com/static/*" in toml
    assert "ORIGIN = " in toml


@pytest.mark.browser
def test_the_shop_loads_its_static_files_through_the_worker(
    chromium: Any, s3_front: S3CorsFront, tmp_path: Path
) -> None:
    """The example shop's pages on one origin, STATIC_URL on the Worker's: all of it works."""
    s3 = boto3.client("s3", endpoint_url=s3_front.url, region_name="us-east-1")
    bucket = "acme-static-cloudflare"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    s3.close()
    port = free_port()
    static_origin = f"http://127.0.0.1:{port}"
    shop = build_shop(
        tmp_path / "shop",
        static_url=f"{static_origin}/{PREFIX}",
        s3_endpoint=s3_front.url,
        bucket=bucket,
        edge="cloudflare",
    )
    # The example project's own `manage.py assetpipe edge`: its cors option allows any origin.
    out = tmp_path / "edge"
    result = shop.manage("assetpipe", "edge", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    worker_js = (out / "worker.js").read_text()
    with (
        running_worker(
            tmp_path / "workerd",
            worker_js,
            f"{s3_front.url}/{bucket}",
            COMPATIBILITY_DATE,
            port=port,
        ),
        serving_pages(shop) as page_url,
    ):
        load = load_shop(chromium, page_url, static_origin, tmp_path / "shop.png")
    assert load.ok, load.summary()
    assert load.stylesheets_applied == 3
    assert len(load.modules_ran) == 2
    assert load.font_loaded
    assert load.blocked == []
    assert load.console_errors == []
    assert load.static, "no static file came from the Worker"
    assert all(status == 200 for status, *_ in load.static.values()), load.static
    # Every stylesheet and script arrived as the stored brotli variant, smaller than it decodes to.
    scripts_and_styles = [u for u in load.static if u.endswith((".css", ".js", ".mjs"))]
    assert len(scripts_and_styles) >= 5, scripts_and_styles
    assert set(scripts_and_styles) <= set(load.brotli()), load.static
