"""Static publishing (``sync``, ``prune``) in a bucket shared with tenant media.

Media lives under ``media/<tenant>/``, static files under ``static/``. The media objects
include names that look exactly like what static publishing owns (hashed names, a
``staticfiles.json``), so only the prefix keeps them apart.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command

from tests.media.conftest import MakeStorage

MEDIA = {
    "acme": {
        "js/app.0123456789ab.js": b"a tenant upload with a hashed-looking name",
        "staticfiles.json": b'{"paths": {}, "version": "1.1"}',
        "avatars/ada.png": b"\x89PNG ada",
    },
    "globex": {"css/site.css": b"globex's own stylesheet", "contract.pdf": b"%PDF"},
}


def build_static(root: Path, version: int) -> str:
    """Build a small tree the way ManifestStaticFilesStorage does; return app.js's key."""
    source = root.parent / "source"
    files = {
        "css/site.css": b"body { background: url('../img/bg.png'); }\n",
        "img/bg.png": b"\x89PNG background",
        "js/app.js": f"console.log({version});\n".encode(),
    }
    for name, content in files.items():
        for base in (source, root):
            (base / name).parent.mkdir(parents=True, exist_ok=True)
            (base / name).write_bytes(content)
    storage = ManifestStaticFilesStorage(location=str(root), base_url="/static/")
    found = {name: (FileSystemStorage(location=str(source)), name) for name in files}
    for _, _, processed in storage.post_process(found):
        if isinstance(processed, Exception):
            raise processed
    paths = json.loads((root / "staticfiles.json").read_bytes())["paths"]
    return f"static/{paths['js/app.js']}"


def snapshot(s3_client: Any, bucket: str, prefix: str) -> dict[str, tuple[str, Any, bytes]]:
    """ETag, LastModified and content of every object under ``prefix``."""
    listing = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", ())
    return {
        entry["Key"]: (
            entry["ETag"],
            entry["LastModified"],
            s3_client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read(),
        )
        for entry in listing
    }


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("assetpipe", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def shared_bucket(
    settings: Any,
    tmp_path: Path,
    s3_endpoint: str,
    media_settings: dict[str, Any],
    make_storage: MakeStorage,
) -> str:
    bucket: str = media_settings["bucket_name"]
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {
                "s3": {"bucket_name": bucket, "location": "static", "endpoint_url": s3_endpoint}
            },
        },
    }
    for tenant, files in MEDIA.items():
        storage = make_storage(tenant=tenant)
        for name, content in files.items():
            assert storage.save(name, ContentFile(content)) == name
    return bucket


def test_sync_and_prune_leave_every_media_object_untouched(
    shared_bucket: str, settings: Any, s3_client: Any
) -> None:
    # The layout the test relies on is one the checks accept (see tests/test_checks.py).
    call_command("check", "--tag", "files", "--tag", "staticfiles")
    media_before = snapshot(s3_client, shared_bucket, "media/")
    assert len(media_before) == sum(map(len, MEDIA.values()))

    app_keys = []
    for version in range(3):
        app_keys.append(build_static(Path(settings.STATIC_ROOT), version))
        run("sync")
    static_before = snapshot(s3_client, shared_bucket, "static/")
    assert set(app_keys) <= set(static_before)
    run("prune", "--keep", "1", "--min-age", "0")

    # prune did delete static files, so it ran over the bucket with something to delete...
    static_after = snapshot(s3_client, shared_bucket, "static/")
    assert app_keys[0] not in static_after and app_keys[1] not in static_after
    assert app_keys[2] in static_after
    # ...and left the media exactly as it was: same keys, same content, never rewritten.
    assert snapshot(s3_client, shared_bucket, "media/") == media_before
    everything = s3_client.list_objects_v2(Bucket=shared_bucket)["Contents"]
    assert {entry["Key"] for entry in everything} == set(media_before) | set(static_after)
