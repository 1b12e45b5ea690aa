"""rollback(): an earlier build becomes live again only when all its objects are in the bucket."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from assetpipe.publish.history import build_id, history_entries
from assetpipe.publish.prune import prune
from assetpipe.publish.rollback import rollback
from assetpipe.publish.s3 import PublishError, S3Config, publish
from tests.publish.conftest import TREE, FaultProxy, Reset, Respond, Rule, bucket_keys, build_static
from tests.publish.md5_prefix import FORGED, FORGED_JS, LEGIT, legit_build
from tests.publish.test_faults import INTERNAL, SLOW_DOWN, V2, assert_manifest_complete
from tests.publish.test_faults import live_manifest as live

V3 = {**V2, "js/app.js": b"console.log('v3');\n"}


def release(root: Path, cfg: S3Config, tree: dict[str, bytes]) -> bytes:
    build_static(root, tree)
    publish(root, "staticfiles.json", cfg)
    return (root / "staticfiles.json").read_bytes()


@pytest.fixture
def two_builds(
    tmp_path: Path, config: Callable[..., S3Config], proxy: FaultProxy
) -> tuple[bytes, bytes]:
    """v1 then v2 published; the manifest of each."""
    cfg = config()
    v1 = release(tmp_path / "v1" / "static", cfg, TREE)
    v2 = release(tmp_path / "v2" / "static", cfg, V2)
    proxy.clear()
    return v1, v2


def history(s3_client: Any, bucket: str) -> list[str]:
    names = [key.removeprefix("static/") for key in bucket_keys(s3_client, bucket, "static/")]
    return [entry.digest for entry in history_entries(names)]


def test_previous_makes_the_build_before_live_again(
    two_builds: tuple[bytes, bytes],
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
) -> None:
    v1, v2 = two_builds
    cfg = config()

    result = rollback(cfg)

    assert live(s3_client, cfg.bucket_name) == v1
    # Recorded like a publish: the history copy first, then the live manifest.
    assert history(s3_client, cfg.bucket_name) == [build_id(v1), build_id(v2), build_id(v1)]
    puts = proxy.puts()
    assert puts[0].startswith("static/manifests/") and puts[1:] == ["static/staticfiles.json"]
    assert proxy.counts() == {"LIST": 1, "GET": 1, "PUT": 2}
    assert result.summary() == (
        f"rolled back {cfg.where} to build {build_id(v1)} (was {build_id(v2)}); "
        "5 referenced objects present; 4 requests"
    )
    # --previous again goes back to v2, the build live before v1.
    rollback(cfg)
    assert live(s3_client, cfg.bucket_name) == v2


def test_to_names_the_build(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    v1 = release(tmp_path / "v1" / "static", cfg, TREE)
    release(tmp_path / "v2" / "static", cfg, V2)
    release(tmp_path / "v3" / "static", cfg, V3)
    rollback(cfg, to=build_id(v1))
    assert live(s3_client, cfg.bucket_name) == v1


def test_an_unknown_build_is_refused_naming_the_known_ones(
    two_builds: tuple[bytes, bytes], config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    v1, v2 = two_builds
    with pytest.raises(PublishError) as failure:
        rollback(config(), to="0123456789ab")
    message = str(failure.value)
    assert "holds no build 0123456789ab; newest builds there: " in message
    assert message.index(build_id(v2)) < message.index(build_id(v1))
    assert "PUT" not in proxy.counts()
    with pytest.raises(PublishError, match="not a build id"):
        rollback(config(), to="v1")


def test_refuses_a_build_whose_objects_were_pruned(
    two_builds: tuple[bytes, bytes],
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
) -> None:
    v1, v2 = two_builds
    cfg = config()
    deleted = prune(cfg, keep=1, min_age=0).deleted
    assert len(deleted) == 2
    proxy.clear()

    with pytest.raises(PublishError) as failure:
        rollback(cfg, to=build_id(v1))

    message = str(failure.value)
    assert "2 of the 5 objects it references are no longer in the bucket (pruned?): " in message
    assert all(key in message for key in deleted)
    assert "nothing was changed" in message
    assert "PUT" not in proxy.counts()
    assert live(s3_client, cfg.bucket_name) == v2


def test_dry_run_checks_and_changes_nothing(
    two_builds: tuple[bytes, bytes],
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
) -> None:
    v1, v2 = two_builds
    cfg = config()
    output = io.StringIO()
    result = rollback(cfg, dry_run=True, stdout=output)
    assert result.summary().startswith(f"dry run: would roll back {cfg.where} to build ")
    assert output.getvalue().splitlines()[-1] == (
        f"upload static/staticfiles.json (build {build_id(v1)}; after it)"
    )
    assert "PUT" not in proxy.counts()
    assert live(s3_client, cfg.bucket_name) == v2


def test_the_live_build_is_left_alone(
    two_builds: tuple[bytes, bytes], config: Callable[..., S3Config], proxy: FaultProxy
) -> None:
    _v1, v2 = two_builds
    result = rollback(config(), to=build_id(v2))
    assert result.summary().startswith(f"build {build_id(v2)} is already live")
    assert "PUT" not in proxy.counts()


@pytest.mark.parametrize(
    "rule",
    [
        lambda request: INTERNAL if request.kind == "PUT" else None,
        lambda request: SLOW_DOWN if request.key == "static/staticfiles.json" else None,
        lambda request: Reset() if request.kind in {"GET", "PUT"} else None,
        lambda request: Respond(500, "InternalError") if request.kind == "LIST" else None,
    ],
    ids=["every-put-fails", "the-live-manifest-put-fails", "resets", "listing-fails"],
)
def test_an_outage_mid_rollback_leaves_the_old_live_manifest(
    two_builds: tuple[bytes, bytes],
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    rule: Rule,
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    v1, v2 = two_builds
    cfg = config()
    proxy.rule = rule

    with pytest.raises(PublishError, match=f"s3://{cfg.bucket_name}/static"):
        rollback(cfg)

    assert live(s3_client, cfg.bucket_name) == v2
    assert_manifest_complete(s3_client, cfg.bucket_name)
    proxy.rule = None
    rollback(cfg)
    assert live(s3_client, cfg.bucket_name) == v1
    assert_manifest_complete(s3_client, cfg.bucket_name)


def test_prune_keeps_the_rolled_back_build(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    v1 = release(tmp_path / "v1" / "static", cfg, TREE)
    v2 = release(tmp_path / "v2" / "static", cfg, V2)
    rollback(cfg)
    v3 = release(tmp_path / "v3" / "static", cfg, V3)

    result = prune(cfg, keep=2, min_age=0)

    # The rollback made v1 the build live before v3: v2 goes.
    assert [build.digest for build in result.builds] == [build_id(v3), build_id(v1)]
    assert result.deleted and all(
        key.removeprefix("static/") not in v1.decode() for key in result.deleted
    )
    assert build_id(v2) not in {build.digest for build in result.builds}


def test_the_command_needs_a_target(settings: Settings, config: Callable[..., S3Config]) -> None:
    cfg = config()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            "OPTIONS": {"s3": {"bucket_name": cfg.bucket_name, "location": "static"}},
        },
    }
    with pytest.raises(CommandError, match="one of the arguments --to --previous is required"):
        call_command("assetpipe", "rollback")
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("assetpipe", "rollback", "--previous", "--to", "0123456789ab")


def test_a_copy_that_only_shares_the_build_ids_digits_is_not_made_live(
    tmp_path: Path, config: Callable[..., S3Config], s3_client: Any
) -> None:
    cfg = config()
    publish(legit_build(tmp_path / "legit"), "staticfiles.json", cfg)
    (key,) = bucket_keys(s3_client, cfg.bucket_name, "static/manifests/")
    v2 = release(tmp_path / "v2" / "static", cfg, V2)
    # The forged copy and what it references, all in place: only its bytes give it away.
    s3_client.put_object(Bucket=cfg.bucket_name, Key=key, Body=FORGED)
    s3_client.put_object(Bucket=cfg.bucket_name, Key=f"static/{FORGED_JS}", Body=b"evil()")

    with pytest.raises(PublishError, match=f"does not hold build {build_id(LEGIT)}"):
        rollback(cfg, to=build_id(LEGIT))
    assert live(s3_client, cfg.bucket_name) == v2
