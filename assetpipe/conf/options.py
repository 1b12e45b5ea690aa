"""``STORAGES["staticfiles"]["OPTIONS"]``: AssetPipeStorage's options, validated at start-up.

Options that are not assetpipe's go on to Django's storage classes, which accept only the keyword
arguments of their ``__init__``. Anything else is reported here by name, with what was expected
and a close match, rather than as a ``TypeError`` from deep inside Django or, for a wrong type, at
the first build that uses it. ``manage.py check`` reports the same problems (``assetpipe.E004``).
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ImproperlyConfigured

from assetpipe.build.bundlers.prehashed import compile_patterns
from assetpipe.build.compress import DEFAULT_SKIP_EXTENSIONS
from assetpipe.conf.edge import CorsConfig, EdgeConfig
from assetpipe.conf.images import ImageSettings
from assetpipe.conf.s3 import S3Config
from assetpipe.edge.negotiation import Negotiation
from assetpipe.naming import VARIANT_SUFFIXES
from assetpipe.serve.debug_names import MODES as DEBUG_MISSING_MODES

SETTING = 'STORAGES["staticfiles"]["OPTIONS"]'

ENCODING_NAMES: tuple[str, ...] = tuple(VARIANT_SUFFIXES)


@dataclass(frozen=True)
class StorageOptions:
    encodings: tuple[str, ...] = ("br", "gzip")
    strict: bool = False
    js_module_imports: bool = False
    # None: compress's default set; otherwise lower case, without a leading dot.
    skip_compress_extensions: frozenset[str] | None = None
    state_dir: str | None = None
    compress_workers: int | None = None
    # Integrity values and the JS module graph in staticfiles.json, for assetpipe's template tags.
    integrity: bool = False
    import_map: tuple[str, ...] = ("*.mjs",)  # glob patterns of the modules {% importmap %} maps
    # Seconds a build waits for another build of the same STATIC_ROOT before failing.
    lock_timeout: float = 600.0
    # Checked with S3Config.from_options; kept as given, read-only.
    s3: Mapping[str, Any] | None = None
    # Glob patterns of bundler output that keeps its name (docs/how-to/bundlers.md).
    prehashed: tuple[str, ...] = ()
    # Bundler records outside the collected tree (an esbuild metafile, ...), as file paths.
    bundler_records: tuple[str, ...] = ()
    # Origins that may read the static files cross-origin (S3's CORS rule, nginx's headers).
    cors: CorsConfig | None = None
    # The CDN in front of the bucket that picks the .br/.gz variants.
    edge: EdgeConfig | None = None
    # With DEBUG on, what {% static %} does with a name no finder finds
    # (assetpipe.serve.debug_names).
    debug_missing: str = "raise"
    # AVIF/WebP variants of raster images (assetpipe.build.images); None: off.
    images: ImageSettings | None = None

    def s3_config(self) -> S3Config | None:
        """The publishing settings; an edge needs the variants in the bucket, so with one
        ``upload_encodings`` defaults to True."""
        if self.s3 is None:
            return None
        s3 = dict(self.s3)
        if self.edge is not None:
            s3.setdefault("upload_encodings", True)
        return S3Config.from_options(s3)

    def negotiation(self, manifest_name: str) -> Negotiation | None:
        """With an ``edge``: the variants it may pick, as the build and publishing keep them."""
        s3 = self.s3_config()
        if self.edge is None or s3 is None:
            return None
        skip = self.skip_compress_extensions
        return Negotiation(
            prefix=s3.prefix,
            encodings=self.encodings,
            skip_extensions=DEFAULT_SKIP_EXTENSIONS if skip is None else skip,
            manifest_name=manifest_name,
            # With an edge the build gives every raster image every format's file.
            image_formats=self.images.formats if self.images is not None else (),
        )


def _django_option_names() -> frozenset[str]:
    """The keyword arguments of ManifestStaticFilesStorage's ``__init__`` and its bases'."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names: set[str] = set()
    for cls in ManifestStaticFilesStorage.__mro__[:-1]:  # not object's
        init = vars(cls).get("__init__")
        if init is not None:
            parameters = inspect.signature(init).parameters.values()
            names.update(p.name for p in parameters if p.kind in kinds and p.name != "self")
    return frozenset(names)


# location, base_url, file_permissions_mode, directory_permissions_mode, allow_overwrite,
# manifest_storage on Django 5.2 to 6.1.
DJANGO_OPTIONS = _django_option_names()


def parse_storage_options(options: Mapping[str, Any]) -> tuple[StorageOptions, dict[str, Any]]:
    """assetpipe's options, validated, and the rest for Django's storage base classes."""
    ours, rest, problems = _parse(options)
    if problems:
        raise problems[0]
    return StorageOptions(**ours), rest


def storage_option_problems(options: object) -> list[ImproperlyConfigured]:
    """Every problem with ``options``, one error each, for ``manage.py check``."""
    return _parse(options)[2]


def _parse(
    options: object,
) -> tuple[dict[str, Any], dict[str, Any], list[ImproperlyConfigured]]:
    if not isinstance(options, Mapping):
        kind = type(options).__name__
        return {}, {}, [ImproperlyConfigured(f"assetpipe: {SETTING} must be a dict, not {kind}.")]
    ours: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    problems: list[ImproperlyConfigured] = []
    for name, value in options.items():
        if name in DJANGO_OPTIONS:
            rest[name] = value
        elif name in _VALIDATORS:
            try:
                ours[name] = _VALIDATORS[name](name, value)
            except ImproperlyConfigured as problem:
                problems.append(problem)
        else:
            problems.append(_unknown_option(name))
    problems.extend(_edge_problems(ours, options))
    return ours, rest, problems


def _edge_problems(
    ours: Mapping[str, Any], options: Mapping[str, Any]
) -> list[ImproperlyConfigured]:
    """What an ``edge`` needs from the other options: a bucket holding every variant."""
    if ours.get("edge") is None:
        return []
    where = f'assetpipe: {SETTING}["edge"]'
    if ours.get("s3") is None:
        return [ImproperlyConfigured(f'{where} needs the "s3" option: the edge serves the bucket')]
    if options.get("s3", {}).get("upload_encodings") is False:
        return [
            ImproperlyConfigured(
                f'{where} needs the .br/.gz variants in the bucket: remove "upload_encodings": '
                'False from the "s3" option'
            )
        ]
    if not ours.get("encodings", ENCODING_NAMES):
        return [ImproperlyConfigured(f'{where} has nothing to pick: "encodings" is empty')]
    return []


def _unknown_option(name: object) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"assetpipe: {SETTING} has an unknown option {name!r}"
        f"{_did_you_mean(name, [*_VALIDATORS, *DJANGO_OPTIONS])}. assetpipe's options are "
        f"{', '.join(sorted(_VALIDATORS))}; Django's storage also takes "
        f"{', '.join(sorted(DJANGO_OPTIONS))}."
    )


def _did_you_mean(word: object, choices: Collection[str]) -> str:
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _invalid(name: str, value: object, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f'assetpipe: {SETTING}["{name}"] is {value!r} ({type(value).__name__}); '
        f"expected {expected}."
    )


def _encodings(name: str, value: object) -> tuple[str, ...]:
    choices = ", ".join(repr(e) for e in ENCODING_NAMES)
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _invalid(name, value, f"a list of encoding names from {choices}; [] for none")
    for encoding in value:
        if encoding not in ENCODING_NAMES:
            raise ImproperlyConfigured(
                f'assetpipe: {SETTING}["{name}"] has an unknown encoding {encoding!r}'
                f"{_did_you_mean(encoding, ENCODING_NAMES)}; expected names from {choices}."
            )
    if len(set(value)) != len(value):
        raise _invalid(name, value, "each encoding at most once")
    return tuple(value)


def _boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _invalid(name, value, "True or False")
    return value


def _extensions(name: str, value: object) -> frozenset[str] | None:
    if value is None:
        return None
    expected = 'None or a list of file extensions, e.g. ["jpg", "png"]'
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise _invalid(name, value, expected)
    if not all(isinstance(e, str) and e.lstrip(".") for e in value):
        raise _invalid(name, value, expected)
    return frozenset(e.lower().lstrip(".") for e in value)


def _directory(name: str, value: object) -> str | None:
    if value is None:
        return None
    path = os.fspath(value) if isinstance(value, str | os.PathLike) else None
    if not isinstance(path, str) or not path:
        raise _invalid(name, value, "None or a directory path (a str or pathlib.Path)")
    return path


def _workers(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(name, value, "None (one thread per core) or an integer >= 1")
    return value


def _globs(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _invalid(name, value, 'a list of glob patterns, e.g. ["*.mjs", "app/js/*.js"]')
    if not all(isinstance(p, str) and p for p in value):
        raise _invalid(name, value, "non-empty glob pattern strings")
    return tuple(value)


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _invalid(name, value, "a number of seconds >= 0")
    return float(value)


def _s3(name: str, value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _invalid(name, value, "a dict of publishing options")
    S3Config.from_options(value)  # its errors name the key inside "s3"
    return MappingProxyType(dict(value))


def _patterns(name: str, value: object) -> tuple[str, ...]:
    expected = 'a list of glob patterns relative to STATIC_URL, e.g. ["assets/*"]'
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _invalid(name, value, expected)
    for pattern in value:
        if (
            not isinstance(pattern, str)
            or not pattern
            or pattern.startswith("/")
            or ".." in pattern.split("/")
        ):
            raise _invalid(name, value, expected + " (no leading '/', no '..')")
    compile_patterns(value)
    return tuple(value)


def _debug_missing(name: str, value: object) -> str:
    if value not in DEBUG_MISSING_MODES:
        choices = ", ".join(repr(mode) for mode in DEBUG_MISSING_MODES)
        raise _invalid(name, value, f"one of {choices}")
    return str(value)


def _files(name: str, value: object) -> tuple[str, ...]:
    expected = 'a list of file paths, e.g. [BASE_DIR / "frontend" / "meta.json"]'
    if isinstance(value, (str, os.PathLike)) or not isinstance(value, list | tuple):
        raise _invalid(name, value, expected)
    if not all(isinstance(path, (str, os.PathLike)) and str(path) for path in value):
        raise _invalid(name, value, expected)
    return tuple(str(path) for path in value)


def _cors(name: str, value: object) -> CorsConfig | None:
    return None if value is None else CorsConfig.from_options(value)


def _edge(name: str, value: object) -> EdgeConfig | None:
    return None if value is None else EdgeConfig.from_options(value)


def _images(name: str, value: object) -> ImageSettings | None:
    return ImageSettings.from_options(value)  # its errors name the key inside "images"


_VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "encodings": _encodings,
    "strict": _boolean,
    "js_module_imports": _boolean,
    "skip_compress_extensions": _extensions,
    "state_dir": _directory,
    "compress_workers": _workers,
    "integrity": _boolean,
    "import_map": _globs,
    "lock_timeout": _seconds,
    "s3": _s3,
    "prehashed": _patterns,
    "bundler_records": _files,
    "cors": _cors,
    "edge": _edge,
    "debug_missing": _debug_missing,
    "images": _images,
}


def configured_options(entry: object) -> dict[str, Any]:
    """A ``STORAGES`` entry's ``OPTIONS`` as a dict; empty when unset or not a dict."""
    options = entry.get("OPTIONS", {}) if isinstance(entry, Mapping) else {}
    return dict(options) if isinstance(options, Mapping) else {}
