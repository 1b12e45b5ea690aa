"""One conditional request: does the bucket's live manifest still carry a known ETag?

A no-change deploy asks only this. Importing botocore and creating a client cost more than the
rest of such a run, so when the credentials are in the environment (the usual case on a CI
runner) the request is a HEAD signed here with AWS Signature Version 4 and sent with the
standard library, verifying certificates against the CA bundle botocore would use. Anything this
path does not model (credentials from a profile or a role, proxies, endpoint overrides) goes
through botocore instead: one request too, only slower. Every failure answers "not known to be
unchanged", and the caller then lists.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from assetpipe.conf.s3 import S3Config

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TIMEOUT = 10.0
# Settings botocore honours that the signed request below does not: with any of them set, the
# request goes through botocore.
BOTOCORE_ONLY_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def live_etag_is(config: S3Config, key: str, etag: str) -> tuple[bool, dict[str, int]]:
    """Whether object ``key`` still has ``etag``, and the requests sent to learn it."""
    credentials = env_credentials(os.environ)
    region = signing_region(config, os.environ)
    if credentials is None or region is None or any(os.environ.get(v) for v in BOTOCORE_ONLY_ENV):
        return _botocore_head(config, key, etag)
    return _signed_head(config, key, etag, credentials, region), {"HeadObject": 1}


def env_credentials(environ: Mapping[str, str]) -> Credentials | None:
    """Credentials from the environment, which botocore's chain also reads first."""
    access_key = environ.get("AWS_ACCESS_KEY_ID")
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        return None
    return Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None)


def signing_region(config: S3Config, environ: Mapping[str, str]) -> str | None:
    region = config.region_name or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if region is None and config.endpoint_url is not None:
        return "us-east-1"  # what botocore signs with for an endpoint given without a region
    return region


def object_url(config: S3Config, key: str, region: str) -> str:
    """Path style on a configured endpoint; virtual-hosted style on AWS when the name allows."""
    path = quote(key, safe="/~")
    if config.endpoint_url is not None:
        return f"{config.endpoint_url.rstrip('/')}/{config.bucket_name}/{path}"
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    if "." in config.bucket_name:  # a dotted name would not match the wildcard certificate
        return f"https://s3.{region}.{domain}/{config.bucket_name}/{path}"
    return f"https://{config.bucket_name}.s3.{region}.{domain}/{path}"


def signed_headers(
    method: str, host: str, path: str, region: str, credentials: Credentials, now: datetime
) -> dict[str, str]:
    """The headers of an S3 request without a body or query, signed with SigV4."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    if credentials.token:
        headers["x-amz-security-token"] = credentials.token
    names = sorted(headers)
    signed = ";".join(names)
    canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in names)
    canonical = f"{method}\n{path}\n\n{canonical_headers}\n{signed}\n{EMPTY_SHA256}"
    scope = f"{day}/{region}/s3/aws4_request"
    canonical_digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{canonical_digest}"
    signing_key = f"AWS4{credentials.secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return headers


def _signed_head(
    config: S3Config, key: str, etag: str, credentials: Credentials, region: str
) -> bool:
    url = urlsplit(object_url(config, key, region))
    host = url.netloc
    headers = signed_headers("HEAD", host, url.path, region, credentials, datetime.now(UTC))
    headers["if-none-match"] = f'"{etag}"'
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        connection = http.client.HTTPSConnection(host, timeout=TIMEOUT, context=_tls_context())
    else:
        connection = http.client.HTTPConnection(host, timeout=TIMEOUT)
    try:
        connection.request("HEAD", url.path, headers=headers)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return _unchanged(response.status, response.getheader("ETag"), etag)


def _tls_context() -> ssl.SSLContext:
    """Certificates checked against botocore's bundle: AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE or
    certifi's (botocore's default when installed)."""
    cafile = os.environ.get("AWS_CA_BUNDLE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if cafile is None:
        with contextlib.suppress(ImportError):
            import certifi

            cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile)


def _unchanged(status: int, returned: str | None, etag: str) -> bool:
    # 304: If-None-Match matched. A store that ignores the condition answers 200 with the ETag.
    return status == 304 or (status == 200 and (returned or "").strip('"') == etag)


def _botocore_head(config: S3Config, key: str, etag: str) -> tuple[bool, dict[str, int]]:
    from botocore.exceptions import ClientError

    from assetpipe.publish.client import S3_ERRORS, S3Client

    with S3Client(config) as s3:
        try:
            head = s3.client.head_object(
                Bucket=config.bucket_name, Key=key, IfNoneMatch=f'"{etag}"'
            )
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return status == 304, dict(s3.requests)
        except S3_ERRORS:
            return False, dict(s3.requests)
        return _unchanged(200, head.get("ETag"), etag), dict(s3.requests)
