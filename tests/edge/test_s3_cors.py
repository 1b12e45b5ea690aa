"""S3's CORS behaviour: SeaweedFS's own evaluation, and the front that gives moto's server S3's
behaviour where moto alone does not. Where SeaweedFS departs from S3, the test runs on moto
(behind the front) only and tests/edge/test_s3_servers.py pins SeaweedFS's answer."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import public_read_policy

PAGE = "https://shop.example"


def request(
    endpoint: str, method: str, path: str, headers: dict[str, str] | None = None
) -> http.client.HTTPResponse:
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def bucket(make_bucket: Callable[[], str], s3_client: Any) -> str:
    name = make_bucket()
    s3_client.put_object(Bucket=name, Key="static/site.css", Body=b"body{}", ContentType="text/css")
    # Anonymous reads, as a browser's are: moto, like S3, answers 403 without a policy.
    s3_client.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))
    return name


def put_rules(s3_client: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)})


@pytest.mark.s3_backends("moto")
def test_moto_alone_allows_every_origin_whatever_the_rules(s3_endpoint: str, bucket: str) -> None:
    # Why the front exists: if moto ever models CORS, this fails and the front can go.
    response = request(s3_endpoint, "GET", f"/{bucket}/static/site.css", {"Origin": PAGE})
    assert response.getheader("Access-Control-Allow-Origin") == PAGE


def test_without_rules_no_cors_headers_and_preflights_are_refused(
    s3_front: S3CorsFront, bucket: str
) -> None:
    path = f"/{bucket}/static/site.css"
    response = request(s3_front.url, "GET", path, {"Origin": PAGE})
    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") is None
    preflight = request(
        s3_front.url, "OPTIONS", path, {"Origin": PAGE, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 403


def test_a_listed_origin_is_echoed_and_varies(
    s3_front: S3CorsFront, bucket: str, s3_client: Any
) -> None:
    put_rules(s3_client, bucket, {"AllowedMethods": ["GET"], "AllowedOrigins": [PAGE]})
    path = f"/{bucket}/static/site.css"
    allowed = request(s3_front.url, "GET", path, {"Origin": PAGE})
    assert allowed.getheader("Access-Control-Allow-Origin") == PAGE
    assert "Origin" in (allowed.getheader("Vary") or "")
    other = request(s3_front.url, "GET", path, {"Origin": "https://evil.example"})
    assert other.getheader("Access-Control-Allow-Origin") is None
    no_origin = request(s3_front.url, "GET", path)
    assert no_origin.getheader("Access-Control-Allow-Origin") is None
    head = request(s3_front.url, "HEAD", path, {"Origin": PAGE})
    assert head.getheader("Access-Control-Allow-Origin") is None  # HEAD is not allowed


@pytest.mark.s3_backends("moto")  # SeaweedFS: "*" echoed, first rule by origin alone
def test_wildcards_methods_headers_and_the_first_matching_rule(
    s3_front: S3CorsFront, bucket: str, s3_client: Any
) -> None:
    put_rules(
        s3_client,
        bucket,
        {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"]},
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://*.example"], "MaxAgeSeconds": 60},
        {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]},
    )
    path = f"/{bucket}/static/site.css"
    sub = request(s3_front.url, "GET", path, {"Origin": "https://a.b.example"})
    assert sub.getheader("Access-Control-Allow-Origin") == "https://a.b.example"
    assert sub.getheader("Access-Control-Max-Age") == "60"
    anyone = request(s3_front.url, "GET", path, {"Origin": "http://localhost:8000"})
    assert anyone.getheader("Access-Control-Allow-Origin") == "*"
    assert anyone.getheader("Vary") is None
    preflight = {
        "Origin": "https://a.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-custom",
    }
    assert request(s3_front.url, "OPTIONS", path, preflight).status == 403
    preflight["Access-Control-Request-Headers"] = ""
    ok = request(s3_front.url, "OPTIONS", path, preflight)
    assert ok.status == 200
    assert ok.getheader("Access-Control-Allow-Origin") == "https://a.example"


@pytest.mark.s3_backends("moto")  # the front's own behaviour
def test_rules_put_through_the_front_apply_at_once(s3_front: S3CorsFront, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_front.url, region_name="us-east-1")
    try:
        put_rules(client, bucket, {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]})
        assert client.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["*"]
    finally:
        client.close()
    response = request(s3_front.url, "GET", f"/{bucket}/static/site.css", {"Origin": PAGE})
    assert response.getheader("Access-Control-Allow-Origin") == "*"
