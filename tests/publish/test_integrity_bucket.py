"""App servers that read the manifest from the bucket render the same integrity and import map."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.template import Context, Template
from pytest_django.fixtures import Settings

from assetpipe.publish.history import build_id
from assetpipe.publish.s3 import S3Config, publish
from tests.build.modules_tree import CLASSIC_SCRIPT, MODULES
from tests.conftest import StaticProject
from tests.publish.conftest import FaultProxy

pytestmark = pytest.mark.django_db(databases=[])

PAGE = Template(
    '{% load assetpipe %}{% importmap %}{% static_script "app/classic.js" %}'
    '{% modulepreload "app/mod/main.mjs" %}'
)


def app_server(settings: Settings, cfg: S3Config, digest: str | None) -> None:
    """AssetPipeStorage without STATIC_ROOT, reading the live build or build ``digest``."""
    s3 = {
        "bucket_name": cfg.bucket_name,
        "location": "static",
        "endpoint_url": cfg.endpoint_url,
        "read_manifest_from_bucket": True,
    }
    if digest is not None:
        s3["manifest_digest"] = digest
    settings.STATIC_ROOT = None
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"integrity": True, "s3": s3},
        },
    }


@pytest.mark.parametrize("pinned", [False, True])
def test_the_tags_render_the_bucket_manifests_integrity(
    project: StaticProject,
    config: Callable[..., S3Config],
    proxy: FaultProxy,
    settings: Settings,
    pinned: bool,
) -> None:
    for name, text in MODULES.items():
        project.write(name, text)
    project.write("app/classic.js", CLASSIC_SCRIPT)
    project.configure(integrity=True)
    project.collect()
    expected = PAGE.render(Context())  # as the build server renders it
    manifest = (project.root / "staticfiles.json").read_bytes()
    assert "integrity=" in expected and json.loads(manifest)["modules"]
    cfg = config()
    publish(project.root, "staticfiles.json", cfg)

    app_server(settings, cfg, build_id(manifest) if pinned else None)
    proxy.clear()
    assert PAGE.render(Context()) == expected
    assert PAGE.render(Context()) == expected
    # The manifest is read once, when the storage loads; rendering reads nothing.
    assert proxy.counts().get("GET") == 1
