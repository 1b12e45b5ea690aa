"""A raw HTTP client for asserting on exactly what a server sent.

``http.client`` sends the request path verbatim (so traversal attempts reach the server as written)
and never decodes bodies, so a test sees the bytes and headers the server produced.
"""

from __future__ import annotations

import gzip
import http.client
from dataclasses import dataclass
from email.message import Message

import brotli


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def decoded(self) -> bytes:
        """The body with its Content-Encoding undone."""
        encoding = self.headers.get("Content-Encoding")
        if encoding is None:
            return self.body
        if encoding == "br":
            return bytes(brotli.decompress(self.body))
        if encoding == "gzip":
            return gzip.decompress(self.body)
        raise AssertionError(f"unexpected Content-Encoding {encoding!r}")


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Response:
    """Request ``path`` (sent as written) from ``base`` (``http://host:port``)."""
    host_port = base.removeprefix("http://")
    host, _, port = host_port.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        # skip_accept_encoding: http.client would otherwise send "Accept-Encoding: identity".
        skip_host = any(name.lower() == "host" for name in headers or {})
        connection.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()
