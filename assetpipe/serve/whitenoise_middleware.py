"""WhiteNoise's middleware with one file table per process instead of one per instance.

WhiteNoise walks STATIC_ROOT and prepares the headers of every file each time its middleware is
created. A server creates it once; Django's test client creates it for every client (so for every
test), and so does every live server. This subclass keeps the table it built and gives it to every
later instance of the same process whose table would be the same: same directory, same build
(``staticfiles.json`` and the directory itself unchanged), same settings. Use it in ``MIDDLEWARE``
in place of WhiteNoise's::

    "assetpipe.serve.whitenoise.WhiteNoiseMiddleware",

With the ``dictionaries`` option it also serves the build's deltas (RFC 9842, ``dcz``) to a
browser that names a dictionary the build made one against, and declares dictionaries
(:mod:`assetpipe.serve.dictionaries`).

Everything else is WhiteNoise's. With ``WHITENOISE_AUTOREFRESH`` (DEBUG's default) WhiteNoise reads
nothing up front, and neither does this.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from assetpipe.extras import require
from assetpipe.naming import MANIFEST_NAME
from assetpipe.serve import dictionaries

require("whitenoise")

from whitenoise.middleware import WhiteNoiseMiddleware as _WhiteNoiseMiddleware  # noqa: E402

# The settings a table depends on, beside its directory: WhiteNoise's own and what its immutable
# test asks (the staticfiles storage's manifest, by way of STORAGES).
SETTINGS: tuple[str, ...] = (
    "DEBUG",
    "STATIC_URL",
    "FORCE_SCRIPT_NAME",
    "STORAGES",
    "WHITENOISE_MAX_AGE",
    "WHITENOISE_ALLOW_ALL_ORIGINS",
    "WHITENOISE_CHARSET",
    "WHITENOISE_MIMETYPES",
    "WHITENOISE_ADD_HEADERS_FUNCTION",
    "WHITENOISE_INDEX_FILE",
    "WHITENOISE_IMMUTABLE_FILE_TEST",
    "WHITENOISE_STATIC_PREFIX",
)
MAX_TABLES = 8  # a suite that switches between a few STATIC_ROOTs keeps each one's table

_tables: OrderedDict[Hashable, dict[str, Any]] = OrderedDict()
_lock = threading.Lock()
scans = 0  # tables built in this process, for tests and benchmarks


class WhiteNoiseMiddleware(_WhiteNoiseMiddleware):  # type: ignore[misc]
    files: dict[str, Any]  # URL -> WhiteNoise's StaticFile (or Redirect)
    autorefresh: bool
    static_prefix: str
    deltas: dictionaries.Deltas

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deltas = dictionaries.Deltas(self)

    def serve(self, static_file: Any, request: HttpRequest) -> HttpResponseBase:
        choice, delta = self.deltas.choose(request)
        response: HttpResponseBase = super().serve(delta or static_file, request)
        if choice is not None:
            dictionaries.finish(response, static_file, choice, delta is not None)
        return response

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if self.autorefresh:
            super().add_files(root, prefix)
            return
        key = table_key(type(self), root, prefix)
        with _lock:
            table = _tables.get(key)
            if table is not None:
                _tables.move_to_end(key)
        if table is None:
            table = self._scan(root, prefix)
            with _lock:
                _tables[key] = table
                while len(_tables) > MAX_TABLES:
                    _tables.popitem(last=False)
        self.files.update(table)

    def _scan(self, root: str, prefix: str | None) -> dict[str, Any]:
        """WhiteNoise's own walk of ``root``, into a table of its own."""
        global scans
        own: dict[str, Any] = self.files
        self.files = {}
        try:
            super().add_files(root, prefix)
            scans += 1
            return dict(self.files)
        finally:
            self.files = own


def table_key(cls: type, root: str, prefix: str | None) -> Hashable:
    """What the table of ``root`` depends on: the class, the directory and its build, settings."""
    root = os.path.abspath(root)
    return (
        cls,
        root,
        prefix,
        _stamp(root),
        _stamp(os.path.join(root, MANIFEST_NAME)),
        tuple(_frozen(getattr(settings, name, None)) for name in SETTINGS),
    )


def clear() -> None:
    """Forget every table: the next instance walks its directory again."""
    with _lock:
        _tables.clear()


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _frozen(value: object) -> Hashable:
    """``value`` as something hashable that compares equal when the value does."""
    if isinstance(value, Mapping):
        return tuple(sorted((repr(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        items = [_frozen(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, set | frozenset) else items)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
