"""Shared fixtures: real components on loopback, started by the tests themselves."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest

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
    if available:
        return
    message = f"{name} is not installed ({hint})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server over real HTTP on a free loopback port."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


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
