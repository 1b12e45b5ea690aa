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
    "assetpipe.images": "assetpipe.build.images",
    "assetpipe.bundlers": "assetpipe.build.bundlers",
    "assetpipe.records": "assetpipe.build.bundlers.records",
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


sys.meta_path.append(_MovedModules())
