"""fetch_sdist() caches a Django sdist only with the SHA-256 that the index lists for it.

A local HTTP server stands in for PyPI: it serves Django's simple-API page and a tarball.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.run_django_tests import INDEX_JSON, fetch_sdist

TARBALL = b"not really a tarball, but bytes with a digest"


@dataclass
class FakeIndex:
    """Django's simple-API page (PEP 691 JSON) and files, and the paths asked for."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def release(self, version: str, sha256: str) -> str:
        """List ``TARBALL`` as ``version``'s sdist with ``sha256``; the index URL."""
        filename = f"Django-{version}.tar.gz"  # the spelling of older releases
        self.files[f"/files/{filename}"] = TARBALL
        listed = [
            {"filename": f"django-{version}-py3-none-any.whl", "url": "/files/wheel", "hashes": {}},
            # Relative to the page, as PEP 691 allows.
            {"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": sha256}},
        ]
        self.files["/simple/django/"] = json.dumps({"files": listed}).encode()
        return f"{self.url}/simple/django/"


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIndex]:
    # A proxy configured for the machine must not stand between the test and the server.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    fake = FakeIndex()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            fake.requested.append(self.path)
            body = fake.files.get(self.path)
            self.send_response(200 if body is not None else 404)
            if self.path.startswith("/simple/") and self.headers["Accept"] == INDEX_JSON:
                self.send_header("Content-Type", INDEX_JSON)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_a_download_with_another_sha256_is_refused_and_not_cached(
    index: FakeIndex, tmp_path: Path
) -> None:
    url = index.release("9.9", hashlib.sha256(b"the real tarball").hexdigest())

    with pytest.raises(RuntimeError, match=r"not the \w+ that \S+ lists; it was not cached"):
        fetch_sdist("9.9", tmp_path, url)

    assert index.requested == ["/simple/django/", "/files/Django-9.9.tar.gz"]
    assert list((tmp_path / "django").iterdir()) == []  # neither the file nor a temporary


def test_a_download_with_the_listed_sha256_is_cached_under_one_name(
    index: FakeIndex, tmp_path: Path
) -> None:
    url = index.release("9.9", hashlib.sha256(TARBALL).hexdigest())

    cached = fetch_sdist("9.9", tmp_path, url)

    assert cached == tmp_path / "django" / "django-9.9.tar.gz"
    assert cached.read_bytes() == TARBALL
    assert list((tmp_path / "django").iterdir()) == [cached]
    assert fetch_sdist("9.9", tmp_path, url) == cached  # from the cache
    assert len(index.requested) == 2
