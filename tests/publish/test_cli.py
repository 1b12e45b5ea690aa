"""manage.py assetpipe sync|prune|status, configured from settings."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from assetpipe.publish.history import build_id
from assetpipe.publish.s3 import S3Config
from tests.publish.conftest import TREE, FaultProxy, bucket_keys, build_static

MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def configured(static_root: Path, config: Callable[..., S3Config], settings: Settings) -> S3Config:
    cfg = config()
    settings.STATIC_ROOT = str(static_root)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": MANIFEST_STORAGE,
            "OPTIONS": {
                "s3": {
                    "bucket_name": cfg.bucket_name,
                    "location": "static",
                    "endpoint_url": cfg.endpoint_url,
                    "workers": 2,
                }
            },
        },
    }
    return cfg


def run(*args: str) -> str:
    output = io.StringIO()
    call_command("assetpipe", *args, stdout=output)
    return output.getvalue()


def test_sync_publishes_and_prints_a_summary(
    configured: S3Config, s3_client: Any, proxy: FaultProxy, static_root: Path
) -> None:
    build = build_id((static_root / "staticfiles.json").read_bytes())
    output = run("sync")
    assert output.startswith(
        f"published build {build} to s3://{configured.bucket_name}/static: 10 uploaded "
        "(0 present), "
    )
    assert "static/staticfiles.json" in bucket_keys(s3_client, configured.bucket_name)
    proxy.clear()
    assert run("sync").startswith(
        f"published build {build} to s3://{configured.bucket_name}/static: 0 uploaded "
        "(10 present), 0 B, manifest unchanged; 1 request"
    )
    assert proxy.counts() == {"LIST": 1}


def test_sync_dry_run_prints_the_plan(
    configured: S3Config, s3_client: Any, proxy: FaultProxy, static_root: Path
) -> None:
    build = build_id((static_root / "staticfiles.json").read_bytes())
    output = run("sync", "--dry-run")
    lines = output.splitlines()
    assert "upload static/css/app.css (new, 45 B)" in lines
    assert lines[-1].startswith(
        f"dry run of build {build} for s3://{configured.bucket_name}/static: 10 to upload"
    )
    assert set(proxy.counts()) == {"LIST"}
    assert bucket_keys(s3_client, configured.bucket_name) == set()


def test_sync_draws_a_progress_bar_on_a_terminal(configured: S3Config) -> None:
    terminal = Terminal()
    call_command("assetpipe", "sync", stdout=terminal)
    bar, summary = terminal.getvalue().rsplit("\n", 2)[:2]
    assert bar.startswith("\r[")
    assert bar.endswith("\r[##############################] 10/10 files, 853 B/853 B")
    assert summary.startswith("published build ")


def test_quiet_sync_prints_nothing(configured: S3Config) -> None:
    quiet = io.StringIO()
    call_command("assetpipe", "sync", verbosity=0, stdout=quiet)
    assert quiet.getvalue() == ""


def test_status_is_a_deploy_gate(configured: S3Config, static_root: Path, s3_client: Any) -> None:
    with pytest.raises(SystemExit) as exit_status:
        run("status")
    assert exit_status.value.code == 1

    run("sync")
    output = run("status")
    lines = output.splitlines()
    assert lines[0] == f"local:  10 files, 853 B in {static_root}"
    assert lines[1] == f"bucket: 10 files, 853 B in s3://{configured.bucket_name}/static"
    assert lines[2].startswith("remote manifest: build ")
    assert lines[2].endswith(" s ago, same as local")
    assert lines[-1] == "in sync"

    build_static(static_root, {**TREE, "js/app.js": b"console.log(2);\n"})
    changed = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("assetpipe", "status", stdout=changed)
    lines = changed.getvalue().splitlines()
    assert lines[2].endswith("out of date")
    assert lines[3] == "to upload: 2 files, 32 B"
    assert lines[-1] == "out of sync: run `manage.py assetpipe sync`"


def test_prune_options(configured: S3Config, static_root: Path, s3_client: Any) -> None:
    run("sync")
    build_static(static_root, {**TREE, "js/app.js": b"console.log(2);\n"})
    run("sync")
    before = bucket_keys(s3_client, configured.bucket_name)

    assert "would delete 0" in run("prune", "--keep", "1", "--dry-run")  # all younger than 1 h
    output = run("prune", "--keep", "1", "--min-age", "0", "--dry-run")
    assert output.startswith("delete static/js/app.")
    assert bucket_keys(s3_client, configured.bucket_name) == before

    output = run("prune", "--keep", "1", "--min-age", "0")
    assert "deleted 1 unreferenced objects" in output
    assert len(bucket_keys(s3_client, configured.bucket_name)) == len(before) - 1


def test_prune_refuses_an_empty_location(configured: S3Config, settings: Settings) -> None:
    settings.STORAGES["staticfiles"]["OPTIONS"]["s3"]["location"] = ""
    with pytest.raises(CommandError, match="'location' is empty"):
        run("prune")


def test_commands_need_the_s3_setting(settings: Settings) -> None:
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    for command in ("sync", "prune", "status"):
        with pytest.raises(CommandError, match=r"\"s3\"\] is not set"):
            run(command)


def test_invalid_setting_is_named(configured: S3Config, settings: Settings) -> None:
    settings.STORAGES["staticfiles"]["OPTIONS"]["s3"]["wokers"] = 4
    with pytest.raises(CommandError, match=r'\["wokers"\] is not an option \(did you mean'):
        run("sync")


def test_sync_without_a_build(configured: S3Config, tmp_path: Path, settings: Settings) -> None:
    settings.STATIC_ROOT = str(tmp_path / "empty")
    with pytest.raises(CommandError, match="run collectstatic before publishing"):
        run("sync")


def test_djangos_options_after_the_subcommand(configured: S3Config) -> None:
    assert run("sync", "--dry-run", "-v", "0") == ""
    assert run("-v", "0", "sync", "--traceback") == ""  # a value given before is kept
    assert run("sync", "-v", "1", "--no-color").startswith("published build ")
