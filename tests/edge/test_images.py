"""Image variants at the edge: the CloudFront function (on node, with CloudFront's event shape)
and the Cloudflare Worker (on workerd, in front of an S3-faithful bucket) pick ``.avif``/``.webp``
by ``Accept`` for raster image keys, as the Python rule does, and change nothing without image
formats."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import pytest

from assetpipe.conf.options import DEFAULT_SKIP_EXTENSIONS
from assetpipe.edge import cloudflare, cloudfront
from assetpipe.edge.negotiation import Negotiation, negotiate_image_js
from assetpipe.publish.s3 import S3Config, publish
from tests.edge.conftest import CheckFunction, RunFunction
from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import public_read_policy
from tests.edge.workerd import running_worker
from tests.publish.conftest import build_static
from tests.serve.images.pictures import BROWSER_ACCEPTS, REFUSING_ACCEPTS, encode, photo

FORMATS = ("avif", "webp")
PLAIN = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS)
IMAGES = Negotiation("static/", ("br", "gzip"), DEFAULT_SKIP_EXTENSIONS, image_formats=FORMATS)
ACCEPTS = {**BROWSER_ACCEPTS, **REFUSING_ACCEPTS}
CHROME = BROWSER_ACCEPTS["Chrome"][0]
# Request paths ("/" + the percent-encoded key) and whether the key is a raster image's.
URIS = {
    "/static/img/hero.0123456789ab.jpg": True,
    "/static/img/hero.jpg": True,
    "/static/img/HERO.JPEG": True,
    "/static/img/a.png": True,
    "/static/img/a.gif": True,
    "/static/img/caf%C3%A9.jpg": True,
    "/static/" + "a" * 246 + ".jpg": True,  # 250 bytes: room for ".avif"
    "/static/" + "a" * 247 + ".jpg": False,
    "/static/img/logo.svg": False,
    "/static/img/hero.jpg.avif": False,  # a variant asked for by its own name
    "/static/img/hero.avif": False,
    "/static/css/app.css": False,
    "/static/img.jpg/readme": False,
    "/static/staticfiles.json": False,
    "/media/img/hero.jpg": False,
    "/static/img/bad%E0.jpg": False,  # not UTF-8: no key any build published
}


def test_python_rule_for_keys() -> None:
    for uri, raster in URIS.items():
        if "%E0" in uri:
            continue  # no key: the edge code passes it on as it came
        key = unquote(uri[1:], errors="strict")
        assert IMAGES.image_negotiable(key) is raster, uri
        assert not PLAIN.image_negotiable(key)
    assert IMAGES.variant_key("static/img/a.png", "br", CHROME) == "static/img/a.png.avif"
    assert IMAGES.variant_key("static/img/a.png", "br", "*/*") == "static/img/a.png"
    assert IMAGES.variant_key("static/a.css", "br", CHROME) == "static/a.css.br"
    assert PLAIN.variant_key("static/img/a.png", "br", CHROME) == "static/img/a.png"
    assert IMAGES.variant_suffixes("static/img/a.png") == [".avif", ".webp"]
    assert IMAGES.variant_suffixes("static/a.css") == [".br", ".gz"]


def event(uri: str, accept: str | list[str] | None, accept_encoding: str | None) -> dict[str, Any]:
    headers: dict[str, Any] = {"host": {"value": "d111111abcdef8.cloudfront.net"}}
    if isinstance(accept, list):
        headers["accept"] = {"value": accept[0], "multiValue": [{"value": v} for v in accept]}
    elif accept is not None:
        headers["accept"] = {"value": accept}
    if accept_encoding is not None:
        headers["accept-encoding"] = {"value": accept_encoding}
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "198.51.100.7"},
        "request": {"method": "GET", "uri": uri, "querystring": {}, "headers": headers},
    }


def expected_uri(uri: str, accept: str | None, accept_encoding: str | None) -> str:
    try:
        key = unquote(uri[1:], errors="strict")
    except UnicodeDecodeError:
        return uri
    return uri + IMAGES.variant_key(key, accept_encoding, accept)[len(key) :]


def test_the_cloudfront_function_picks_as_the_python_rule(run_function: RunFunction) -> None:
    code = cloudfront.function_code(IMAGES)
    cases = [
        (uri, accept, accept_encoding)
        for uri in URIS
        for accept, _ in ACCEPTS.values()
        for accept_encoding in (None, "gzip, deflate, br, zstd")
    ]
    results = run_function(code, [event(*case) for case in cases])
    for (uri, accept, accept_encoding), result in zip(cases, results, strict=True):
        assert "error" not in result, result
        assert result["request"]["uri"] == expected_uri(uri, accept, accept_encoding), (
            uri,
            accept,
        )
    # An Accept sent twice counts whole, as one field: the refusal in the second refuses.
    twice = run_function(code, [event("/static/img/a.png", ["image/avif", "image/avif;q=0"], None)])
    assert twice[0]["request"]["uri"] == "/static/img/a.png"


def test_the_cloudfront_function_is_es5_and_fits(check_function: CheckFunction) -> None:
    code = cloudfront.function_code(IMAGES)
    assert len(code.encode()) <= cloudfront.FUNCTION_MAX_BYTES
    checked = check_function(code, ["CONFIG", "handler", "eval", "require"])
    assert checked["es5"] is None
    assert checked["names"] == ["CONFIG", "handler"]


def test_the_policies_and_readme_with_image_formats() -> None:
    files = cloudfront.edge_files(IMAGES, None)
    policy = json.loads(files["response-headers-policy.json"])
    vary = policy["CustomHeadersConfig"]["Items"][0]
    assert (vary["Header"], vary["Value"]) == ("Vary", "Accept-Encoding, Accept")
    # The function writes its choice into the URI: the cache key needs no Accept.
    assert files["cache-policy.json"] == cloudfront.edge_files(PLAIN, None)["cache-policy.json"]
    assert "`Vary: Accept-Encoding, Accept`" in files["README.md"]
    assert "Image variants" not in cloudfront.edge_files(PLAIN, None)["README.md"]


def test_without_image_formats_the_edge_code_has_none_of_it() -> None:
    assert "images" not in PLAIN.as_json() and "raster" not in PLAIN.as_json()
    assert set(IMAGES.as_json()) - set(PLAIN.as_json()) == {"images", "raster"}
    image_code = negotiate_image_js()
    for text in (
        cloudfront.function_code(PLAIN),
        cloudflare.worker_js(PLAIN, None),
        *cloudfront.edge_files(PLAIN, None).values(),
        *cloudflare.edge_files(PLAIN, None).values(),
    ):
        assert image_code.strip() not in text
        assert "negotiateImagePath" not in text and "Accept-Encoding, Accept" not in text
    assert cloudfront.function_code(PLAIN).endswith(cloudfront.HANDLER)
    assert cloudflare.worker_js(PLAIN, None).endswith(cloudflare._HANDLER)
    assert image_code.strip() in cloudflare.worker_js(IMAGES, None)


# --- the Worker on workerd, in front of a published build ----------------------------------------


@dataclass(frozen=True)
class Bucket:
    origin: str
    root: Path
    hashed: dict[str, str]


@pytest.fixture(scope="module")
def bucket(s3_front: S3CorsFront, tmp_path_factory: pytest.TempPathFactory) -> Bucket:
    """A published edge-mode build: every raster image has every format's variant, the .webp
    of the photo a copy of the JPEG (its encode was not smaller)."""
    picture = photo()
    root = build_static(
        tmp_path_factory.mktemp("edge-images") / "static",
        {
            "img/photo.jpg": encode(picture, "jpg"),
            "img/icon.png": encode(picture.resize((24, 16)), "png"),
            "css/app.css": b'.hero { background: url("../img/photo.jpg"); }\n' * 20,
        },
    )
    hashed: dict[str, str] = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    for original in ("img/photo.jpg", "img/icon.png"):
        for name in (original, hashed[original]):
            (root / f"{name}.avif").write_bytes(encode(picture, "avif"))
            (root / f"{name}.webp").write_bytes(
                (root / name).read_bytes()
                if original == "img/photo.jpg"
                else encode(picture, "webp")
            )
    s3 = boto3.client("s3", endpoint_url=s3_front.url, region_name="us-east-1")
    s3.create_bucket(Bucket="edge-images")
    s3.put_bucket_policy(Bucket="edge-images", Policy=public_read_policy("edge-images"))
    s3.close()
    config = S3Config.from_options(
        {
            "bucket_name": "edge-images",
            "location": "static",
            "endpoint_url": s3_front.url,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        }
    )
    publish(root, "staticfiles.json", config, negotiation=IMAGES)
    return Bucket(f"{s3_front.url}/edge-images", root, hashed)


@pytest.fixture(scope="module")
def worker_url(bucket: Bucket, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    code = cloudflare.worker_js(IMAGES, None)
    directory = tmp_path_factory.mktemp("workerd-images")
    with running_worker(directory, code, bucket.origin, cloudflare.COMPATIBILITY_DATE) as server:
        yield server.url


def get(url: str, path: str, headers: dict[str, str]) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(
        url.removeprefix("http://").split(":")[0], int(url.rsplit(":", 1)[1]), timeout=30
    )
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


TYPES = {"avif": "image/avif", "webp": "image/webp"}


@pytest.mark.parametrize(("accept", "chosen"), ACCEPTS.values(), ids=ACCEPTS.keys())
def test_the_worker_serves_the_variant_accept_names_with_its_bytes_type(
    bucket: Bucket, worker_url: str, accept: str | None, chosen: str | None
) -> None:
    for original in ("img/photo.jpg", "img/icon.png"):
        for name in (original, bucket.hashed[original]):
            headers = {"Accept-Encoding": "gzip, br"}
            if accept is not None:
                headers["Accept"] = accept
            status, response, body = get(worker_url, f"/static/{name}", headers)
            assert status == 200
            served = name if chosen is None else f"{name}.{chosen}"
            assert body == (bucket.root / served).read_bytes(), (name, accept)
            is_copy = chosen == "webp" and original == "img/photo.jpg"
            expected = (
                TYPES[chosen]
                if chosen is not None and not is_copy
                else ("image/jpeg" if original.endswith(".jpg") else "image/png")
            )
            assert response["Content-Type"] == expected
            assert response["Vary"] == "Accept-Encoding, Accept"
            assert response["Content-Encoding"] is None


def test_the_worker_varies_on_accept_for_revalidations_and_misses(
    bucket: Bucket, worker_url: str
) -> None:
    name = bucket.hashed["img/photo.jpg"]
    status, first, _ = get(worker_url, f"/static/{name}", {"Accept": CHROME})
    assert status == 200 and first["ETag"]
    status, again, body = get(
        worker_url, f"/static/{name}", {"Accept": CHROME, "If-None-Match": first["ETag"]}
    )
    assert (status, again["Vary"], body) == (304, "Accept-Encoding, Accept", b"")
    status, missing, _ = get(worker_url, "/static/img/missing.jpg", {"Accept": CHROME})
    assert status in (403, 404)
    assert missing["Vary"] == "Accept-Encoding, Accept"
    # Other files: their encodings as before, and no Accept in Vary.
    css = bucket.hashed["css/app.css"]
    status, response, _ = get(
        worker_url, f"/static/{css}", {"Accept": CHROME, "Accept-Encoding": "br"}
    )
    assert (status, response["Content-Encoding"], response["Vary"]) == (
        200,
        "br",
        "Accept-Encoding",
    )
