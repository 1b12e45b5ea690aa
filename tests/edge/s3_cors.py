"""S3's CORS behaviour in front of moto's server, which does not model it.

moto's server adds ``Access-Control-Allow-Origin: <the request's Origin>`` to every response,
404s included, whatever the bucket's CORS configuration; S3 sends CORS headers only when a rule
of the bucket's configuration (PutBucketCors) matches. A browser test against bare moto would
pass whether or not the bucket had any rule. ``S3CorsFront`` forwards every request to moto,
drops moto's CORS headers and applies the rules as the S3 user guide describes ("How Amazon S3
evaluates the CORS configuration on a bucket"):

- only a request with an ``Origin`` header is a CORS request;
- the first rule whose AllowedOrigins match the origin (one ``*`` wildcard per origin) and whose
  AllowedMethods hold the method (for a preflight, ``Access-Control-Request-Method``, with every
  header of ``Access-Control-Request-Headers`` matching an AllowedHeader) answers;
- a rule whose matching origin is ``*`` answers ``Access-Control-Allow-Origin: *``; any other
  echoes the origin, allows credentials and varies on the request's origin and CORS headers;
- a preflight that no rule allows is ``403 Forbidden``, as is one on a bucket without CORS.

The rules are read from moto (GetBucketCors) on each CORS request, so a ``PutBucketCors`` sent
through the front or directly to moto takes effect at once.

In front of SeaweedFS, which evaluates the bucket's rules itself, the front is made with
``evaluate=False``: it forwards every request and response as they are and only records them
(``seen``), so that tests count the requests a command sent on either server.
"""

from __future__ import annotations

import http.client
import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

# Not forwarded either way: they describe one connection, not the message.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
CORS_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


@dataclass(frozen=True)
class Seen:
    """One request as the front saw it, with what it answered."""

    method: str
    path: str
    origin: str | None
    status: int
    allow_origin: str | None


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def matching_rule(
    rules: Sequence[Mapping[str, Any]],
    origin: str,
    method: str,
    request_headers: Sequence[str] = (),
) -> tuple[Mapping[str, Any], str] | None:
    """The first rule that allows this request, with the AllowedOrigin that matched."""
    for rule in rules:
        if method not in rule.get("AllowedMethods", []):
            continue
        allowed_headers = [_wildcard(h.lower()) for h in rule.get("AllowedHeaders", [])]
        if not all(any(p.fullmatch(h.lower()) for p in allowed_headers) for h in request_headers):
            continue
        for allowed in rule.get("AllowedOrigins", []):
            if _wildcard(allowed).fullmatch(origin):
                return rule, allowed
    return None


def cors_headers(rule: Mapping[str, Any], allowed_origin: str, origin: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    if allowed_origin == "*":
        headers["Access-Control-Allow-Origin"] = "*"
    else:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Vary"] = CORS_VARY
    headers["Access-Control-Allow-Methods"] = ", ".join(rule["AllowedMethods"])
    if rule.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return headers


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing a kept-alive connection is not a failure of the front.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class S3CorsFront:
    """A loopback HTTP server between clients and moto that behaves as S3 does for CORS."""

    upstream: str  # the server's endpoint, http://127.0.0.1:PORT
    evaluate: bool = True  # False: forward CORS requests and answers untouched
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._upstream_host = parts.hostname or "127.0.0.1"
        self._upstream_port = parts.port or 80
        self._s3 = boto3.client("s3", endpoint_url=self.upstream, region_name="us-east-1")
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._s3.close()

    def rules(self, bucket: str) -> list[dict[str, Any]]:
        """The bucket's CORS rules as stored in moto; [] when it has none (or no bucket)."""
        try:
            rules: list[dict[str, Any]] = self._s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except ClientError:
            return []
        return rules

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(
            self._upstream_host, self._upstream_port, timeout=30
        )
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            # The Host header goes as the client sent it: a SigV4 signature covers it, and an
            # upstream that checks signatures (moto enforcing IAM) refuses a rewritten one.
            for name, value in headers:
                connection.putheader(name, value)
            if body and not any(n.lower() == "content-length" for n, _ in headers):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
            return response.status, list(response.getheaders()), data
        finally:
            connection.close()


def _handler(front: S3CorsFront) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Each response in one write (flushed after each request): headers and body written
        # apart stall a keep-alive client for its delayed ACK, 40 ms a request (workerd's fetch).
        wbufsize = 1 << 16

        def handle_expect_100(self) -> bool:
            accepted = super().handle_expect_100()
            self.wfile.flush()  # the interim "100 Continue" goes out now
            return accepted

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _bucket(self) -> str:
            return urlsplit(self.path).path.lstrip("/").split("/", 1)[0]

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response_only(status)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            origin = self.headers.get("Origin")
            method = self.headers.get("Access-Control-Request-Method")
            if origin is None or method is None or not front.evaluate:
                self._proxy()
                return
            requested = [
                h.strip()
                for h in (self.headers.get("Access-Control-Request-Headers") or "").split(",")
                if h.strip()
            ]
            rules = front.rules(self._bucket())
            found = matching_rule(rules, origin, method, requested) if rules else None
            if found is None:
                reason = (
                    "This CORS request is not allowed."
                    if rules
                    else ("CORS is not enabled for this bucket.")
                )
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>'
                    f"<Message>CORSResponse: {reason}</Message></Error>"
                ).encode()
                headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
                front.record(Seen("OPTIONS", self.path, origin, 403, None))
                self._send(403, headers, body)
                return
            rule, allowed = found
            cors = cors_headers(rule, allowed, origin)
            if requested:
                cors["Access-Control-Allow-Headers"] = ", ".join(requested)
            front.record(
                Seen("OPTIONS", self.path, origin, 200, cors["Access-Control-Allow-Origin"])
            )
            self._send(200, [*cors.items(), ("Content-Length", "0")], b"")

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request_headers = [
                (n, v) for n, v in self.headers.items() if n.lower() not in HOP_BY_HOP
            ]
            status, headers, data = front.forward(self.command, self.path, request_headers, body)
            origin = self.headers.get("Origin")
            if not front.evaluate:
                passed = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP]
                if not any(n.lower() == "content-length" for n, _ in passed):
                    passed.append(("Content-Length", str(len(data))))
                answered = dict((n.lower(), v) for n, v in headers)
                allowed = answered.get("access-control-allow-origin")
                front.record(Seen(self.command, self.path, origin, status, allowed))
                self._send(status, passed, data)
                return
            kept = [
                (n, v)
                for n, v in headers
                if n.lower() not in HOP_BY_HOP
                and not n.lower().startswith("access-control-")
                and n.lower() != "vary"
            ]
            allow_origin = None
            if origin is not None:
                found = matching_rule(front.rules(self._bucket()), origin, self.command)
                if found is not None:
                    cors = cors_headers(found[0], found[1], origin)
                    kept.extend(cors.items())
                    allow_origin = cors["Access-Control-Allow-Origin"]
            if not any(n.lower() == "content-length" for n, _ in kept):
                kept.append(("Content-Length", str(len(data))))
            front.record(Seen(self.command, self.path, origin, status, allow_origin))
            self._send(status, kept, data)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _proxy

    return Handler


@contextmanager
def s3_cors_front(upstream: str, evaluate: bool = True) -> Iterator[S3CorsFront]:
    front = S3CorsFront(upstream, evaluate)
    try:
        yield front
    finally:
        front.close()
