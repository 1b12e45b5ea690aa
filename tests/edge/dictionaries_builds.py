"""Three builds of a small tree, each published through ``collectstatic`` with the
``dictionaries`` option (one previous build) and the ``cdn`` option, for the edges' tests.

Each build changes a few places in ``js/app.js`` (a module that counts its runs) and
``css/site.css``, as a patch release does; ``js/lib.js`` beside ``js/lib.min.js`` is a name the
build leaves out of the dictionaries (``lib.*.js`` would match the other file too), while
``lib.min.js`` is one. Build 3's
files have deltas against build 2's versions only: a browser holding build 1's is stale.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from django.core.management import call_command
from django.test import override_settings

from assetpipe.conf.options import parse_storage_options
from assetpipe.edge.negotiation import Negotiation
from tests.build.test_dictionaries import script
from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import public_read_policy

PREFIX = "static/"
PREVIOUS_BUILDS = 1
BUILDS = 3
# lib.min.js is a dictionary ("lib.min.*.js" matches it alone); lib.js is not.
DICTIONARY_FILES = ("js/app.js", "css/site.css", "js/lib.min.js")
EXCLUDED = ("js/lib.js",)
# The files the test page loads.
PAGE_FILES = ("js/app.js", "css/site.css")


def app_js(version: int) -> str:
    return script(version) + (
        "\nwindow.appRuns = (window.appRuns || 0) + 1;\n"
        "document.documentElement.dataset.version = VERSION;\n"
    )


def site_css(version: int) -> str:
    """Rules whose names brotli alone cannot make small; a few colours change per version."""
    words = random.Random(9842)
    rules = "\n".join(
        f".{''.join(words.choices(string.ascii_lowercase, k=10))} {{ margin: {i}px; "
        f"color: #{(i * (version if i % 13 == 0 else 1)) % 4096:03x}; }}"
        for i in range(200)
    )
    return f"html {{ --build: {version}; }}\nbody {{ outline-width: {version}px; }}\n{rules}\n"


@dataclass
class Build:
    version: int
    manifest: bytes  # its staticfiles.json as published
    paths: dict[str, str]
    files: dict[str, bytes]  # hashed name -> bytes, of the files above

    @property
    def dictionaries(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.manifest).get("dictionaries", {})
        return found

    def hashed(self, logical: str) -> str:
        return self.paths[logical]

    def available(self, logical: str) -> str:
        """The ``Available-Dictionary`` of a browser holding this build's ``logical``."""
        digest = hashlib.sha256(self.files[self.hashed(logical)]).digest()
        return f":{base64.b64encode(digest).decode()}:"


@dataclass
class Published:
    bucket: str
    origin: str  # ORIGIN for a Worker: the bucket's URL through the S3 front
    endpoint: str
    root: Path
    options: dict[str, Any]
    negotiation: Negotiation
    builds: list[Build] = field(default_factory=list)

    @property
    def live(self) -> Build:
        return self.builds[-1]

    def bucket_keys(self) -> set[str]:
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
        try:
            found: set[str] = set()
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                found.update(item["Key"] for item in page.get("Contents", ()))
            return found
        finally:
            s3.close()

    def get(self, key: str) -> dict[str, Any]:
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")
        try:
            response: dict[str, Any] = s3.get_object(Bucket=self.bucket, Key=key)
            response["Body"] = response["Body"].read()
            return response
        finally:
            s3.close()


def storage_options(front: S3CorsFront, bucket: str, cdn: str) -> dict[str, Any]:
    return {
        "s3": {
            "bucket_name": bucket,
            "location": PREFIX.rstrip("/"),
            "endpoint_url": front.url,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
        },
        "cdn": cdn,
        "dictionaries": {"previous_builds": PREVIOUS_BUILDS},
    }


def settings_for(root: Path, source: Path, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "STATIC_URL": "/static/",
        "STATIC_ROOT": str(root),
        "STATICFILES_DIRS": [str(source)],
        "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options},
        },
    }


def publish_builds(front: S3CorsFront, bucket: str, directory: Path, cdn: str) -> Published:
    """:data:`BUILDS` builds published one after the other from one STATIC_ROOT."""
    s3 = boto3.client("s3", endpoint_url=front.url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    s3.close()
    options = storage_options(front, bucket, cdn)
    negotiation = Negotiation.for_options(parse_storage_options(options)[0], "staticfiles.json")
    assert negotiation is not None
    root = directory / "static"
    published = Published(bucket, f"{front.url}/{bucket}", front.url, root, options, negotiation)
    source = directory / "source"
    (source / "js").mkdir(parents=True)
    (source / "css").mkdir()
    for version in range(1, BUILDS + 1):
        (source / "js/app.js").write_text(app_js(version))
        (source / "css/site.css").write_text(site_css(version))
        (source / "js/lib.js").write_text(app_js(version).replace("appRuns", "libRuns"))
        (source / "js/lib.min.js").write_text(app_js(version).replace("appRuns", "minRuns"))
        with override_settings(**settings_for(root, source, options)):
            call_command("collectstatic", interactive=False, verbosity=0)
        manifest = (root / "staticfiles.json").read_bytes()
        paths: dict[str, str] = json.loads(manifest)["paths"]
        files = {
            paths[name]: (root / paths[name]).read_bytes()
            for name in (*DICTIONARY_FILES, *EXCLUDED)
        }
        published.builds.append(Build(version, manifest, paths, files))
    return published
