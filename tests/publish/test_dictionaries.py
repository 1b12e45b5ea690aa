"""Deltas (the dictionaries option) in the bucket: uploaded with ``Content-Encoding: dcz`` and
their file's type, before the manifest that lists them; made on a fresh runner from the builds
the bucket keeps; pruned with their files."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import call_command
from pytest_django.fixtures import Settings

from assetpipe.build.dictionaries import dcz_decode
from assetpipe.naming import delta_name, dictionary_id
from assetpipe.publish.prune import prune
from assetpipe.publish.s3 import S3Config
from tests.build.test_dictionaries import script
from tests.publish.conftest import FaultProxy, bucket_keys
from tests.publish.test_collectstatic import STORAGE, s3_options


def collect(
    tmp_path: Path, settings: Settings, cfg: S3Config, version: int, **options: Any
) -> dict[str, Any]:
    source = tmp_path / "source"
    (source / "js").mkdir(parents=True, exist_ok=True)
    (source / "js/app.js").write_text(script(version))
    settings.STATICFILES_DIRS = [str(source)]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": STORAGE,
            "OPTIONS": {
                "s3": s3_options(cfg, variants="static_root_and_bucket"),
                "dictionaries": {},
                **options,
            },
        },
    }
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    built: dict[str, Any] = json.loads((tmp_path / "static/staticfiles.json").read_bytes())
    return built


def get(s3_client: Any, cfg: S3Config, name: str) -> dict[str, Any]:
    response: dict[str, Any] = s3_client.get_object(Bucket=cfg.bucket_name, Key=cfg.key(name))
    return response


def test_deltas_are_published_with_their_encoding_before_the_manifest(
    tmp_path: Path,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
    s3_client: Any,
) -> None:
    cfg = config()
    first = collect(tmp_path, settings, cfg, 1)["paths"]["js/app.js"]
    old = (tmp_path / "static" / first).read_bytes()
    proxy.clear()
    built = collect(tmp_path, settings, cfg, 2)
    hashed = built["paths"]["js/app.js"]
    sha256 = hashlib.sha256(old).digest()
    assert built["dictionaries"][hashed]["deltas"] == [base64.b64encode(sha256).decode()]
    delta = delta_name(hashed, dictionary_id(sha256))
    response = get(s3_client, cfg, delta)
    assert response["ContentEncoding"] == "dcz"
    assert response["ContentType"] == "text/javascript; charset=utf-8"
    assert response["CacheControl"] == "public, max-age=31536000, immutable"
    new = (tmp_path / "static" / hashed).read_bytes()
    assert dcz_decode(response["Body"].read(), old, len(new)) == new
    puts = proxy.puts()
    assert puts.index(cfg.key(delta)) < puts.index(cfg.key("staticfiles.json")) == len(puts) - 1


def test_a_fresh_runner_makes_its_deltas_from_the_builds_in_the_bucket(
    tmp_path: Path,
    config: Callable[..., S3Config],
    settings: Settings,
    s3_client: Any,
) -> None:
    cfg = config()
    first = collect(tmp_path / "a", settings, cfg, 1)["paths"]["js/app.js"]
    old = (tmp_path / "a/static" / first).read_bytes()
    # Another machine: no STATIC_ROOT, no state, only the bucket.
    built = collect(tmp_path / "b", settings, cfg, 2)
    hashed = built["paths"]["js/app.js"]
    sha256 = hashlib.sha256(old).digest()
    assert built["dictionaries"][hashed]["deltas"] == [base64.b64encode(sha256).decode()]
    assert cfg.key(delta_name(hashed, dictionary_id(sha256))) in bucket_keys(
        s3_client, cfg.bucket_name
    )


def test_deltas_go_with_their_files_when_pruned(
    tmp_path: Path,
    config: Callable[..., S3Config],
    settings: Settings,
    s3_client: Any,
) -> None:
    cfg = config()
    for version in (1, 2):
        collect(tmp_path, settings, cfg, version)
    deltas = {k for k in bucket_keys(s3_client, cfg.bucket_name) if k.endswith(".dcz")}
    assert len(deltas) == 1
    shutil.rmtree(tmp_path / "static")
    for version in (3, 4, 5):
        collect(tmp_path, settings, cfg, version)
    prune(cfg, keep=1, min_age=0)
    left = {k for k in bucket_keys(s3_client, cfg.bucket_name) if k.endswith(".dcz")}
    assert deltas.isdisjoint(left)
    live = json.loads(get(s3_client, cfg, "staticfiles.json")["Body"].read())
    assert left == {
        cfg.key(delta_name(name, dictionary_id(base64.b64decode(h))))
        for name, entry in live["dictionaries"].items()
        for h in entry["deltas"]
    }
