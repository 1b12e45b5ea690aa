"""The no-change publish: one conditional request when the last publish's manifest is live still,
and today's listing and repair whenever that is not shown."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from django.core.management import call_command
from pytest_django.fixtures import Settings

from assetpipe.publish.last_publish import load_record, record_path
from assetpipe.publish.live_check import Credentials, signed_headers
from assetpipe.publish.s3 import S3Config, publish
from tests.publish.conftest import TREE, FaultProxy, Reset, Respond, build_static
from tests.publish.test_collectstatic import STORAGE, s3_options, use_source_tree
from tests.publish.test_faults import V2, assert_manifest_complete, live_manifest, outdated

INTERNAL = Respond(500, "InternalError", "We encountered an internal error.")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def published(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, state_dir: Path
) -> Path:
    """v1 built and published with a state_dir; the proxy's log cleared."""
    root = build_static(tmp_path / "static", TREE)
    publish(root, "staticfiles.json", config(), state_dir=state_dir)
    proxy.clear()
    return root


def test_a_no_change_publish_sends_one_conditional_request(
    published: Path, config: Callable[..., S3Config], proxy: FaultProxy, state_dir: Path
) -> None:
    result = publish(published, "staticfiles.json", config(), state_dir=state_dir)

    assert proxy.counts() == {"HEAD": 1}
    (head,) = proxy.log
    assert head.key == "static/staticfiles.json"
    record = load_record(record_path(state_dir, published, config()))
    assert record is not None and head.headers["if-none-match"] == f'"{record.etag}"'
    assert "botocore" not in head.headers.get("user-agent", "").lower()  # signed here
    assert result.request_count == 1 and result.uploaded == 0 and not result.listed
    assert "not listed" in result.summary() and result.summary().endswith("; 1 request")


def test_without_a_state_dir_or_with_verify_the_bucket_is_listed(
    published: Path, config: Callable[..., S3Config], proxy: FaultProxy, state_dir: Path
) -> None:
    publish(published, "staticfiles.json", config())
    assert proxy.counts() == {"LIST": 1}
    proxy.clear()
    publish(published, "staticfiles.json", config(), state_dir=state_dir, verify=True)
    assert proxy.counts() == {"LIST": 1}


def test_verify_repairs_an_object_deleted_behind_the_publishers_back(
    published: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    state_dir: Path,
    s3_client: Any,
) -> None:
    cfg = config()
    s3_client.delete_object(Bucket=cfg.bucket_name, Key="static/js/app.js")

    # The trade-off: the live manifest is the recorded one, so a no-change run does not look.
    publish(published, "staticfiles.json", cfg, state_dir=state_dir)
    assert proxy.counts() == {"HEAD": 1}
    assert outdated(s3_client, cfg.bucket_name, published) == {"static/js/app.js"}

    proxy.clear()
    publish(published, "staticfiles.json", cfg, state_dir=state_dir, verify=True)
    assert proxy.puts() == ["static/js/app.js"]
    assert outdated(s3_client, cfg.bucket_name, published) == set()


def test_after_another_deploy_changed_the_live_manifest_the_run_lists_and_repairs(
    tmp_path: Path,
    published: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    state_dir: Path,
    s3_client: Any,
) -> None:
    cfg = config()
    other = build_static(tmp_path / "other" / "static", V2)
    publish(other, "staticfiles.json", cfg)  # another job, its own state (here: none)
    proxy.clear()

    publish(published, "staticfiles.json", cfg, state_dir=state_dir)

    kinds = [request.kind for request in proxy.log]
    assert kinds[:2] == ["HEAD", "LIST"]
    assert proxy.puts()[-1] == "static/staticfiles.json"
    local = (published / "staticfiles.json").read_bytes()
    assert live_manifest(s3_client, cfg.bucket_name) == local
    assert_manifest_complete(s3_client, cfg.bucket_name)
    # ... and the run after that is settled by one request again.
    proxy.clear()
    publish(published, "staticfiles.json", cfg, state_dir=state_dir)
    assert proxy.counts() == {"HEAD": 1}


@pytest.mark.parametrize(
    "fault", [INTERNAL, Respond(403, "AccessDenied"), Reset()], ids=["500", "403", "reset"]
)
def test_a_failed_conditional_request_falls_back_to_listing_and_repair(
    published: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    state_dir: Path,
    s3_client: Any,
    fault: Respond | Reset,
) -> None:
    cfg = config()
    s3_client.delete_object(Bucket=cfg.bucket_name, Key="static/css/print.css")
    proxy.rule = lambda request: fault if request.kind == "HEAD" else None

    publish(published, "staticfiles.json", cfg, state_dir=state_dir)

    assert proxy.counts()["LIST"] == 1
    assert proxy.puts() == ["static/css/print.css"]
    assert outdated(s3_client, cfg.bucket_name, published) == set()


def test_a_rebuilt_tree_a_corrupt_record_or_other_settings_mean_listing(
    published: Path, config: Callable[..., S3Config], proxy: FaultProxy, state_dir: Path
) -> None:
    record = record_path(state_dir, published, config())
    record.write_bytes(b'{"format": 1, "etag": ')
    publish(published, "staticfiles.json", config(), state_dir=state_dir)
    assert proxy.counts()["LIST"] == 1  # and the record is written again
    proxy.clear()
    # The variants become part of what is published: the record no longer describes it.
    publish(
        published,
        "staticfiles.json",
        config(variants="static_root_and_bucket"),
        state_dir=state_dir,
    )
    assert proxy.counts()["LIST"] == 1
    proxy.clear()
    build_static(published, V2)
    publish(
        published,
        "staticfiles.json",
        config(variants="static_root_and_bucket"),
        state_dir=state_dir,
    )
    assert proxy.counts()["LIST"] == 1
    proxy.clear()
    publish(
        published,
        "staticfiles.json",
        config(variants="static_root_and_bucket"),
        state_dir=state_dir,
    )
    assert proxy.counts() == {"HEAD": 1}


def test_a_dry_run_always_lists_and_leaves_the_record_alone(
    published: Path, config: Callable[..., S3Config], proxy: FaultProxy, state_dir: Path
) -> None:
    record = record_path(state_dir, published, config())
    before = record.read_bytes()
    publish(published, "staticfiles.json", config(), state_dir=state_dir, dry_run=True)
    assert proxy.counts() == {"LIST": 1}
    assert record.read_bytes() == before


def test_credentials_from_a_shared_file_go_through_botocore_still_one_request(
    tmp_path: Path,
    published: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = tmp_path / "credentials"
    # The environment's keys, in a file: a server that checks them (SeaweedFS) knows only those.
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {os.environ['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {os.environ['AWS_SECRET_ACCESS_KEY']}\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))

    result = publish(published, "staticfiles.json", config(), state_dir=state_dir)

    assert proxy.counts() == {"HEAD": 1}
    assert "botocore" in proxy.log[0].headers["user-agent"].lower()
    assert result.requests == {"HeadObject": 1} and not result.listed


def test_the_publishing_entry_point_does_not_import_botocore() -> None:
    code = "import sys, assetpipe.publish.s3; sys.exit('botocore' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_signed_request_carries_botocores_signature() -> None:
    now = datetime(2026, 12, 1, 12, 30, 5, tzinfo=UTC)
    host, path = "127.0.0.1:9000", "/bucket/static/a%20b/staticfiles.json"
    for token in (None, "session-token"):
        ours = signed_headers(
            "HEAD", host, path, "eu-west-1", Credentials("AKID", "secret", token), now
        )
        request = AWSRequest(method="HEAD", url=f"http://{host}{path}")
        for name, value in ours.items():
            if name != "authorization":
                request.headers[name] = value
        request.context["timestamp"] = now.strftime("%Y%m%dT%H%M%SZ")
        auth = S3SigV4Auth(BotocoreCredentials("AKID", "secret", token), "s3", "eu-west-1")
        canonical = auth.canonical_request(request)
        signature = auth.signature(auth.string_to_sign(request, canonical), request)
        assert ours["authorization"].endswith(f"Signature={signature}")


def test_sync_uses_the_storages_state_dir_and_verify_lists(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy, settings: Settings
) -> None:
    cfg = config()
    use_source_tree(tmp_path, settings)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": STORAGE, "OPTIONS": {"s3": s3_options(cfg)}},
    }
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    assert list((tmp_path / ".assetpipe").glob("publish-*.json"))

    proxy.clear()
    output = io.StringIO()
    call_command("assetpipe", "sync", stdout=output)
    assert proxy.counts() == {"HEAD": 1}
    assert "not listed" in output.getvalue()

    proxy.clear()
    call_command("assetpipe", "sync", "--verify", stdout=io.StringIO())
    assert proxy.counts() == {"LIST": 1}
