"""Fixtures for edge tests: the S3 server as a browser sees it (SeaweedFS, or moto behind S3's
CORS evaluation), chromium, and edge code run as the CDN would run it: Debian's node, a
restricted ``vm`` context, a batch of events a process (function_driver.js), and acorn
(installed from tests/edge/acorn, as :mod:`tests.npm` installs packages) to hold it to
ECMAScript 5."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import npm
from tests.conftest import on_both_backends, require_component
from tests.edge.s3_cors import S3CorsFront, s3_cors_front
from tests.media.conftest import IamServer, iam_server  # noqa: F401  (the IAM-enforcing moto)
from tests.serve.conftest import chromium  # noqa: F401  (the same browser fixture)

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "function_driver.js"
NODE = Path("/usr/bin/node")  # Debian's

RunFunction = Callable[[str, Sequence[Any]], list[dict[str, Any]]]
CheckFunction = Callable[[str, Sequence[str]], dict[str, Any]]


@pytest.fixture(scope="session")
def node() -> Path:
    require_component("node", NODE.is_file(), "apt-get install nodejs")
    return NODE


@pytest.fixture(scope="session")
def acorn() -> Path:
    """acorn's node_modules, installed on first use."""
    return npm.node_modules(HERE / "acorn", "edge-acorn")


def _driver(node: Path, *args: str, stdin: str = "") -> Any:
    result = subprocess.run(
        [str(node), str(DRIVER), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def run_function(node: Path, tmp_path_factory: pytest.TempPathFactory) -> RunFunction:
    """``run_function(code, events)``: what the code's ``handler`` made of each event, as
    ``{"request": ...}`` or ``{"error": ...}``; one node process for the whole batch."""
    folder = tmp_path_factory.mktemp("edge-functions")

    def run(code: str, events: Sequence[Any]) -> list[dict[str, Any]]:
        path = folder / f"function-{len(list(folder.iterdir()))}.js"
        path.write_text(code, encoding="utf-8")
        results: list[dict[str, Any]] = _driver(node, "run", str(path), stdin=json.dumps(events))
        assert len(results) == len(events)
        return results

    return run


@pytest.fixture(scope="session")
def check_function(
    node: Path, acorn: Path, tmp_path_factory: pytest.TempPathFactory
) -> CheckFunction:
    """``check_function(code, names)``: acorn's ES5 verdict, which of ``names`` the code spells,
    and what each is in the context the code runs in (function_driver.js ``check``)."""
    folder = tmp_path_factory.mktemp("edge-checked")

    def check(code: str, names: Sequence[str]) -> dict[str, Any]:
        path = folder / f"function-{len(list(folder.iterdir()))}.js"
        path.write_text(code, encoding="utf-8")
        result: dict[str, Any] = _driver(node, "check", str(path), str(acorn), *names)
        return result

    return check


# Tests of S3 behaviour that SeaweedFS, a real implementation, can show: bucket CORS rules, bucket
# policies, and the shop loaded from the bucket in chromium. The rest use S3 as a store only.
BOTH_BACKENDS = frozenset(
    {
        "test_cors.py",
        "test_s3_cors.py",
        "test_s3_servers.py",
        "test_bucket_policy.py",
        "test_bucket_browser.py",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if Path(str(metafunc.definition.fspath)).name in BOTH_BACKENDS:
        on_both_backends(metafunc)


@pytest.fixture(scope="session")
def s3_front(s3_backend: str, s3_endpoint: str) -> Iterator[S3CorsFront]:
    """The S3 server as a browser sees it; its ``url`` is the endpoint to use. moto behind
    S3's CORS evaluation; SeaweedFS, which evaluates the rules itself, behind a recorder."""
    with s3_cors_front(s3_endpoint, evaluate=s3_backend == "moto") as front:
        yield front


@pytest.fixture(scope="session")
def iam_front(iam_server: IamServer) -> Iterator[S3CorsFront]:  # noqa: F811
    """The IAM-enforcing moto server behind S3's CORS evaluation."""
    with s3_cors_front(iam_server.endpoint) as front:
        yield front
