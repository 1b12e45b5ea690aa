"""Fixtures for edge tests: S3's CORS behaviour in front of the moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.edge.s3_cors import S3CorsFront, s3_cors_front
from tests.media.conftest import IamServer, iam_server  # noqa: F401  (the IAM-enforcing moto)
from tests.serve.conftest import chromium  # noqa: F401  (the same browser fixture)


@pytest.fixture(scope="session")
def s3_front(s3_endpoint: str) -> Iterator[S3CorsFront]:
    """The moto server behind S3's CORS evaluation; its ``url`` is the endpoint to use."""
    with s3_cors_front(s3_endpoint) as front:
        yield front


@pytest.fixture(scope="session")
def iam_front(iam_server: IamServer) -> Iterator[S3CorsFront]:  # noqa: F811
    """The IAM-enforcing moto server behind S3's CORS evaluation."""
    with s3_cors_front(iam_server.endpoint) as front:
        yield front
