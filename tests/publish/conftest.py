"""Fixtures for publishing: a fault-injecting proxy in front of the S3 server, and built
STATIC_ROOTs. The tests run once on moto and once on SeaweedFS (``s3_backend``).

Every test talks to the server through its own :class:`FaultProxy`, which logs each HTTP request the
client really sent (retries included) and can answer chosen requests with an S3 error or a
connection reset instead of forwarding them.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import brotli
import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage

from assetpipe.publish.s3 import S3Config
from tests.conftest import on_both_backends

# Modules run on moto alone. The rolling deploy starts app server processes for a minute of
# renders: what it proves is theirs, and the S3 calls it makes are the publishing tests' own,
# which run on both servers.
MOTO_ONLY = frozenset({"test_rolling_deploy.py"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    on_both_backends(metafunc, MOTO_ONLY)


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class ProxyRequest:
    method: str
    path: str  # /bucket/key, unquoted as sent
    query: str
    headers: dict[str, str]  # lower-cased names

    @property
    def kind(self) -> str:
        """PUT, GET, HEAD, LIST, DELETE (DeleteObjects counts as DELETE) or POST."""
        if self.method == "GET" and "list-type=2" in self.query:
            return "LIST"
        if self.method == "POST" and self.query.startswith("delete"):
            return "DELETE"
        return self.method

    @property
    def key(self) -> str:
        return self.path.lstrip("/").partition("/")[2]


@dataclass(frozen=True)
class Respond:
    """Answer with an S3 error instead of forwarding."""

    status: int
    code: str
    message: str = "injected by the test proxy"


@dataclass(frozen=True)
class Reset:
    """Reset the connection; with ``after_forwarding`` the server did the work first."""

    after_forwarding: bool = False


Fault = Respond | Reset
Rule = Callable[[ProxyRequest], Fault | None]


@dataclass
class FaultProxy:
    upstream: str
    log: list[ProxyRequest] = field(default_factory=list)
    rule: Rule | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(request.kind for request in self.log)

    def clear(self) -> None:
        with self.lock:
            self.log.clear()

    def puts(self) -> list[str]:
        with self.lock:
            return [request.key for request in self.log if request.kind == "PUT"]

    def decide(self, request: ProxyRequest) -> Fault | None:
        # Under the lock, so that rules counting requests see them one at a time.
        with self.lock:
            self.log.append(request)
            return self.rule(request) if self.rule else None


def nth(kind: str, n: int, fault: Fault, times: int = 1) -> Rule:
    """Fault the ``n``-th request of ``kind`` (1-based) and the ``times - 1`` after it."""
    seen = 0

    def rule(request: ProxyRequest) -> Fault | None:
        nonlocal seen
        if request.kind != kind:
            return None
        seen += 1
        return fault if n <= seen < n + times else None

    return rule


def outage_after(puts: int, fault: Fault) -> Rule:
    """Forward ``puts`` PUT requests, then fault every request."""
    seen = 0

    def rule(request: ProxyRequest) -> Fault | None:
        nonlocal seen
        if seen >= puts:
            return fault
        if request.kind == "PUT":
            seen += 1
        return None

    return rule


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)
    host, port = upstream.hostname or "127.0.0.1", upstream.port

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            body = self._read_body()
            path, _, query = self.path.partition("?")
            request = ProxyRequest(
                self.command, path, query, {k.lower(): v for k, v in self.headers.items()}
            )
            fault = proxy.decide(request)
            if isinstance(fault, Reset) and not fault.after_forwarding:
                self._reset()
                return
            if isinstance(fault, Respond):
                self._respond_error(fault)
                return
            status, headers, data = self._forward(body)
            if isinstance(fault, Reset):
                self._reset()
                return
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(host, port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                return response.status, response.getheaders(), data
            finally:
                connection.close()

        def _respond_error(self, fault: Respond) -> None:
            data = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
                "<RequestId>proxy</RequestId></Error>"
            ).encode()
            self.send_response(fault.status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _reset(self) -> None:
            # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def finish(self) -> None:
            # The connection may have been reset on purpose.
            with contextlib.suppress(OSError):
                super().finish()

    return Handler


@pytest.fixture
def proxy(s3_endpoint: str) -> Iterator[FaultProxy]:
    """A FaultProxy to the shared S3 server, forwarding everything until given a rule."""
    with running_proxy(s3_endpoint) as fault_proxy:
        yield fault_proxy


@contextlib.contextmanager
def running_proxy(upstream: str) -> Iterator[FaultProxy]:
    """A FaultProxy to ``upstream`` on a free loopback port, for as long as the block runs.

    Unlike moto, which closes the connection after each response, it keeps connections alive
    as S3 does."""
    fault_proxy = FaultProxy(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fault_proxy))
    server.daemon_threads = True
    fault_proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fault_proxy
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def config(proxy: FaultProxy, make_bucket: Callable[[], str]) -> Callable[..., S3Config]:
    """``config(**overrides)``: an S3Config for a fresh bucket, through the proxy."""
    bucket = make_bucket()

    def make(**overrides: Any) -> S3Config:
        options: dict[str, Any] = {
            "bucket_name": bucket,
            "location": "static",
            "endpoint_url": proxy.url,
            "region_name": "us-east-1",
            "workers": 4,
        }
        options.update(overrides)
        return S3Config.from_options(options)

    return make


@pytest.fixture(autouse=True)
def three_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Three attempts (botocore's standard default), stated so that fault tests can rely on it.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")


TREE: dict[str, bytes] = {
    "css/app.css": b"body { background: url('../img/logo.png'); }\n",
    "css/print.css": b"body { color: black; }\n",
    "img/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "js/app.js": b"console.log('app');\n",
    "fonts/icons.woff2": b"wOF2" + bytes(64),
}
COMPRESSIBLE = (".css", ".js")


def build_static(root: Path, files: dict[str, bytes]) -> Path:
    """Build ``files`` into ``root`` as collectstatic with ManifestStaticFilesStorage does,
    plus .br/.gz beside each CSS/JS file (original and hashed), as assetpipe writes them."""
    source = root.parent / f"{root.name}-source"
    for name, data in files.items():
        for base in (source, root):
            path = base / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    storage = ManifestStaticFilesStorage(location=str(root), base_url="/static/")
    paths = {name: (FileSystemStorage(location=str(source)), name) for name in files}
    for _name, _hashed, processed in storage.post_process(paths):
        if isinstance(processed, Exception):
            raise processed
    for name, hashed in storage.hashed_files.items():
        for servable in (name, hashed):
            if servable.endswith(COMPRESSIBLE):
                data = (root / servable).read_bytes()
                (root / f"{servable}.gz").write_bytes(gzip.compress(data, mtime=0))
                (root / f"{servable}.br").write_bytes(brotli.compress(data))
    return root


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    return build_static(tmp_path / "static", TREE)


def bucket_keys(s3_client: Any, bucket: str, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", ()))
    return keys
