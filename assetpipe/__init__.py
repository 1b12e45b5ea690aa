"""Incremental, content-hashed, precompressed Django static files, published to S3."""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__version__ = "0.1.0"

# Modules that moved in 0.2, by their old dotted path: importing one fails with the new path
# (a setting such as MIDDLEWARE = ["assetpipe.preload.PreloadMiddleware"] names it at start-up).
MOVED = {
    "assetpipe.preload": "assetpipe.serve.preload",
    "assetpipe.early_hints": "assetpipe.serve.early_hints",
    "assetpipe.debug_names": "assetpipe.serve.debug_names",
    "assetpipe.options": "assetpipe.conf.options",
    "assetpipe.publish.config": "assetpipe.conf.s3",
    "assetpipe.edge.config": "assetpipe.conf.edge",
    # Importing assetpipe.images.settings imports (and fails at) assetpipe.images first.
    "assetpipe.images": "assetpipe.build.images (its settings to assetpipe.conf.images, "
    "its manifest to assetpipe.build.images.picture_entries)",
    "assetpipe.bundlers": "assetpipe.build.bundlers.prehashed",
    "assetpipe.records": "assetpipe.build.bundlers.records",
    "assetpipe.content_names": "assetpipe.build.bundlers.content_names",
    "assetpipe.allocator": "assetpipe.build.allocator",
    "assetpipe.blobs": "assetpipe.build.cache_blobs",
    "assetpipe.compress": "assetpipe.build.compress",
    "assetpipe.hashing": "assetpipe.build.hashing",
    "assetpipe.integrity": "assetpipe.build.integrity",
    "assetpipe.large_text": "assetpipe.build.large_text",
    "assetpipe.lock": "assetpipe.build.lock",
    "assetpipe.modules": "assetpipe.build.modules",
    "assetpipe.files": "assetpipe.build.outputs",
    "assetpipe.report": "assetpipe.build.report",
    "assetpipe.sources": "assetpipe.build.sources",
    "assetpipe.state": "assetpipe.build.state",
    "assetpipe.manifest": "assetpipe.build.staticfiles_json",
    "assetpipe.subcommand": "assetpipe.management.subcommand",
    "assetpipe.s3_listing": "assetpipe.publish.listing",
    "assetpipe.publish.manifest_storage": "assetpipe.publish.bucket_manifest_storage",
    "assetpipe.publish.record": "assetpipe.publish.last_publish",
    "assetpipe.publish.headers": "assetpipe.publish.object_args",
    "assetpipe.edge.bucket": "assetpipe.publish.cors_rule",
    "assetpipe.edge.access": "assetpipe.publish.policies",
}


class _MovedModules(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        for old, new in MOVED.items():
            if fullname == old or fullname.startswith(old + "."):
                raise ModuleNotFoundError(
                    f"No module named {fullname!r}: assetpipe 0.2 moved {old} to {new}",
                    name=fullname,
                )
        return None


# First, so that a stale folder of an older install cannot stand in as a namespace package.
sys.meta_path.insert(0, _MovedModules())
