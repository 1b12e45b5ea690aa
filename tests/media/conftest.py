"""Fixtures for the media storage: buckets, storages, a request log, an IAM-enforcing server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from assetpipe.media import TenantMediaStorage
from tests.conftest import free_port, on_both_backends

MakeStorage = Callable[..., TenantMediaStorage]

# test_iam.py needs moto's IAM enforcement (users, policies with conditions), which SeaweedFS's
# identities cannot express; the rest runs on both servers.
MOTO_ONLY = frozenset({"test_iam.py"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    on_both_backends(metafunc, MOTO_ONLY)


@pytest.fixture
def media_bucket(make_bucket: Callable[[], str]) -> str:
    return make_bucket()


@pytest.fixture
def make_storage(s3_endpoint: str, media_bucket: str) -> MakeStorage:
    """Build a TenantMediaStorage on the S3 server: ``media/acme/`` unless overridden."""

    def make(**options: Any) -> TenantMediaStorage:
        defaults: dict[str, Any] = {
            "bucket_name": media_bucket,
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            "location": "media",
            "tenant": "acme",
        }
        return TenantMediaStorage(**{**defaults, **options})

    return make


@pytest.fixture
def media_settings(settings: Any, s3_endpoint: str, media_bucket: str) -> dict[str, Any]:
    """Point ``STORAGES["default"]`` at a TenantMediaStorage; returns its OPTIONS to edit."""
    options: dict[str, Any] = {
        "bucket_name": media_bucket,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "location": "media",
        "tenant": "acme",
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "assetpipe.media.TenantMediaStorage", "OPTIONS": options},
    }
    return options


@dataclass
class RequestLog:
    """What a boto3 client was asked to do (``calls``) and how many HTTP requests it sent."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: int = 0

    def keys(self) -> list[str]:
        """Every object key and listing prefix the client addressed."""
        return [
            params[arg] for _, params in self.calls for arg in ("Key", "Prefix") if arg in params
        ]


def watch(client: Any) -> RequestLog:
    """Record the calls and HTTP requests of a boto3 S3 client through its event hooks."""
    log = RequestLog()

    def on_call(params: dict[str, Any], model: Any, **_: Any) -> None:
        log.calls.append((model.name, dict(params)))

    def on_send(**_: Any) -> None:
        log.sent += 1

    client.meta.events.register("before-parameter-build.s3", on_call)
    client.meta.events.register("before-send.s3", on_send)
    return log


@pytest.fixture
def request_log() -> Callable[[TenantMediaStorage], RequestLog]:
    """Start recording the requests a storage makes (from this thread)."""

    def start(storage: TenantMediaStorage) -> RequestLog:
        return watch(storage.connection.meta.client)

    return start


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}")
        try:
            # A bare TCP connect: it reaches no AWS action, so it spends none of the
            # unauthenticated actions.
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"moto server did not listen on port {port} within {timeout}s")


@dataclass(frozen=True)
class IamServer:
    endpoint: str
    admin_key: str
    admin_secret: str

    def s3(self, credentials: tuple[str, str] | None = None) -> Any:
        """An S3 client with ``credentials`` (key id, secret), the administrator's by default."""
        key, secret = credentials or (self.admin_key, self.admin_secret)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
        )

    def iam(self) -> Any:
        return boto3.client(
            "iam",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.admin_key,
            aws_secret_access_key=self.admin_secret,
        )


# The actions moto serves before it starts enforcing IAM: just enough to create an
# administrator, whose keys then set up everything else.
_SETUP_ACTIONS = 3


@pytest.fixture(scope="session")
def iam_server() -> Iterator[IamServer]:
    """A moto server process that enforces IAM after its first few actions."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_ACTIONS)}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        iam.create_user(UserName="admin")
        iam.put_user_policy(
            UserName="admin",
            PolicyName="everything",
            PolicyDocument='{"Version": "2012-10-17", "Statement": '
            '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        yield IamServer(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        process.wait(timeout=10)
