"""Which published keys have variants an edge may pick, and which one it picks.

A CDN's edge code cannot ask the bucket whether ``app.css.br`` exists: a rewrite to a missing
key is an error page. So the rule is one predicate on the key alone, :meth:`Negotiation.
negotiable`, and the build keeps it true: with a ``cdn`` configured, every file the
predicate accepts gets every variant (no "not worth it" skips), and publishing refuses a build
where one is missing. The generated edge code embeds :meth:`Negotiation.as_json` and runs
``negotiate.js``, the same rules as :meth:`Negotiation.negotiable` and
:func:`preferred_encoding`; the tests run both over the same names and headers.

Image variants (``hero.jpg.avif``, ``.webp``) follow the same rule with ``Accept`` for
``Accept-Encoding``: with ``image_formats``, every raster image key has every format's key
(:meth:`Negotiation.image_negotiable`; the build writes a copy of the original where an encode
was not smaller) and the edge picks one by :func:`preferred_image_format`, whose ES5 twin is
``negotiate_image.js``. Without ``image_formats`` the description and the edge code are what
they were before image variants existed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from assetpipe.naming import (
    IMAGE_VARIANTS,
    MANIFEST_NAME,
    NAME_MAX,
    RASTER_EXTENSIONS,
    VARIANT_SUFFIXES,
    is_raster_image,
    split_delta,
    split_variant,
    suffixes_fit,
)

if TYPE_CHECKING:
    from assetpipe.conf.options import StorageOptions

# Manifest copies kept by publishing (publish.history.PREFIX): uploaded without variants.
HISTORY_PREFIX = "manifests/"

# RFC 9110's qvalue: 0, 0.5, 1.000; anything else is malformed and counts as "not acceptable".
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
# HTTP's optional white space.
OWS = " \t"


@dataclass(frozen=True)
class Negotiation:
    """The variants an edge may pick under one published prefix."""

    prefix: str  # the key prefix the build is published under: "static/", or "" for the root
    encodings: tuple[str, ...]  # Content-Encoding tokens in the order the server prefers them
    skip_extensions: frozenset[str]  # lower case, without the dot: never compressed
    manifest_name: str = MANIFEST_NAME
    # Image formats (keys of naming.IMAGE_VARIANTS) in the order the server prefers them: every
    # raster image key has each one's variant. Empty: the edge picks no image variant.
    image_formats: tuple[str, ...] = ()

    @classmethod
    def for_options(cls, options: StorageOptions, manifest_name: str) -> Negotiation | None:
        """With a ``cdn`` option: the variants it may pick, as the build and publishing keep
        them; None without one."""
        if options.cdn is None or options.s3 is None:
            return None
        return cls(
            prefix=options.s3.prefix,
            encodings=options.encodings,
            skip_extensions=options.uncompressed_extensions,
            manifest_name=manifest_name,
            # With a CDN the build gives every raster image every format's file.
            image_formats=options.images.formats if options.images is not None else (),
        )

    def negotiable(self, key: str) -> bool:
        """Whether every variant of ``key`` exists wherever the build is published."""
        if not self.encodings or not key.startswith(self.prefix):
            return False
        name = key[len(self.prefix) :]
        if not name or name == self.manifest_name or name.startswith(HISTORY_PREFIX):
            return False
        if split_variant(name)[1] is not None or split_delta(name)[1] is not None:
            return False  # a variant asked for by its own name
        _, dot, extension = name.rpartition(".")
        if dot and extension.lower() in self.skip_extensions:
            return False
        return suffixes_fit(name, (VARIANT_SUFFIXES[e] for e in self.encodings))

    def image_negotiable(self, key: str) -> bool:
        """Whether every image variant of ``key`` exists wherever the build is published."""
        if not self.image_formats or not key.startswith(self.prefix):
            return False
        name = key[len(self.prefix) :]
        if name == self.manifest_name or name.startswith(HISTORY_PREFIX):
            return False
        if not is_raster_image(name):
            return False
        return suffixes_fit(name, (IMAGE_VARIANTS[f][0] for f in self.image_formats))

    def variant_suffixes(self, key: str) -> list[str]:
        """The suffixes of every variant an edge may ask for in place of ``key``: what
        publishing must find beside it."""
        suffixes: list[str] = []
        if self.negotiable(key):
            suffixes += [VARIANT_SUFFIXES[e] for e in self.encodings]
        if self.image_negotiable(key):
            suffixes += [IMAGE_VARIANTS[f][0] for f in self.image_formats]
        return suffixes

    def variant_key(self, key: str, accept_encoding: str | None, accept: str | None = None) -> str:
        """The key an edge serves for a request of ``key`` with these ``Accept-Encoding`` and
        ``Accept`` headers: an image variant first, else a precompressed one."""
        if self.image_negotiable(key):
            image_format = preferred_image_format(accept, self.image_formats)
            if image_format is not None:
                return key + IMAGE_VARIANTS[image_format][0]
        if not self.negotiable(key):
            return key
        encoding = preferred_encoding(accept_encoding, self.encodings)
        return key if encoding is None else key + VARIANT_SUFFIXES[encoding]

    def as_json(self) -> dict[str, Any]:
        """The description the edge code embeds (``negotiate.js`` and, with image formats,
        ``negotiate_image.js`` read these keys)."""
        images: dict[str, Any] = {}
        if self.image_formats:
            images = {
                "images": [[f, *IMAGE_VARIANTS[f]] for f in self.image_formats],
                "raster": sorted(RASTER_EXTENSIONS),
            }
        return {
            **images,
            "prefix": self.prefix,
            "encodings": [[e, VARIANT_SUFFIXES[e]] for e in self.encodings],
            "variantSuffixes": sorted(VARIANT_SUFFIXES.values()),
            "skip": sorted(self.skip_extensions),
            "manifest": self.manifest_name,
            "history": HISTORY_PREFIX,
            "nameMax": NAME_MAX,
        }


def preferred_encoding(header: str | None, encodings: Sequence[str]) -> str | None:
    """The coding of ``encodings`` (server preference first) that ``Accept-Encoding`` prefers.

    RFC 9110, 12.5.3: no header means no preference, so the original is sent; a coding is
    acceptable when its own weight, or else ``*``'s, is above 0; the highest weight wins and the
    server's order breaks ties. Tokens are case-insensitive, ``x-gzip`` is ``gzip``, a coding
    listed twice takes its lowest weight, and a malformed weight means "not acceptable".
    """
    if header is None:
        return None
    weights: dict[str, float] = {}
    for element in header.split(","):
        coding, *parameters = element.split(";")
        coding = coding.strip(OWS).lower()
        if not coding:
            continue
        if coding == "x-gzip":
            coding = "gzip"
        weight = _qvalue(parameters)
        weights[coding] = min(weight, weights.get(coding, weight))
    return _best(weights, encodings, weights.get("*", 0.0))


def preferred_image_format(header: str | None, formats: Sequence[str]) -> str | None:
    """The image format of ``formats`` (server preference first) that ``Accept`` prefers.

    Only a format's own media type (``image/avif``) counts: ``image/*`` and ``*/*`` are sent by
    browsers that decode neither AVIF nor WebP, so they never select a variant, and no header
    means the original. Otherwise as :func:`preferred_encoding`: the highest weight above 0 wins
    and the server's order breaks ties, types are case-insensitive, a type listed twice takes
    its lowest weight (``image/avif;q=0`` anywhere refuses it), and a malformed weight means
    "not acceptable". Parameters other than ``q`` are ignored.
    """
    if header is None:
        return None
    wanted = {IMAGE_VARIANTS[f][1]: f for f in formats}
    weights: dict[str, float] = {}
    for element in header.split(","):
        media_range, *parameters = element.split(";")
        image_format = wanted.get(media_range.strip(OWS).lower())
        if image_format is None:
            continue
        weight = _qvalue(parameters)
        weights[image_format] = min(weight, weights.get(image_format, weight))
    return _best(weights, formats, 0.0)


def _qvalue(parameters: Sequence[str]) -> float:
    """An element's weight from its parameters: 1 without ``q``, 0 for a malformed one."""
    weight = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip(OWS).lower() == "q":
            value = value.strip(OWS)
            weight = float(value) if _QVALUE.fullmatch(value) else 0.0
    return weight


def _best(weights: dict[str, float], choices: Sequence[str], default: float) -> str | None:
    """The choice (server preference first) of the highest weight above 0; ties to the first."""
    best, best_weight = None, 0.0
    for choice in choices:
        weight = weights.get(choice, default)
        if weight > best_weight:
            best, best_weight = choice, weight
    return best


def negotiate_js() -> str:
    """``negotiate.js``: the functions the generated edge code shares (ES5, for any runtime)."""
    return files("assetpipe.edge").joinpath("negotiate.js").read_text(encoding="utf-8")


def negotiate_image_js() -> str:
    """``negotiate_image.js``: the image variants' twin of :func:`preferred_image_format` and
    :meth:`Negotiation.image_negotiable`, included only when there are image formats."""
    return files("assetpipe.edge").joinpath("negotiate_image.js").read_text(encoding="utf-8")


def config_js(negotiation: Negotiation) -> str:
    """The description as a JavaScript object literal, sorted so the output is deterministic."""
    return json.dumps(negotiation.as_json(), sort_keys=True, ensure_ascii=True)


def negotiate_dictionary_js() -> str:
    """``negotiate_dictionary.js``: the twin of :func:`assetpipe.headers.available_dictionary`
    and whether a request takes ``dcz``, included only with the ``dictionaries`` option."""
    return files("assetpipe.edge").joinpath("negotiate_dictionary.js").read_text(encoding="utf-8")


def use_as_dictionary_js() -> str:
    """``use_as_dictionary.js``: the twin of :func:`assetpipe.headers.use_as_dictionary`."""
    return files("assetpipe.edge").joinpath("use_as_dictionary.js").read_text(encoding="utf-8")
