"""The runners' IAM policies (``manage.py assetpipe runner-policy``), enforced.

A moto server of its own, started with authentication on (``INITIAL_NO_AUTH_ACTION_COUNT``:
after the first few requests every request must be signed by an IAM user's key and is
checked against that user's policies). The deploying runner publishes with the printed
policy; a pull request's runner, with the ``--read-only`` one and ``"publish": False``, builds
from the bucket's variants and writes nothing; with ``publish`` left on it is refused, by S3.

moto evaluates actions and resources but not the ``s3:prefix`` condition on ListBucket, so
the tests of that condition put it in a proxy in front of moto and check that every listing
the runners' builds make passes it, and that listings outside the static prefix do not.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.fixtures import Settings

from assetpipe.publish.policies import runner_policy
from tests.conftest import free_port
from tests.publish.conftest import Fault, FaultProxy, ProxyRequest, Respond, Rule

BUCKET = "assetpipe-runners"
SOURCES = {
    f"css/part{i}.css": (f".part{i} {{ color: #{i:03x}; margin: {i}px; }}\n" * 60).encode()
    for i in range(10)
}


@pytest.fixture(scope="module")
def authenticating_s3() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the authenticating moto server did not start") from None
                time.sleep(0.05)  # polling for the port, not waiting for an outcome
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def client(service: str, endpoint: str, key: dict[str, str]) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


@pytest.fixture(scope="module")
def keys(authenticating_s3: str) -> dict[str, dict[str, str]]:
    """Access keys of an administrator, the deploying runner and a read-only runner."""
    # The three requests moto takes unsigned: an administrator and its key.
    anonymous = {"AccessKeyId": "AKIAANONYMOUS", "SecretAccessKey": "anonymous"}
    iam = client("iam", authenticating_s3, anonymous)
    iam.create_user(UserName="admin")
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    document = json.dumps({"Version": "2012-10-17", "Statement": [everything]})
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=document)
    admin = iam.create_access_key(UserName="admin")["AccessKey"]
    iam = client("iam", authenticating_s3, admin)
    client("s3", authenticating_s3, admin).create_bucket(Bucket=BUCKET)
    found = {"admin": admin}
    for user, read_only in (("deploy", False), ("pull-request", True)):
        iam.create_user(UserName=user)
        policy = runner_policy(BUCKET, "static/", read_only=read_only)
        iam.put_user_policy(
            UserName=user, PolicyName="assetpipe", PolicyDocument=json.dumps(policy)
        )
        found[user] = iam.create_access_key(UserName=user)["AccessKey"]
    return found


def collect(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
    key: dict[str, str],
    runner: str,
    **s3: Any,
) -> str:
    source = tmp_path / "source"
    for name, data in SOURCES.items():
        if not (source / name).exists():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(data)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = str(tmp_path / runner / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {
                "state_dir": str(tmp_path / runner / "state"),
                "s3": {
                    "bucket_name": BUCKET,
                    "location": "static",
                    "endpoint_url": endpoint,
                    "region_name": "us-east-1",
                    "variants": "static_root_and_bucket",
                    **s3,
                },
            },
        },
    }
    out = io.StringIO()
    call_command("collectstatic", interactive=False, verbosity=1, stdout=out, stderr=out)
    return out.getvalue()


def bucket_state(endpoint: str, admin: dict[str, str]) -> dict[str, str]:
    listing = client("s3", endpoint, admin).list_objects_v2(Bucket=BUCKET)
    return {item["Key"]: item["ETag"] for item in listing.get("Contents", ())}


def test_runners_with_the_printed_policies(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    authenticating_s3: str,
    keys: dict[str, dict[str, str]],
) -> None:
    endpoint = authenticating_s3
    deployed = collect(tmp_path, settings, monkeypatch, endpoint, keys["deploy"], "deploy")
    assert "published build" in deployed
    published = bucket_state(endpoint, keys["admin"])
    assert "static/staticfiles.json" in published

    # A pull request changes one file and builds on a runner of its own, read-only.
    (tmp_path / "source/css/part4.css").write_bytes(b".changed { color: red }\n" * 60)
    reader = client("s3", endpoint, keys["pull-request"])
    with pytest.raises(ClientError, match="AccessDenied"):
        reader.put_object(Bucket=BUCKET, Key="static/poison.css", Body=b"*{}")
    built = collect(
        tmp_path, settings, monkeypatch, endpoint, keys["pull-request"], "pr", publish=False
    )

    assert "fetched from the bucket" in built and "2 files compressed" in built
    assert f"not published to s3://{BUCKET}/static" in built
    assert bucket_state(endpoint, keys["admin"]) == published
    # Forgetting "publish": False fails at the first write, naming the permission.
    with pytest.raises(CommandError, match="s3:PutObject"):
        collect(tmp_path, settings, monkeypatch, endpoint, keys["pull-request"], "pr2")
    assert bucket_state(endpoint, keys["admin"]) == published


# --- what the printed policies allow, on the wire --------------------------------------------


def runner_policy_command(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("assetpipe", "runner-policy", *args, stdout=out)
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def string_like(pattern: str, value: str) -> bool:
    """IAM's StringLike: ``*`` any run of characters, ``?`` any one, the rest literal."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def listing_condition(policy: dict[str, Any]) -> Rule:
    """A proxy rule that refuses, as S3 would, a listing the policy's ListBucket statement does
    not allow: moto evaluates no condition keys, so the proxy evaluates ``s3:prefix``."""
    [statement] = [s for s in policy["Statement"] if s["Action"] == "s3:ListBucket"]
    patterns: list[str] = statement["Condition"]["StringLike"]["s3:prefix"]

    def rule(request: ProxyRequest) -> Fault | None:
        if request.kind != "LIST":
            return None
        prefix = parse_qs(request.query, keep_blank_values=True).get("prefix")
        if prefix is not None and any(string_like(p, prefix[0]) for p in patterns):
            return None
        return Respond(403, "AccessDenied", "s3:ListBucket: the s3:prefix condition")

    return rule


@pytest.mark.parametrize("read_only", [False, True])
def test_the_listing_condition_confines_listings_to_the_static_prefix(
    settings: Settings, s3_client: Any, proxy: FaultProxy, read_only: bool
) -> None:
    bucket = f"runner-listing-{int(read_only)}"
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key="media/acme/invoice.pdf", Body=b"%PDF-1")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"s3": {"bucket_name": bucket, "location": "static"}},
        },
    }
    policy = runner_policy_command(*(["--read-only"] if read_only else []))
    proxy.rule = listing_condition(policy)
    reader = boto3.client("s3", endpoint_url=proxy.url, region_name="us-east-1")

    for allowed in ("static/", "static/manifests/", "static/css/part1.css"):
        assert "KeyCount" in reader.list_objects_v2(Bucket=bucket, Prefix=allowed), allowed
    for refused in ("", "media/", "media/acme/", "stat", "x/static/"):
        with pytest.raises(ClientError, match="AccessDenied"):
            reader.list_objects_v2(Bucket=bucket, Prefix=refused)
    with pytest.raises(ClientError, match="AccessDenied"):
        reader.list_objects_v2(Bucket=bucket)  # no prefix at all


def test_every_listing_a_build_makes_is_within_the_condition(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    s3_client: Any,
    proxy: FaultProxy,
) -> None:
    """The deploying runner publishes, checks status and prunes, and a pull request's runner
    builds from the bucket, with every listing held to the printed policies' condition."""
    with contextlib.suppress(ClientError):
        s3_client.create_bucket(Bucket=BUCKET)
    key = {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"s3": {"bucket_name": BUCKET, "location": "static"}},
        },
    }
    deploy, read_only = runner_policy_command(), runner_policy_command("--read-only")

    proxy.rule = listing_condition(deploy)
    deployed = collect(tmp_path, settings, monkeypatch, proxy.url, key, "deploy")
    assert "published build" in deployed
    call_command("assetpipe", "status", stdout=io.StringIO())
    call_command("assetpipe", "prune", "--dry-run", "--min-age", "0", stdout=io.StringIO())

    proxy.rule = listing_condition(read_only)
    (tmp_path / "source/css/part4.css").write_bytes(b".changed { color: red }\n" * 60)
    built = collect(tmp_path, settings, monkeypatch, proxy.url, key, "pr", publish=False)
    assert "fetched from the bucket" in built and "2 files compressed" in built

    listings = [request for request in proxy.log if request.kind == "LIST"]
    assert listings, "the builds listed nothing: the condition was not exercised"
    assert all("prefix=static%2F" in request.query for request in listings), listings


def test_no_runner_policy_for_a_prefix_that_reaches_media(settings: Settings) -> None:
    """The reproduced case: a pull request's runner with the policy for static files at the
    bucket's root could list and read every upload of django-storages' S3Storage."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "acme", "location": "media"},
        },
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"s3": {"bucket_name": "acme"}},
        },
    }
    out = io.StringIO()

    for args in ([], ["--read-only"]):
        with pytest.raises(CommandError) as refused:
            call_command("assetpipe", "runner-policy", *args, stdout=out)
        assert str(refused.value).startswith(
            "refusing to print a runner policy for s3://acme/: "
            'STORAGES["staticfiles"] (assetpipe.storage.AssetPipeStorage) publishes to '
            "s3://acme/, the whole bucket"
        )
        assert 'STORAGES["default"] (storages.backends.s3.S3Storage) keeps files in' in str(
            refused.value
        )
    assert out.getvalue() == ""
