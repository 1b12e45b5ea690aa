"""nginx configuration for a STATIC_ROOT built by assetpipe.

The build has already done what a runtime optimiser (PageSpeed, dynamic gzip) would do per
request: content-hashed names and precompressed ``.br``/``.gz`` variants. The configuration
rendered here makes nginx serve that output with no work per request: the precompressed variant
the client accepts, the right type and charset, immutable caching for hashed names, and nothing
that is not a static file. With the ``cors`` option it also states the CORS rule
(``assetpipe.edge.cors``) for pages on other origins: its headers on every response, and
preflights answered. With image formats (the build's ``.avif``/``.webp`` variants of raster
images) a raster image's URL serves the variant the client's ``Accept`` names, so that images
referenced from CSS benefit as well as ``<picture>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from assetpipe.conf.edge import CorsConfig
from assetpipe.edge.cors import methods_pattern, origins_pattern, preflight_headers, stated_headers
from assetpipe.headers import (
    CHARSET,
    DEFAULT_MEDIA_TYPE,
    DELTA_VARY,
    IMMUTABLE_CACHE_CONTROL,
    MEDIA_TYPES,
    USE_AS_DICTIONARY,
    charset_types,
    extension,
    media_type,
    short_cache_control,
    use_as_dictionary,
)
from assetpipe.headers import DEFAULT_MAX_AGE as DEFAULT_MAX_AGE  # the CLI's --max-age default
from assetpipe.naming import (
    DELTA_ENCODING,
    DICTIONARY_ID_LENGTH,
    HASH_LENGTH,
    HASHED_NAME_PATTERN,
    IMAGE_VARIANTS,
    MANIFEST_NAME,
    RASTER_EXTENSIONS,
    delta_name,
    dictionary_hash,
    dictionary_id,
    image_variant_name,
    immutable_names,
    is_raster_image,
    looks_hashed,
    read_dictionaries,
    read_paths,
    read_prehashed,
)

BROTLI_MODULE = "ngx_http_brotli_static_module.so"
BROTLI_DEBIAN_PACKAGE = "libnginx-mod-http-brotli-static"
# With a list of origins: the request's Origin when the cors option allows it, else empty.
CORS_ORIGIN_VARIABLE = "$assetpipe_cors_origin"
# Where the static location sends its 405s, a CORS preflight among them.
CORS_PREFLIGHT_LOCATION = "@assetpipe_cors_preflight"
# With image formats: the suffixes of the image variants the request's Accept names, most
# preferred first, in variables named this and 1, 2...; empty for none.
IMAGE_VARIANT_VARIABLE = "$assetpipe_image_variant_"
# With compression dictionaries: the suffix of the delta (".<id>.dcz") for the dictionary the
# request names, when dcz is acceptable; else "/", a path below a file, which never exists.
DELTA_VARIABLE = "$assetpipe_delta"
NO_DELTA = "/"
# The Use-As-Dictionary value of the file a delta encodes, set by the file's location for the
# delta's location it rewrites to.
USE_AS_DICTIONARY_VARIABLE = "$assetpipe_use_as_dictionary"
# A header value nginx reads as one word without quotes.
_BARE_VALUE = re.compile(r"[A-Za-z0-9_$*.:/-]+")


@dataclass(frozen=True)
class DictionaryFile:
    """A file the build declares a compression dictionary (``staticfiles.json``'s
    ``dictionaries``), and the dictionaries its deltas were made with."""

    name: str
    """The hashed name, relative to STATIC_ROOT."""
    use_as_dictionary: str
    """The ``Use-As-Dictionary`` value of its responses."""
    deltas: tuple[str, ...] = ()
    """The base64 SHA-256 of each dictionary a delta of it was written against."""


@dataclass(frozen=True)
class StaticSite:
    """What nginx needs to know to serve one STATIC_ROOT."""

    url_path: str
    """The path part of STATIC_URL, with a leading and a trailing slash."""
    root: Path
    """STATIC_ROOT, absolute."""
    hidden: tuple[PurePosixPath, ...] = ()
    """Paths below ``root`` (relative, e.g. a build-state directory) that must never be served."""
    brotli: bool = True
    max_age: int = DEFAULT_MAX_AGE
    """``max-age`` for names without a content hash, which may change on the next deploy."""
    prehashed: tuple[str, ...] = ()
    """Names a bundler hashed, from the build's manifest: immutable like Django's."""
    lookalikes: tuple[str, ...] = ()
    """Unhashed names spelled like hashed ones (``lib.deadbeefcafe.css``): never immutable."""
    cors: CorsConfig | None = None
    """Which other origins' pages may read the files (the ``cors`` option); ``None``: none."""
    image_formats: tuple[str, ...] = ()
    """Image variants the build writes beside raster images (keys of ``naming.IMAGE_VARIANTS``),
    in the order the server prefers them; empty: raster images are served as they are."""
    dictionaries: tuple[DictionaryFile, ...] = ()
    """The build's compression dictionaries and their deltas (the ``dictionaries`` option);
    empty: no file is a dictionary."""


def static_site(
    static_url: str,
    static_root: str | Path,
    *,
    private_dirs: tuple[Path, ...] = (),
    brotli: bool = True,
    max_age: int = DEFAULT_MAX_AGE,
    manifest_name: str = MANIFEST_NAME,
    cors: CorsConfig | None = None,
    image_formats: Sequence[str] = (),
) -> StaticSite:
    """Build a :class:`StaticSite` from Django-style settings values.

    ``static_url`` may be a full URL (a CDN in front of this nginx); only its path is used.
    ``private_dirs`` are directories that must not be served if they lie inside ``static_root``.
    ``cors`` is the storage's ``cors`` option. ``image_formats``: the image variants the build
    writes (``["avif", "webp"]``), server preference first.
    """
    unknown = [f for f in image_formats if f not in IMAGE_VARIANTS]
    if unknown:
        raise ValueError(f"unknown image format {unknown[0]!r}: one of {', '.join(IMAGE_VARIANTS)}")
    path = urlsplit(static_url).path
    if not path.startswith("/") or not path.endswith("/"):
        raise ValueError(
            f"STATIC_URL must have a path that starts and ends with '/': {static_url!r}"
        )
    if path == "/":
        raise ValueError("STATIC_URL must not be '/': nginx would serve every URL from STATIC_ROOT")
    if any(c in path for c in " ;{}\"'\\$"):
        raise ValueError(f"STATIC_URL contains characters nginx would misread: {static_url!r}")
    root = Path(static_root).resolve()
    if any(c in str(root) for c in ";{}\"'\\$") or any(c.isspace() for c in str(root)):
        raise ValueError(f"STATIC_ROOT contains characters nginx would misread: {root}")
    hidden: list[PurePosixPath] = []
    for private in private_dirs:
        resolved = private.resolve()
        if resolved.is_relative_to(root) and resolved != root:
            hidden.append(PurePosixPath(resolved.relative_to(root).as_posix()))
    return StaticSite(
        url_path=path,
        root=root,
        hidden=tuple(hidden),
        brotli=brotli,
        max_age=max_age,
        cors=cors,
        image_formats=tuple(image_formats),
        **_from_build(root / manifest_name),
    )


def _from_build(manifest: Path) -> dict[str, tuple[Any, ...]]:
    """What the build says about names that their spelling gets wrong, and which files are
    compression dictionaries, for ``StaticSite``."""
    try:
        data = manifest.read_bytes()
    except OSError:
        return {}  # not built yet
    immutable = immutable_names(data)
    originals = read_paths(data)
    lookalikes = {n for n in originals if looks_hashed(n) and n not in immutable}
    dictionaries = tuple(
        DictionaryFile(
            name=name,
            use_as_dictionary=use_as_dictionary(entry["match"], entry["dest"]),
            deltas=tuple(sorted(entry["deltas"])),
        )
        for name, entry in sorted(read_dictionaries(data).items())
        if _nginx_safe(name) and _nginx_safe(entry["match"])
    )
    # A dictionary's own location states its caching: no second exact location for it.
    own = {d.name for d in dictionaries}
    found: dict[str, tuple[Any, ...]] = {
        "prehashed": tuple(
            sorted(n for n in read_prehashed(data) if _nginx_safe(n) and n not in own)
        ),
        "lookalikes": tuple(sorted(filter(_nginx_safe, lookalikes))),
    }
    if dictionaries:
        found["dictionaries"] = dictionaries
    return found


def _types_block(indent: str) -> list[str]:
    # assetpipe's table, as S3 uploads and WhiteNoise (with WHITENOISE_MIMETYPES) use it.
    by_type: dict[str, list[str]] = {}
    for suffix, type_name in sorted(MEDIA_TYPES.items()):
        by_type.setdefault(type_name, []).append(suffix[1:])
    lines = [f"{indent}types {{"]
    for type_name, suffixes in sorted(by_type.items()):
        lines.append(f"{indent}    {type_name} {' '.join(suffixes)};")
    lines.append(f"{indent}}}")
    return lines


def _charset_types() -> str:
    # nginx adds the charset to text/html always; naming it again is a duplicate.
    return " ".join(t for t in charset_types() if t != "text/html")


def render_snippet(site: StaticSite) -> str:
    """Return ``location`` blocks to include in a ``server {}`` block."""
    url, root = site.url_path, site.root
    lines = [
        *_preamble(site),
        "",
        "# Dotfiles are never served: assetpipe's build state (.assetpipe beside STATIC_ROOT),",
        "# .git, .env. /.well-known/ (ACME certificate challenges) stays reachable, at the site",
        f"# root and under {url} alike, as WhiteNoise serves {url}.well-known/ from STATIC_ROOT.",
        r"location ~ /\.(?!well-known/) {",
        "    return 404;",
        "}",
        "",
        *_cors_origin(site),
        *_image_variant_choice(site),
        *_delta_choice(site),
        # ^~ keeps the server's regex locations (e.g. for .php) away from static files. A trailing
        # slash on both the location and the alias keeps /static../ from escaping STATIC_ROOT.
        f"location ^~ {url} {{",
        f"    alias {root}/;",
        "",
        "    # Every variant was compressed at build time: pick one, never compress per request.",
        "    gzip off;",
        "    gzip_static on;",
        *(["    brotli_static on;"] if site.brotli else []),
        "    gzip_vary on;  # Vary: Accept-Encoding wherever a variant was chosen",
        "    gzip_proxied any;  # CDNs and load balancers send Via; Vary keeps their caches right",
        "",
        *_response_headers(site),
        "",
        # The server-level dotfile rule is not consulted under ^~, so repeat it here.
        r"    location ~ /\.(?!well-known/) {",
        "        return 404;",
        "    }",
    ]
    for hidden in site.hidden:
        lines += [
            f"    location ^~ {url}{hidden}/ {{",
            "        return 404;",
            "    }",
        ]
    lines += _prehashed_locations(site)
    lines += _lookalike_locations(site)
    lines += _dictionary_locations(site)
    lines += _raster_image_locations(site)
    lines += [
        "    # Content-hashed names never change: cache them for a year without revalidation.",
        f'    location ~ "{HASHED_NAME_PATTERN}" {{',
        f'        add_header Cache-Control "{IMMUTABLE_CACHE_CONTROL}";',
        "        add_header X-Content-Type-Options nosniff;",
        *_cors_headers(site, "        "),
        "    }",
        "}",
        *_cors_preflight(site),
    ]
    return "\n".join(lines) + "\n"


def _preamble(site: StaticSite) -> list[str]:
    lines = [
        f"# assetpipe: serve STATIC_ROOT {site.root} at {site.url_path}",
        "# Generated by `manage.py assetpipe nginx`; regenerate it when STATIC_URL or",
        "# STATIC_ROOT change.",
    ]
    if site.dictionaries:
        lines += [
            "# It names this build's compression dictionaries and deltas: regenerate it after",
            "# each build for the new ones to be used (until then, brotli or gzip as before).",
        ]
    if site.brotli:
        lines += [
            "# brotli_static needs ngx_brotli's static module. Debian/Ubuntu:",
            f"#   apt-get install {BROTLI_DEBIAN_PACKAGE}",
            "# (the package enables it); elsewhere add at the top of nginx.conf:",
            f"#   load_module modules/{BROTLI_MODULE};",
        ]
    return lines


def _response_headers(site: StaticSite) -> list[str]:
    """Type, charset and caching of the static location, as S3 objects and WhiteNoise have them."""
    return [
        *_types_block("    "),
        f"    default_type {DEFAULT_MEDIA_TYPE};",
        f"    charset {CHARSET};",
        f"    charset_types {_charset_types()};",
        "",
        "    autoindex off;",
        "    open_file_cache max=10000 inactive=5m;",
        f"    open_file_cache_valid {site.max_age}s;",
        "    open_file_cache_errors on;",
        "",
        "    # add_header here replaces every add_header inherited from the server block.",
        f'    add_header Cache-Control "{short_cache_control(site.max_age)}";',
        "    add_header X-Content-Type-Options nosniff;",
        *_cors_static_location(site),
    ]


def _prehashed_locations(site: StaticSite) -> list[str]:
    if not site.prehashed:
        return []
    lines = [
        f"    # {len(site.prehashed)} names a bundler hashed, from the build's manifest:",
        "    # regenerate this configuration after each build.",
    ]
    for name in site.prehashed:
        lines += _exact_locations(site, name, IMMUTABLE_CACHE_CONTROL)
    return lines


def _lookalike_locations(site: StaticSite) -> list[str]:
    if not site.lookalikes:
        return []
    lines = [f"    # {len(site.lookalikes)} unhashed names that only look hashed: not immutable."]
    for name in site.lookalikes:
        lines += _exact_locations(site, name, short_cache_control(site.max_age))
    return lines


def _exact_locations(site: StaticSite, name: str, cache_control: str) -> list[str]:
    """``location =`` for a name whose spelling says the wrong thing about its caching; for a
    raster image with image formats, negotiated, and one more for each variant's own URL."""
    negotiated = bool(site.image_formats) and is_raster_image(name)
    lines = [
        f'    location = "{site.url_path}{name}" {{',
        *(_negotiation(site, "        ") if negotiated else []),
        f'        add_header Cache-Control "{cache_control}";',
        "        add_header X-Content-Type-Options nosniff;",
        *_cors_headers(site, "        "),
        "    }",
    ]
    if negotiated:
        for image_format in site.image_formats:
            lines += [
                f'    location = "{site.url_path}{image_variant_name(name, image_format)}" {{',
                f'        add_header Cache-Control "{cache_control}";',
                "        add_header X-Content-Type-Options nosniff;",
                *_cors_headers(site, "        "),
                "    }",
            ]
    return lines


# --- image variants: chosen by Accept ---------------------------------------------------------

# RFC 9110's qvalue above 0, as preferred_image_format (assetpipe.edge.negotiation) reads it.
_POSITIVE_QVALUE = r"(?:0\.(?=[0-9]{0,2}[1-9])[0-9]{1,3}|1(?:\.0{0,3})?)"
_RASTER = "(?i:" + "|".join(sorted(RASTER_EXTENSIONS)) + ")"
# Raster images by URL: hashed, a hashed one's variant asked for by its own name, and any.
HASHED_RASTER_PATTERN = rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.{_RASTER}$"
RASTER_PATTERN = rf"\.{_RASTER}$"


def hashed_raster_variant_pattern(image_formats: Sequence[str]) -> str:
    suffixes = "|".join(re.escape(IMAGE_VARIANTS[f][0]) for f in image_formats)
    return rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.{_RASTER}(?:{suffixes})$"


def accepts_pattern(image_format: str) -> str:
    """A regular expression (case-insensitive, PCRE and Python alike) that matches an ``Accept``
    header naming ``image_format``'s media type with no weight or one above 0, unless an
    element names it with a weight of 0, a malformed one or more than one.

    :func:`~assetpipe.edge.negotiation.preferred_image_format` is the rule; a regular
    expression cannot compare two weights, so nginx prefers the server's order among the
    formats accepted, where that function takes the highest weight. No browser weighs one
    image format against another; and whatever the function refuses, this refuses too.
    """
    media_type = re.escape(IMAGE_VARIANTS[image_format][1])
    return rf"^(?!.*{_refused(media_type)}).*{_element(media_type)}(?:;|,|$)"


def _element(token: str) -> str:
    """An element of a header list that names ``token`` (a regular expression)."""
    return rf"(?:^|,)[ \t]*{token}[ \t]*"


def _refused(token: str) -> str:
    """An element that names ``token`` with a weight of 0 or a malformed one."""
    return (
        rf"{_element(token)};(?:[^,]*;)?[ \t]*q[ \t]*"
        rf"(?:=(?![ \t]*{_POSITIVE_QVALUE}[ \t]*(?:;|,|$))|(?:;|,|$))"
    )


def accepts_coding_pattern(coding: str) -> str:
    """A regular expression (case-insensitive, PCRE and Python alike) that matches an
    ``Accept-Encoding`` header by which ``coding`` is acceptable, as
    :func:`~assetpipe.edge.negotiation.preferred_encoding` reads it: named with no weight or
    one above 0 and never with a weight of 0 or a malformed one; or, not named at all, ``*``
    is acceptable in the same way. No header: not acceptable."""
    token, star = re.escape(coding), r"\*"
    named = rf"{_element(token)}(?:;|,|$)"
    by_star = rf"(?!.*{named})(?!.*{_refused(star)}).*{_element(star)}(?:;|,|$)"
    return rf"^(?!.*{_refused(token)})(?:.*{named}|{by_star})"


def _image_variables(site: StaticSite) -> list[str]:
    return [f"{IMAGE_VARIANT_VARIABLE}{n}" for n in range(1, len(site.image_formats) + 1)]


def _image_variant_choice(site: StaticSite) -> list[str]:
    """Server-level, before a location is chosen (``set`` inside ``if`` is safe there): the
    suffixes of the variants the client accepts, in the server's order of preference. From the
    least preferred format to the most, each one accepted moves the others down a place."""
    if not site.image_formats:
        return []
    variables = _image_variables(site)
    lines = [
        "# Image variants (.avif, .webp beside each raster image): those the request's Accept",
        "# names with a weight above 0, in this server's order of preference; image/* and */*",
        "# name none, as browsers that decode neither send them too. A variant the build did",
        "# not write (its encode was not smaller) is skipped for the next, then the original.",
        *(f'set {variable} "";' for variable in variables),
    ]
    for image_format in reversed(site.image_formats):
        lines += [
            f"if ($http_accept ~* {_quoted(accepts_pattern(image_format))}) {{",
            *(
                f"    set {variables[n]} {variables[n - 1]};"
                for n in range(len(variables) - 1, 0, -1)
            ),
            f"    set {variables[0]} {IMAGE_VARIANTS[image_format][0]};",
            "}",
        ]
    return [*lines, ""]


def _negotiation(site: StaticSite, indent: str) -> list[str]:
    """A raster image's URL: the first accepted variant that exists, else the original (the
    type is the chosen file's); Vary on every response, the original, 304s and 404s included.
    An empty variable tries the original itself, which ends the search as it should."""
    tried = " ".join(f"$uri{variable}" for variable in _image_variables(site))
    return [
        f"{indent}try_files {tried} $uri =404;",
        f"{indent}add_header Vary Accept always;",
    ]


def _raster_image_locations(site: StaticSite) -> list[str]:
    if not site.image_formats:
        return []
    variant = hashed_raster_variant_pattern(site.image_formats)
    return [
        "    # Raster images: the image variant the client accepts, when the build wrote one.",
        f'    location ~ "{HASHED_RASTER_PATTERN}" {{',
        *_negotiation(site, "        "),
        f'        add_header Cache-Control "{IMMUTABLE_CACHE_CONTROL}";',
        "        add_header X-Content-Type-Options nosniff;",
        *_cors_headers(site, "        "),
        "    }",
        "    # A hashed image's variant asked for by its own name (<picture>): immutable too.",
        f'    location ~ "{variant}" {{',
        f'        add_header Cache-Control "{IMMUTABLE_CACHE_CONTROL}";',
        "        add_header X-Content-Type-Options nosniff;",
        *_cors_headers(site, "        "),
        "    }",
        f'    location ~ "{RASTER_PATTERN}" {{',
        *_negotiation(site, "        "),
        f'        add_header Cache-Control "{short_cache_control(site.max_age)}";',
        "        add_header X-Content-Type-Options nosniff;",
        *_cors_headers(site, "        "),
        "    }",
    ]


# --- compression dictionaries (RFC 9842): Use-As-Dictionary, and dcz deltas -------------------


def _delta_choice(site: StaticSite) -> list[str]:
    """Server-level (``map`` is not allowed where this snippet is included): the suffix of the
    delta for the dictionary the request's ``Available-Dictionary`` names, one of this build's,
    when ``dcz`` is acceptable; else :data:`NO_DELTA`. Exact comparisons: a malformed or
    unknown value names none."""
    ids = sorted(
        {
            encoded: dictionary_id(sha256)
            for d in site.dictionaries
            for encoded in d.deltas
            if (sha256 := dictionary_hash(encoded)) is not None
        }.items()
    )
    if not ids:
        return []
    lines = [
        "# Compression dictionaries (RFC 9842): the suffix of the delta (.<id>.dcz) against the",
        "# dictionary the request's Available-Dictionary names, one of this build's, when dcz",
        f'# is acceptable; else "{NO_DELTA}", a path below a file, which never exists.',
        f'set {DELTA_VARIABLE} "{NO_DELTA}";',
    ]
    for encoded, dictionary in ids:
        suffix = delta_name("", dictionary)
        lines += [
            f'if ($http_available_dictionary = ":{encoded}:") {{',
            f"    set {DELTA_VARIABLE} {suffix};",
            "}",
        ]
    lines += [
        f"if ($http_accept_encoding !~* {_quoted(accepts_coding_pattern(DELTA_ENCODING))}) {{",
        f'    set {DELTA_VARIABLE} "{NO_DELTA}";',
        "}",
        "",
    ]
    return lines


def _dictionary_locations(site: StaticSite) -> list[str]:
    """Each dictionary file's own location: its headers whatever variant is sent, and a rewrite
    to its delta when the request chose one that exists (``if`` with ``rewrite ... last``, the
    safe use of ``if`` in a location); then a location per type for the deltas themselves."""
    if not site.dictionaries:
        return []
    lines = [
        f"    # {len(site.dictionaries)} compression dictionaries (RFC 9842) of this build, with",
        "    # their deltas: regenerate this configuration after each build.",
    ]
    for dictionary in site.dictionaries:
        lines += [
            f'    location = "{site.url_path}{dictionary.name}" {{',
            f"        set {USE_AS_DICTIONARY_VARIABLE} {_quoted(dictionary.use_as_dictionary)};",
        ]
        if dictionary.deltas:
            lines += [
                f"        if (-f $request_filename{DELTA_VARIABLE}) {{",
                f"            rewrite ^ $uri{DELTA_VARIABLE} last;",
                "        }",
            ]
        lines += [
            "        gzip_vary off;  # Vary names Available-Dictionary too, on every variant",
            f'        add_header Cache-Control "{IMMUTABLE_CACHE_CONTROL}";',
            "        add_header X-Content-Type-Options nosniff;",
            f"        add_header {USE_AS_DICTIONARY} {USE_AS_DICTIONARY_VARIABLE} always;",
            f'        add_header Vary "{DELTA_VARY}" always;',
            *_cors_headers(site, "        "),
            "    }",
        ]
    id_pattern = f"[0-9a-f]{{{DICTIONARY_ID_LENGTH}}}"
    types = {extension(d.name): media_type(d.name) for d in site.dictionaries if d.deltas}
    if types:
        lines.append(
            "    # Deltas, reached only by that rewrite: their file's type, Content-Encoding dcz."
        )
    for ext, delta_type in sorted(types.items()):
        lines += [
            f'    location ~* "{re.escape(ext)}\\.{id_pattern}\\.{DELTA_ENCODING}$" {{',
            "        internal;",
            "        gzip_static off;",
            *(["        brotli_static off;"] if site.brotli else []),
            "        types { }",
            f"        default_type {delta_type};",
            f"        add_header Content-Encoding {DELTA_ENCODING};",
            f'        add_header Cache-Control "{IMMUTABLE_CACHE_CONTROL}";',
            "        add_header X-Content-Type-Options nosniff;",
            f"        add_header {USE_AS_DICTIONARY} {USE_AS_DICTIONARY_VARIABLE};",
            f'        add_header Vary "{DELTA_VARY}";',
            *_cors_headers(site, "        "),
            "    }",
        ]
    return lines


# --- CORS: the rule of assetpipe.edge.cors, as nginx states it ---------------------------------


def _cors_origin(site: StaticSite) -> list[str]:
    """Server-level, with a list of origins: whether the rule allows the request's origin.

    Only ``set`` and ``return`` are safe inside ``if``; at server level the variable is set once
    per request, before a location is chosen, and every location below sees it.
    """
    if site.cors is None or site.cors.any_origin:
        return []
    return [
        '# CORS (the "cors" option): the request\'s Origin when it is one of these, else empty',
        '# (then no Access-Control-Allow-Origin is sent); a "*" stands for any text:',
        *(f"#   {origin}" for origin in site.cors.origins),
        f'set {CORS_ORIGIN_VARIABLE} "";',
        f"if ($http_origin ~ {_quoted(origins_pattern(site.cors))}) {{",
        f"    set {CORS_ORIGIN_VARIABLE} $http_origin;",
        "}",
        "",
    ]


def _allowed_origin(cors: CorsConfig) -> str | None:
    return None if cors.any_origin else CORS_ORIGIN_VARIABLE


def _cors_headers(site: StaticSite, indent: str) -> list[str]:
    """The rule's response headers, on every status (404s too), for each location that has
    ``add_header``: such a location drops the enclosing block's."""
    if site.cors is None:
        return []
    headers = stated_headers(site.cors, _allowed_origin(site.cors))
    return [f"{indent}add_header {name} {_value(value)} always;" for name, value in headers.items()]


def _cors_static_location(site: StaticSite) -> list[str]:
    if site.cors is None:
        return []
    return [
        "",
        '    # CORS (the "cors" option), on every status; repeated in each location below that',
        "    # has add_header. nginx answers OPTIONS, like any method but GET, HEAD and POST,",
        f"    # with 405: {CORS_PREFLIGHT_LOCATION} answers a preflight instead.",
        *_cors_headers(site, "    "),
        f"    error_page 405 = {CORS_PREFLIGHT_LOCATION};",
    ]


def _cors_preflight(site: StaticSite) -> list[str]:
    """The named location of the static location's 405s: a preflight gets 204 and the rule's
    headers when the rule allows its origin and method, 403 when it does not; any other
    request stays 405."""
    if site.cors is None:
        return []
    cors = site.cors
    checks = [
        ("$request_method != OPTIONS", 405),
        ('$http_origin = ""', 405),
        ('$http_access_control_request_method = ""', 405),
    ]
    if not cors.any_origin:
        checks.append((f'{CORS_ORIGIN_VARIABLE} = ""', 403))
    checks.append((f"$http_access_control_request_method !~ {_quoted(methods_pattern())}", 403))
    headers = {
        **stated_headers(cors, _allowed_origin(cors)),
        **preflight_headers(cors, "$http_access_control_request_headers"),
    }
    lines = [
        "",
        "# A CORS preflight for a static file (OPTIONS with Origin and Access-Control-Request-",
        '# Method): 204 when the "cors" option allows its origin and method, else 403.',
        f"location {CORS_PREFLIGHT_LOCATION} {{",
    ]
    for condition, status in checks:
        lines += [f"    if ({condition}) {{", f"        return {status};", "    }"]
    lines += [
        "    # Without always: on the 204 only.",
        *(f"    add_header {name} {_value(value)};" for name, value in headers.items()),
        "    return 204;",
        "}",
    ]
    return lines


def _value(value: str) -> str:
    return value if _BARE_VALUE.fullmatch(value) else _quoted(value)


def _quoted(text: str) -> str:
    """``text`` as one double-quoted nginx word.

    nginx's parser reads a backslash before ``\\``, ``"``, ``'``, ``t``, ``r`` or ``n`` as an
    escape and keeps any other as it is, so a regular expression's ``\\.`` is written as it is
    and only those backslashes are doubled.
    """
    quoted = re.sub(r"""\\(?=[\\"'trn]|$)""", r"\\\\", text).replace('"', '\\"')
    return f'"{quoted}"'


def render_server(
    site: StaticSite,
    *,
    listen: str,
    upstream: str,
    server_name: str | None = None,
    script_name: str | None = None,
) -> str:
    """Return a complete ``server {}`` block: static files from disk, everything else proxied.

    ``script_name`` (Django's ``FORCE_SCRIPT_NAME``, e.g. ``/shop``): the app lives below it.
    Only requests below it are proxied, without it, as Django expects its requests under WSGI
    and ASGI alike (it builds its URLs with ``FORCE_SCRIPT_NAME``); STATIC_URL is then usually
    below it too (``/shop/static/``), and its location, the longer prefix, is nginx's choice.
    """
    if not urlsplit(upstream).scheme.startswith("http"):
        raise ValueError(f"upstream must be an http:// or https:// URL: {upstream!r}")
    mount = _mount(script_name)
    body = render_snippet(site).rstrip("\n").splitlines()
    lines = ["server {", f"    listen {listen};"]
    if server_name:
        lines.append(f"    server_name {server_name};")
    lines.append("")
    lines += [f"    {line}" if line else "" for line in body]
    lines.append("")
    if mount is None:
        lines += ["    location / {", f"        proxy_pass {upstream};"]
    else:
        # A URI on proxy_pass replaces the location's prefix: the app sees /x for /shop/x.
        # nginx redirects /shop to /shop/ itself.
        lines += [
            f"    # The app below {mount} (FORCE_SCRIPT_NAME), proxied without it.",
            f"    location {mount}/ {{",
            f"        proxy_pass {upstream.rstrip('/')}/;",
        ]
    lines += [
        "        proxy_set_header Host $http_host;  # with the port, as the browser sent it",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto $scheme;",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _mount(script_name: str | None) -> str | None:
    """``script_name`` without its trailing slash; None for the site's root."""
    mount = (script_name or "").rstrip("/")
    if not mount:
        return None
    if not mount.startswith("/"):
        raise ValueError(f"the script name must start with '/': {script_name!r}")
    if any(c in mount for c in ";{}\"'\\$#") or any(c.isspace() for c in mount):
        raise ValueError(
            f"the script name contains characters nginx would misread: {script_name!r}"
        )
    return mount


def _nginx_safe(name: str) -> bool:
    """Whether ``name`` can be written inside a quoted nginx ``location`` as it is."""
    return not any(c in name for c in '"\\$;{}') and all(c.isprintable() for c in name)
