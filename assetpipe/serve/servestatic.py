"""ServeStatic with assetpipe's builds: its ASGI middleware with assetpipe's immutable-file test.

ServeStatic's Django middleware decides which files are immutable with a test of its own that
only knows Django's ``name.<12 hex>.ext`` and ignores ``SERVESTATIC_IMMUTABLE_FILE_TEST``, so a
bundler's names (``assets/main-BV5bdbg-.js``) would get a 60-second ``max-age``. Use this
subclass in ``MIDDLEWARE`` instead, and give it assetpipe's media types::

    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "assetpipe.serve.servestatic.ServeStaticMiddleware",
        ...
    ]
    SERVESTATIC_MIMETYPES = servestatic_mimetypes()  # from assetpipe.serve

Every hashed and prehashed name the build recorded in its manifest is then served with
``max-age=315360000, public, immutable``, read from the manifest as for WhiteNoise
(:func:`assetpipe.serve.whitenoise.immutable_file_test`), under a script name as well
(``FORCE_SCRIPT_NAME``, STATIC_URL ``"/prefix/static/"``): the name is what follows the
middleware's own static prefix. A ``SERVESTATIC_IMMUTABLE_FILE_TEST`` of your own takes
precedence. With the ``dictionaries`` option it also serves the build's deltas (RFC 9842,
``dcz``) and declares dictionaries (:mod:`assetpipe.serve.dictionaries`). Everything else is
ServeStatic's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase

from assetpipe.extras import require
from assetpipe.serve import dictionaries, servestatic_mimetypes
from assetpipe.serve.whitenoise import content_named

require("servestatic")

from servestatic.middleware import (  # noqa: E402
    ServeStaticMiddleware as _ServeStaticMiddleware,
)

__all__ = ["ServeStaticMiddleware", "servestatic_mimetypes"]


class ServeStaticMiddleware(_ServeStaticMiddleware):  # type: ignore[misc]
    user_immutable_file_test: Any
    static_prefix: str
    deltas: dictionaries.Deltas

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deltas = dictionaries.Deltas(self)

    async def aserve(self, static_file: Any, request: HttpRequest) -> HttpResponseBase:
        choice, delta = self.deltas.choose(request)
        response: HttpResponseBase = await super().aserve(delta or static_file, request)
        if choice is not None:
            dictionaries.finish(response, static_file, choice, delta is not None)
        return response

    def immutable_file_test(self, path: str, url: str) -> bool:
        if self.user_immutable_file_test is not None:
            if callable(self.user_immutable_file_test):
                return bool(self.user_immutable_file_test(path, url))
            return bool(self.user_immutable_file_test.search(url))
        # The prefix this middleware serves STATIC_ROOT under: STATIC_URL's path without the
        # script name (FORCE_SCRIPT_NAME), or SERVESTATIC_STATIC_PREFIX.
        prefix = self.static_prefix
        return url.startswith(prefix) and content_named(url[len(prefix) :])
