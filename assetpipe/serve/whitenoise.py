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
``max-age``. Under a script name (``FORCE_SCRIPT_NAME = "/prefix"``, STATIC_URL
``"/prefix/static/"``) the test takes the URLs as the middleware presents them, without the
prefix.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured

from assetpipe.naming import MANIFEST_NAME, immutable_names, split_delta, split_image_variant

if TYPE_CHECKING:
    from assetpipe.serve.whitenoise_middleware import WhiteNoiseMiddleware

__all__ = ["WhiteNoiseMiddleware", "content_named", "immutable_file_test", "static_prefixes"]


def __getattr__(name: str) -> Any:
    # The middleware imports WhiteNoise; the immutable test does not, so a settings module that
    # imports it also loads where WhiteNoise is not installed (a build-only image).
    if name == "WhiteNoiseMiddleware":
        from assetpipe.serve.whitenoise_middleware import WhiteNoiseMiddleware

        return WhiteNoiseMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def immutable_file_test(path: str, url: str) -> bool:
    """Whether WhiteNoise may tell browsers to cache ``url`` (file ``path``) for ever.

    ``url`` is the path WhiteNoise matches requests against, which under a script name
    (``FORCE_SCRIPT_NAME``) lacks it: STATIC_URL ``/prefix/static/`` serves ``/static/...``.
    Either spelling is understood, and ``WHITENOISE_STATIC_PREFIX`` too.
    """
    return any(
        url.startswith(prefix) and content_named(url[len(prefix) :]) for prefix in static_prefixes()
    )


def content_named(name: str) -> bool:
    """Whether the build's manifest records ``name`` (relative to STATIC_ROOT) as content-named:
    a hashed or prehashed name, or an image variant of one."""
    immutable = _immutable()
    if name in immutable:
        return True
    # An image variant (hero.<hash>.jpg.avif, asked for by <picture>) or a delta (the
    # middleware sends it for the original's URL) is a file of its own, unlike the .br/.gz
    # ones WhiteNoise picks for the original's: immutable with its original.
    image, image_format = split_image_variant(name)
    delta, dictionary = split_delta(name)
    return (image_format is not None and image in immutable) or (
        dictionary is not None and delta in immutable
    )


def static_prefixes() -> tuple[str, ...]:
    """The URL paths a server may present STATIC_ROOT's files under, slashes on both sides:
    STATIC_URL's path; that path without ``FORCE_SCRIPT_NAME``, as WhiteNoise's and
    ServeStatic's middlewares strip it (Django routes requests on the path below the script
    name); and ``WHITENOISE_STATIC_PREFIX`` or ``SERVESTATIC_STATIC_PREFIX`` where set."""
    return _static_prefixes(
        _text(settings.STATIC_URL),
        _text(getattr(settings, "FORCE_SCRIPT_NAME", None)),
        _text(getattr(settings, "WHITENOISE_STATIC_PREFIX", None)),
        _text(getattr(settings, "SERVESTATIC_STATIC_PREFIX", None)),
    )


@lru_cache(maxsize=8)
def _static_prefixes(
    static_url: str | None, script_name: str | None, *configured: str | None
) -> tuple[str, ...]:
    # Called once per file at start-up: worked out once per combination of settings.
    path = urlsplit(static_url or "").path
    prefixes = [path]
    script = (script_name or "").rstrip("/")
    if script and path.startswith(script):  # as both middlewares strip it
        prefixes.append(path[len(script) :])
    prefixes += [prefix for prefix in configured if prefix is not None]
    return tuple(dict.fromkeys(_slashed(prefix) for prefix in prefixes))


def _slashed(path: str) -> str:
    # As WhiteNoise's ensure_leading_trailing_slash: "/" alone, or slashes on both sides.
    path = path.strip("/")
    return f"/{path}/" if path else "/"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _immutable() -> frozenset[str]:
    try:
        manifest_name = getattr(staticfiles_storage, "manifest_name", MANIFEST_NAME)
        path = staticfiles_storage.path(manifest_name)
        stat = os.stat(path)
    except (ImproperlyConfigured, NotImplementedError, OSError):
        # No STATIC_ROOT (development with finders), a remote storage, or not built yet.
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
