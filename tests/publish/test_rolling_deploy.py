"""A rolling deploy with real app server processes sharing one bucket.

v1 is published and served by processes pinned to it; v2 (one file removed, one changed, one
added) is published while they keep serving, v2 processes start pinned to v2, and v1 processes
restart mid-way. Every page of both versions must render, and every static URL it names must
be in the bucket with the bytes its version expects. Then rollback, prune with a pinned build,
a roll forward and v3, and a prune that removes only what no kept build uses.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from assetpipe.digests import md5_bytes
from assetpipe.publish.history import build_id
from assetpipe.publish.s3 import S3Config, publish
from tests.edge.shop import public_read_policy
from tests.publish.conftest import TREE, bucket_keys, build_static
from tests.publish.test_faults import assert_manifest_complete, live_manifest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0  # seconds for a process to import Django, read its manifest and listen
V2 = {
    **{name: data for name, data in TREE.items() if name != "css/print.css"},  # removed
    "js/app.js": b"console.log('v2');\n",  # changed
    "js/extra.js": b"console.log('extra');\n",  # added
}
V3 = {**V2, "css/app.css": b"body { background: url('../img/logo.png'); color: navy; }\n"}
VERSIONS = {"v1": TREE, "v2": V2, "v3": V3}


@dataclass(frozen=True)
class Version:
    label: str
    root: Path  # the build's STATIC_ROOT
    templates: Path  # the release's templates: one {% static %} per file of its tree
    names: tuple[str, ...]

    @property
    def manifest(self) -> bytes:
        return (self.root / "staticfiles.json").read_bytes()

    @property
    def digest(self) -> str:
        return build_id(self.manifest)

    @property
    def paths(self) -> dict[str, str]:
        paths: dict[str, str] = json.loads(self.manifest)["paths"]
        return paths


@dataclass
class Tally:
    renders: Counter[str] = field(default_factory=Counter)
    urls_checked: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class AppServer:
    version: Version
    process: subprocess.Popen[str]
    port: int

    def page(self) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.terminate()
        with self.process:  # closes the stdout pipe too
            self.process.wait(timeout=10)


class Fleet:
    """App server processes for one bucket, and the checks every render goes through."""

    def __init__(self, tmp_path: Path, bucket: str, endpoint: str) -> None:
        self.tmp_path = tmp_path
        self.bucket = bucket
        self.endpoint = endpoint
        self.static_url = f"{endpoint}/{bucket}/static/"
        self.servers: list[AppServer] = []
        self.tally = Tally()
        self._bytes: dict[str, bytes] = {}  # URL -> body, read once

    def environment(self, version: Version, pinned: bool) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.publish.appserver.settings",
            "APPSERVER_TEMPLATES": str(version.templates),
            "APPSERVER_STATIC_URL": self.static_url,
            "APPSERVER_BUCKET": self.bucket,
            "APPSERVER_S3_ENDPOINT": self.endpoint,
        }
        env.pop("STATIC_BUILD", None)
        if pinned:
            env["STATIC_BUILD"] = version.digest
        return env

    def launch(self, version: Version, pinned: bool = True) -> subprocess.Popen[str]:
        # The process writes to its own copy of the descriptor; this one is closed at once.
        with (self.tmp_path / f"appserver-{time.monotonic_ns()}.err").open("w") as stderr:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.publish.appserver"],
                cwd=REPO,
                env=self.environment(version, pinned),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )

    def start(self, *versions: Version, pinned: bool = True) -> list[AppServer]:
        """One process per version, launched together (their start-up overlaps)."""
        processes = [(version, self.launch(version, pinned)) for version in versions]
        started = []
        for version, process in processes:
            server = AppServer(version, process, _listening_port(process))
            _wait_until_serving(server)
            self.servers.append(server)
            started.append(server)
        return started

    def restart(self, server: AppServer) -> AppServer:
        self.stop(server)
        (restarted,) = self.start(server.version)
        return restarted

    def stop(self, server: AppServer) -> None:
        server.stop()
        self.servers.remove(server)

    def check(self, server: AppServer, expected: Version | None = None) -> None:
        """Render the page once; its URLs must be ``expected``'s (default: the server's)."""
        version = expected or server.version
        status, body = server.page()
        self.tally.renders[version.label] += 1
        if status != 200:
            self.tally.errors.append(f"{version.label} on :{server.port}: HTTP {status}")
            return
        want = [self.static_url + version.paths[name] for name in version.names]
        if body.split() != want:
            self.tally.errors.append(f"{version.label} on :{server.port} rendered {body!r}")
            return
        for name, url in zip(version.names, want, strict=True):
            self.tally.urls_checked += 1
            error = self._check_url(url, (version.root / version.paths[name]).read_bytes())
            if error:
                self.tally.errors.append(f"{version.label} on :{server.port}: {error}")

    def round(self) -> None:
        for server in self.servers:
            self.check(server)

    def _check_url(self, url: str, expected: bytes) -> str | None:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            connection.request("HEAD", parts.path)
            head = connection.getresponse()
            head.read()
            if head.status != 200:
                return f"HEAD {url}: {head.status}"
            if head.getheader("ETag", "").strip('"') != md5_bytes(expected):
                return f"HEAD {url}: another ETag than the version's bytes"
        finally:
            connection.close()
        if url not in self._bytes:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
            try:
                connection.request("GET", parts.path)
                self._bytes[url] = connection.getresponse().read()
            finally:
                connection.close()
        return None if self._bytes[url] == expected else f"GET {url}: other bytes"

    def close(self) -> None:
        for server in list(self.servers):
            self.stop(server)


def _listening_port(process: subprocess.Popen[str]) -> int:
    """The port the process prints once it listens; bounded by START_TIMEOUT."""
    assert process.stdout is not None
    # selectors, not select.select(): a descriptor past 1,024 is out of select()'s range.
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line.strip():
        process.kill()
        raise AssertionError(f"app server did not start (exit status {process.wait(10)})")
    return int(line)


def _wait_until_serving(server: AppServer, attempts: int = 20) -> None:
    # The socket listens before the port is printed; retries only cover a slow first accept.
    for attempt in range(attempts):
        try:
            server.page()
            return
        except OSError:
            if attempt == attempts - 1:
                raise


def make_version(tmp_path: Path, label: str, tree: dict[str, bytes]) -> Version:
    templates = tmp_path / f"templates-{label}"
    templates.mkdir()
    names = tuple(sorted(tree))
    lines = ["{% load static %}", *(f"{{% static '{name}' %}}" for name in names)]
    (templates / "page.html").write_text("\n".join(lines) + "\n")
    root = build_static(tmp_path / f"build-{label}" / "static", tree)
    return Version(label, root, templates, names)


@pytest.fixture
def fleet(tmp_path: Path, config: Callable[..., S3Config], s3_endpoint: str) -> Iterator[Fleet]:
    # The processes read the bucket directly; the test's own requests go through the proxy.
    fleet = Fleet(tmp_path, config().bucket_name, s3_endpoint)
    try:
        yield fleet
    finally:
        fleet.close()


def run(*args: str) -> str:
    output = io.StringIO()
    call_command("assetpipe", *args, stdout=output)
    return output.getvalue()


@dataclass
class Deploy:
    fleet: Fleet
    cfg: S3Config
    s3_client: Any
    v1: Version
    v2: Version
    v3: Version

    @property
    def live(self) -> bytes | None:
        return live_manifest(self.s3_client, self.cfg.bucket_name)

    def keys(self) -> set[str]:
        return bucket_keys(self.s3_client, self.cfg.bucket_name)


@pytest.fixture
def deploy(
    tmp_path: Path,
    fleet: Fleet,
    config: Callable[..., S3Config],
    settings: Settings,
    s3_client: Any,
) -> Deploy:
    # Public objects: the URLs a page names are checked as a browser or CDN would fetch them.
    # Readable through a bucket policy, as on S3, whose new buckets refuse ACLs (SeaweedFS
    # ignores a public-read ACL; only moto honours it).
    cfg = config()
    s3_client.put_bucket_policy(Bucket=cfg.bucket_name, Policy=public_read_policy(cfg.bucket_name))
    options = {"bucket_name": cfg.bucket_name, "location": "static"}
    options.update(endpoint_url=str(cfg.endpoint_url))
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {"s3": options},
        },
    }
    versions = (make_version(tmp_path, label, tree) for label, tree in VERSIONS.items())
    return Deploy(fleet, cfg, s3_client, *versions)


def test_rolling_deploy_rollback_and_prune(deploy: Deploy) -> None:
    servers = roll_out_v2(deploy)
    roll_back_and_keep_v2(deploy)
    roll_forward_to_v3_and_prune_v1(deploy, servers)

    tally = deploy.fleet.tally
    print(
        f"\nrolling deploy: renders {dict(tally.renders)}, {tally.urls_checked} static URLs "
        f"checked, {len(tally.errors)} errors"
    )
    assert tally.errors == []
    assert tally.renders["v1"] >= 10 and tally.renders["v2"] >= 10
    assert [server.version.label for server in deploy.fleet.servers] == ["v2", "v2"]


def roll_out_v2(deploy: Deploy) -> list[AppServer]:
    """v1 live and served; v2 published while v1 serves; v2 up; a v1 process restarts."""
    fleet, cfg, v1, v2 = deploy.fleet, deploy.cfg, deploy.v1, deploy.v2
    publish(v1.root, "staticfiles.json", cfg)
    a1, b1 = fleet.start(v1, v1)
    fleet.round()

    # A v2 process started before v2 is published stops at start-up, naming what exists.
    early = fleet.launch(v2)
    assert early.wait(timeout=START_TIMEOUT) != 0
    errors = "".join(path.read_text() for path in fleet.tmp_path.glob("appserver-*.err"))
    assert "ImproperlyConfigured" in errors
    assert f"s3://{cfg.bucket_name}/static holds no such build" in errors
    assert f"['manifest_digest'] is '{v2.digest}'" in errors and v1.digest in errors

    publishing = threading.Thread(target=publish, args=(v2.root, "staticfiles.json", cfg))
    publishing.start()
    rounds_during = 0
    while publishing.is_alive() or rounds_during == 0:
        fleet.round()
        rounds_during += 1
    publishing.join(timeout=60)
    assert deploy.live == v2.manifest

    fleet.start(v2, v2)
    fleet.round()
    a1 = fleet.restart(a1)  # still renders v1: pinned
    fleet.round()
    return [a1, b1]


def roll_back_and_keep_v2(deploy: Deploy) -> None:
    """rollback --previous; a live-manifest process renders v1; prune keeps pinned v2."""
    fleet, cfg, v1, v2 = deploy.fleet, deploy.cfg, deploy.v1, deploy.v2
    output = run("rollback", "--previous")
    assert output.startswith(f"rolled back {cfg.where} to build {v1.digest} (was {v2.digest})")
    assert deploy.live == v1.manifest
    (live,) = fleet.start(v1, pinned=False)
    fleet.check(live, v1)
    fleet.stop(live)
    fleet.round()

    # v2 servers are still running: prune keeps their build although it is not the newest.
    before = deploy.keys()
    output = run("prune", "--keep", "1", "--keep-build", v2.digest, "--min-age", "0", "--dry-run")
    assert f"keep build {v1.digest} (live, among the newest 1)\n" in output
    assert f"keep build {v2.digest} (named with --keep-build)\n" in output
    assert "would delete 0 unreferenced objects" in output
    run("prune", "--keep", "1", "--keep-build", v2.digest, "--min-age", "0")
    assert deploy.keys() == before
    fleet.round()


def roll_forward_to_v3_and_prune_v1(deploy: Deploy, v1_servers: list[AppServer]) -> None:
    """v2 live again, then v3; a v1 process restarts on v1; v1 retired and pruned."""
    fleet, v1, v2, v3 = deploy.fleet, deploy.v1, deploy.v2, deploy.v3
    a1, b1 = v1_servers
    run("rollback", "--to", v2.digest)
    publish(v3.root, "staticfiles.json", deploy.cfg)
    b1 = fleet.restart(b1)
    fleet.round()

    fleet.stop(a1)
    fleet.stop(b1)
    before = deploy.keys()
    output = run("prune", "--keep", "2", "--min-age", "0")
    only_v1 = {f"static/{name}" for name in v1.paths.values()} - {
        f"static/{name}" for version in (v2, v3) for name in version.paths.values()
    }
    assert len(only_v1) == 2  # v1's print.css (removed in v2) and js/app.js (changed)
    assert deploy.keys() == before - only_v1
    assert "deleted 2 unreferenced objects" in output
    fleet.round()
    assert_manifest_complete(deploy.s3_client, deploy.cfg.bucket_name)
