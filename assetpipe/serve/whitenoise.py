"""WhiteNoise with assetpipe's builds: the immutable-file test, and a middleware that builds its
file table once per process (``WhiteNoiseMiddleware``, in ``whitenoise_middleware``).

WhiteNoise's own test only knows Django's ``name.<12 hex>.ext``; a bundler's names
(``assets/main-BV5bdbg-.js``) would get a 60-second ``max-age``. Point WhiteNoise here::

    from assetpipe.serve.whitenoise import immutable_file_test

    WHITENOISE_IMMUTABLE_FILE_TEST = immutable_file_test

(WhiteNoise reads a string as a regular expression, hence the function itself), and every
hashed and prehashed name the build recorded in its manifest is served with
``max-age=315360000, public, immutable``. Whether a name is content-named is read from the
manifest, never guessed from its spelling: an unhashed ``lib.deadbeefcafe.css`` keeps a short
``max-age``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage

from assetpipe.manifest import immutable_names
from assetpipe.naming import split_image_variant

if TYPE_CHECKING:
    from assetpipe.serve.whitenoise_middleware import WhiteNoiseMiddleware

__all__ = ["WhiteNoiseMiddleware", "immutable_file_test"]


def __getattr__(name: str) -> Any:
    # The middleware imports WhiteNoise; the immutable test does not, so a settings module that
    # imports it also loads where WhiteNoise is not installed (a build-only image).
    if name == "WhiteNoiseMiddleware":
        from assetpipe.serve.whitenoise_middleware import WhiteNoiseMiddleware

        return WhiteNoiseMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def immutable_file_test(path: str, url: str) -> bool:
    """Whether WhiteNoise may tell browsers to cache ``url`` (file ``path``) for ever."""
    static_prefix = _static_prefix()
    if not url.startswith(static_prefix):
        return False
    name = url[len(static_prefix) :]
    # An image variant (hero.<hash>.jpg.avif, asked for by <picture>) is its own URL, unlike
    # the .br/.gz ones WhiteNoise picks for the original's: immutable with its original.
    original, image_format = split_image_variant(name)
    immutable = _immutable()
    return name in immutable or (image_format is not None and original in immutable)


def _static_prefix() -> str:
    # As WhiteNoise derives it: the path of STATIC_URL, with slashes on both sides.
    from urllib.parse import urlsplit

    prefix = urlsplit(settings.STATIC_URL or "").path
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


def _immutable() -> frozenset[str]:
    manifest_name = getattr(staticfiles_storage, "manifest_name", "staticfiles.json")
    try:
        path = staticfiles_storage.path(manifest_name)
        stat = os.stat(path)
    except (NotImplementedError, OSError):
        return frozenset()
    # WhiteNoise asks once per file at start-up (and per request with autorefresh): read the
    # manifest again only when another build replaced it.
    return _read(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> frozenset[str]:
    try:
        with open(path, "rb") as manifest:
            return immutable_names(manifest.read())
    except OSError:
        return frozenset()
