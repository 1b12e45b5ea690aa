"""Publishing closes every connection it opens, so a process can publish again and again.

Each run's botocore client keeps a pool of keep-alive sockets. A pool left to the garbage
collector is still open when the next run starts: a process that publishes in a loop gathers
descriptors until it runs out of them, or past the 1,024 that ``select()`` can watch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from assetpipe.publish.client import S3Client
from assetpipe.publish.history import build_id
from assetpipe.publish.prune import prune
from assetpipe.publish.rollback import rollback
from assetpipe.publish.s3 import S3Config, publish, remote_manifest_storage
from assetpipe.publish.status import status
from tests.descriptors import needs_fd_dir, no_collection, open_descriptors, opened_since
from tests.publish.conftest import TREE, build_static
from tests.publish.test_faults import V2


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> list[S3Client]:
    """Every S3Client created, kept alive: only its close() can then close its sockets, not
    the last reference going away."""
    created: list[S3Client] = []
    init = S3Client.__init__

    def keep(self: S3Client, config: S3Config) -> None:
        init(self, config)
        created.append(self)

    monkeypatch.setattr(S3Client, "__init__", keep)
    return created


@needs_fd_dir
def test_publish_prune_status_and_rollback_leave_no_descriptor_open(
    tmp_path: Path,
    config: Callable[..., S3Config],
    clients: list[S3Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = config()
    state = tmp_path / "state"
    v1 = build_static(tmp_path / "v1" / "static", TREE)
    v2 = build_static(tmp_path / "v2" / "static", V2)
    v1_build = build_id((v1 / "staticfiles.json").read_bytes())
    credentials = tmp_path / "credentials"
    # The environment's keys, in a file: a server that checks them (SeaweedFS) knows only those.
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {os.environ['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {os.environ['AWS_SECRET_ACCESS_KEY']}\n"
    )

    with no_collection():
        before = open_descriptors()
        publish(v1, "staticfiles.json", cfg, state_dir=state)  # cold
        # No change: one HEAD, signed here without botocore.
        assert not publish(v1, "staticfiles.json", cfg, state_dir=state).listed
        publish(v1, "staticfiles.json", cfg, state_dir=state, verify=True)  # no change, listed
        publish(v2, "staticfiles.json", cfg, state_dir=state)
        with monkeypatch.context() as env:
            # Credentials from a file: the no-change HEAD goes through botocore.
            env.delenv("AWS_ACCESS_KEY_ID")
            env.delenv("AWS_SECRET_ACCESS_KEY")
            env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
            assert not publish(v2, "staticfiles.json", cfg, state_dir=state).listed
        assert status(v2, "staticfiles.json", cfg).in_sync
        assert rollback(cfg).build == v1_build
        prune(cfg, keep=1, min_age=0)
        live = remote_manifest_storage(cfg)
        assert live.exists("staticfiles.json")
        with live.open("staticfiles.json") as manifest:
            assert build_id(manifest.read()) == v1_build
        pinned = remote_manifest_storage(config(manifest_digest=v1_build))
        with pinned.open("staticfiles.json") as manifest:
            assert build_id(manifest.read()) == v1_build

        assert clients  # the runs' clients, alive still
        left = opened_since(before)
    assert not left, f"{len(left)} descriptors left open: {sorted(left.values())}"
