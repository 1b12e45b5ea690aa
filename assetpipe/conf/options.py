"""``STORAGES["staticfiles"]["OPTIONS"]``: AssetPipeStorage's options, validated at start-up.

Options that are not assetpipe's go on to Django's storage classes, which accept only the keyword
arguments of their ``__init__``. Anything else is reported here by name, with what was expected
and a close match, rather than as a ``TypeError`` from deep inside Django or, for a wrong type, at
the first build that uses it; an option renamed or removed names its replacement. ``manage.py
check`` reports the same problems (``assetpipe.E004``). Every group (``s3``, ``cors``, ``images``)
is read with the same kit (:mod:`assetpipe.conf.kit`), so every message has one format.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf import kit
from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.edge import CorsConfig, cdn
from assetpipe.conf.images import ImageSettings
from assetpipe.conf.kit import OPTIONS, Check, conflict, invalid, key, renamed
from assetpipe.conf.s3 import VARIANTS_IN_STATIC_ROOT, S3Config
from assetpipe.extras import require
from assetpipe.naming import VARIANT_SUFFIXES

SETTING = OPTIONS

ENCODING_NAMES: tuple[str, ...] = tuple(VARIANT_SUFFIXES)

# Extensions never compressed, whatever never_compress adds: data that carries its own
# compression gains nothing from brotli or gzip.
DEFAULT_SKIP_EXTENSIONS: frozenset[str] = frozenset(
    {
        # images (SVG is text and compresses well, so it is not here)
        "jpg", "jpeg", "png", "gif", "webp", "avif", "ico", "bmp", "heic",
        # fonts that carry their own compression
        "woff", "woff2",
        # archives and already-compressed data
        "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "zst", "7z", "rar", "jar", "whl",
        # audio and video
        "mp3", "ogg", "oga", "opus", "m4a", "aac", "flac", "wav",
        "mp4", "m4v", "mov", "webm", "mkv", "avi", "mpeg", "mpg", "wmv", "flv", "3gp", "swf",
        # documents that are compressed containers
        "pdf", "docx", "xlsx", "pptx", "odt", "epub",
    }
)  # fmt: skip

# What a reference to a file that does not exist does to the build.
MISSING_REFERENCES = ("warn", "fail")
# With DEBUG on, what {% static %} does with a name no finder finds (assetpipe.serve.debug_names).
DEBUG_UNKNOWN_NAMES = ("raise", "warn", "ignore")


@dataclass(frozen=True)
class StorageOptions:
    encodings: tuple[str, ...] = ("br", "gzip")
    # "warn": a reference to a missing file is reported and left as it is; "fail": an error.
    missing_references: str = "warn"
    js_module_imports: bool = False
    # Extensions never compressed beside DEFAULT_SKIP_EXTENSIONS: lower case, without a dot.
    never_compress: frozenset[str] = frozenset()
    state_dir: str | None = None
    # Threads for compressing and for encoding images; None: one per core.
    workers: int | None = None
    # Integrity values and the JS module graph in staticfiles.json, for assetpipe's template tags.
    integrity: bool = False
    import_map: tuple[str, ...] = ("*.mjs",)  # glob patterns of the modules {% importmap %} maps
    # Seconds a build waits for another build of the same STATIC_ROOT before failing.
    lock_timeout: float = 600.0
    # Publishing; None builds and serves locally only.
    s3: S3Config | None = None
    # Glob patterns of bundler output that keeps its name (docs/how-to/bundlers.md).
    prehashed: tuple[str, ...] = ()
    # Bundler records outside the collected tree (an esbuild metafile, ...), as file paths:
    # the files they list are prehashed too.
    prehashed_records: tuple[str, ...] = ()
    # Origins that may read the static files cross-origin (S3's CORS rule, nginx's headers).
    cors: CorsConfig | None = None
    # The CDN in front of the bucket that picks the .br/.gz variants.
    cdn: str | None = None
    # With DEBUG on, what {% static %} does with a name no finder finds
    # (assetpipe.serve.debug_names).
    debug_unknown_names: str = "raise"
    # AVIF/WebP variants of raster images (assetpipe.build.images); None: off.
    images: ImageSettings | None = None
    # The kinds of files minified before hashing ("css", "js"; assetpipe.build.minify).
    minify: tuple[str, ...] = ()
    # Deltas against earlier builds' versions of CSS/JS (assetpipe.build.dictionaries); None: off.
    dictionaries: DictionarySettings | None = None

    @property
    def uncompressed_extensions(self) -> frozenset[str]:
        """Every extension the build never compresses: the defaults and ``never_compress``."""
        return DEFAULT_SKIP_EXTENSIONS | self.never_compress


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


def parse_storage_options(options: object) -> tuple[StorageOptions, dict[str, Any]]:
    """assetpipe's options, validated, and the rest for Django's storage base classes."""
    group = _read(options)
    group.raise_first()
    return StorageOptions(**group.values), group.rest


def storage_option_problems(options: object) -> list[ImproperlyConfigured]:
    """Every problem with ``options``, one error each, for ``manage.py check``."""
    return _read(options).problems


def _read(options: object) -> kit.Group:
    group = kit.read_group(
        SETTING,
        options,
        CHECKS,
        retired=RETIRED,
        passed_on=DJANGO_OPTIONS,
        passed_on_to="Django's storage",
    )
    values = group.values
    if values.get("images") is not None:
        values["images"] = dataclasses.replace(values["images"], workers=values.get("workers"))
    if isinstance(options, Mapping):
        group.problems.extend(_conflicts(values, options))
    return group


def _conflicts(values: Mapping[str, Any], given: Mapping[str, Any]) -> list[ImproperlyConfigured]:
    """Options valid alone that the others make wrong."""
    problems = []
    if values.get("cdn") is not None:
        where = key(SETTING, "cdn")
        s3: S3Config | None = values.get("s3")
        if s3 is None:
            if "s3" not in given or given["s3"] is None:
                problems.append(conflict(where, 'needs the "s3" option: the CDN serves the bucket'))
        elif s3.variants == VARIANTS_IN_STATIC_ROOT:
            problems.append(
                conflict(
                    where,
                    'needs the .br/.gz variants in the bucket: set the "s3" option\'s "variants" '
                    'to "static_root_and_bucket" (or "bucket" where STATIC_ROOT is not served)',
                )
            )
        if values.get("encodings") == ():
            problems.append(conflict(where, 'has nothing to pick: "encodings" is empty'))
    if "import_map" in values and not values.get("integrity", False):
        problems.append(
            conflict(
                key(SETTING, "import_map"),
                'needs "integrity": True: {% importmap %} maps the module graph that '
                '"integrity" builds; set "integrity": True, or remove "import_map"',
            )
        )
    return problems


def _patterns(where: str, value: object) -> tuple[str, ...]:
    expected = 'a list of glob patterns relative to STATIC_URL, e.g. ["assets/*"]'
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise invalid(where, value, expected)
    for pattern in value:
        if (
            not isinstance(pattern, str)
            or not pattern.strip()
            or pattern.startswith("/")
            or ".." in pattern.split("/")
        ):
            raise invalid(where, value, expected + " (no leading '/', no '..')")
    return tuple(value)


def _s3(where: str, value: object) -> S3Config | None:
    return None if value is None else S3Config.from_options(value)


def _cors(where: str, value: object) -> CorsConfig | None:
    return None if value is None else CorsConfig.from_options(value)


def _images(where: str, value: object) -> ImageSettings | None:
    return ImageSettings.from_options(value)


MINIFY_KINDS = ("css", "js")


def _minify(where: str, value: object) -> tuple[str, ...]:
    kinds = kit.names_from(MINIFY_KINDS, "kind")(where, value)
    if kinds:
        require("minify")
    return kinds


def _dictionaries(where: str, value: object) -> DictionarySettings | None:
    return DictionarySettings.from_options(value)


CHECKS: dict[str, Check[Any]] = {
    "encodings": kit.names_from(ENCODING_NAMES, "encoding"),
    "missing_references": kit.choice(*MISSING_REFERENCES),
    "js_module_imports": kit.boolean,
    "never_compress": kit.extensions,
    "state_dir": kit.directory,
    "workers": kit.workers,
    "integrity": kit.boolean,
    "import_map": kit.globs,
    "lock_timeout": kit.seconds,
    "s3": _s3,
    "prehashed": _patterns,
    "prehashed_records": kit.paths,
    "cors": _cors,
    "cdn": kit.optional(cdn, "no CDN"),
    "debug_unknown_names": kit.choice(*DEBUG_UNKNOWN_NAMES),
    "images": _images,
    "minify": _minify,
    "dictionaries": _dictionaries,
}

RETIRED = {
    "strict": renamed(
        "missing_references",
        '"strict": True is now "missing_references": "fail"; False is "warn", the default',
    ),
    "debug_missing": renamed("debug_unknown_names", "it takes the same values"),
    "skip_compress_extensions": renamed(
        "never_compress", "its extensions are added to the defaults instead of replacing them"
    ),
    "compress_workers": renamed("workers", "it sets the threads for encoding images too"),
    "edge": renamed(
        "cdn",
        '{"cdn": "cloudfront"} is now "cdn": "cloudfront", and the "s3" option needs '
        '"variants": "static_root_and_bucket" (or "bucket")',
    ),
    "bundler_records": renamed("prehashed_records"),
}
