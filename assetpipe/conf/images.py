"""``STORAGES["staticfiles"]["OPTIONS"]["images"]``: which image variants to write, and how.

Plain data, validated once, without importing Pillow until the option is known to be on: a
build without images never loads it. The defaults and why they were chosen are in
docs/how-to/images.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib.util import find_spec
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.kit import (
    OPTIONS,
    Check,
    did_you_mean,
    globs,
    integer,
    invalid,
    key,
    names_from,
    quoted,
    read_group,
    renamed,
)
from assetpipe.naming import IMAGE_VARIANTS

WHERE = key(OPTIONS, "images")

FORMATS: tuple[str, ...] = tuple(IMAGE_VARIANTS)

# The fixed qualities, with ``"floor": None``. WebP 80 is PageSpeed's and Wagtail's quality; AVIF
# 55 is Next.js's (its 75 less 20) and sits in the 50-60 band the build tools use: Pillow's own
# AVIF default (75) gave larger files than WebP 80 on photos, as the quality scales of the two
# codecs are not comparable.
DEFAULT_QUALITY: Mapping[str, int] = {"avif": 55, "webp": 80}
# The perceptual floor: each lossy variant at the lowest quality whose SSIM against the original
# is at least this (docs/how-to/images.md says why 0.95 and what is measured).
METRICS = ("ssim",)
DEFAULT_FLOOR: Mapping[str, float] = {"ssim": 0.95}
# Scores are compared rounded to this many decimals, so that a score a floating-point rounding
# away from the floor cannot decide differently on another machine.
FLOOR_DECIMALS = 4
# The qualities the floor's bisection searches, per format: 64 integers each, so six encodes
# decide (a seventh when only the highest passes or none does). AVIF met an SSIM of 0.95 between
# 20 and 75 on the sample photographs; lossy WebP needs higher numbers for the same score.
SEARCHED: Mapping[str, tuple[int, int]] = {"avif": (20, 83), "webp": (37, 100)}
# How a still image is encoded when no pattern names it: "classify" (JPEG lossy, GIF lossless, a
# PNG by what it looks like), "lossless" (every PNG and GIF exact) or "lossy" (every image lossy).
STILLS = ("classify", "lossless", "lossy")
# libaom speed 8 encoded photos 2-4x faster than speed 6 for files 3-5% larger (measured, see
# the how-to); the image step runs on every cold build, so the faster setting is the default.
DEFAULT_AVIF_SPEED = 8
# libwebp's default effort: method 6 took twice the time for 1-4% smaller files.
DEFAULT_WEBP_METHOD = 4
# A variant is kept only when it saves at least this fraction of the original's bytes.
DEFAULT_MIN_SAVING = 0.1


@dataclass(frozen=True)
class ImageSettings:
    formats: tuple[str, ...] = FORMATS  # in IMAGE_VARIANTS' order, whatever order was given
    quality: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_QUALITY))
    # metric -> the score every lossy variant must reach; None: the fixed ``quality``.
    floor: Mapping[str, float] | None = field(default_factory=lambda: dict(DEFAULT_FLOOR))
    avif_speed: int = DEFAULT_AVIF_SPEED
    webp_method: int = DEFAULT_WEBP_METHOD
    # Images not named by a pattern: one of STILLS. ``"lossless": True`` is "lossless" (every
    # PNG and GIF still exact, the behaviour before the classifier), False is "lossy".
    stills: str = "classify"
    # Glob patterns of static names (fnmatch, as Django's ``ignore_patterns``): images always
    # lossless (exact pixels, WebP only), images always lossy. ``lossless`` wins over ``lossy``.
    lossless: tuple[str, ...] = ()
    lossy: tuple[str, ...] = ()
    min_saving: float = DEFAULT_MIN_SAVING
    # The storage's ``workers`` option (threads), not a key of this group; None: one per core.
    workers: int | None = None

    def describe(self) -> str:
        """Everything that decides the bytes of a variant, or whether it is kept."""
        if self.floor is None:
            quality = ",".join(f"{f}={self.quality[f]}" for f in self.formats)
        else:
            floor = ",".join(f"{m}>={v}" for m, v in sorted(self.floor.items()))
            searched = ",".join(f"{f}={SEARCHED[f][0]}-{SEARCHED[f][1]}" for f in self.formats)
            quality = f"floor:{floor}/{FLOOR_DECIMALS};searched:{searched}"
        return (
            f"formats={','.join(self.formats)};quality={quality};avif_speed={self.avif_speed};"
            f"webp_method={self.webp_method};stills={self.stills};lossless={self.lossless!r};"
            f"lossy={self.lossy!r};min_saving={self.min_saving}"
        )

    def forced(self, name: str) -> str:
        """ "lossless" or "lossy" when a pattern names ``name``, else ""."""
        if any(fnmatchcase(name, pattern) for pattern in self.lossless):
            return "lossless"
        if any(fnmatchcase(name, pattern) for pattern in self.lossy):
            return "lossy"
        return ""

    @classmethod
    def from_options(cls, value: object, workers: int | None = None) -> ImageSettings | None:
        """``workers``: the storage's ``workers`` option, which encodes images too."""
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise invalid(
                WHERE, value, 'None, True or a dict such as {"formats": ["avif", "webp"]}'
            )
        group = read_group(WHERE, value, CHECKS, retired=RETIRED)
        group.raise_first()
        values = dict(group.values)
        lossless = values.get("lossless")
        if isinstance(lossless, bool):
            values["stills"], values["lossless"] = ("lossless" if lossless else "lossy"), ()
        settings = cls(**values, workers=workers)
        check_pillow(settings.formats)
        if settings.floor is not None:
            check_metric()
        return settings


def check_pillow(formats: tuple[str, ...]) -> None:
    """ImproperlyConfigured naming the option unless Pillow and its codecs are installed.

    Found without importing them: an app server or a build with nothing to encode never loads
    the codecs' shared libraries.
    """
    if find_spec("PIL") is None:
        raise ImproperlyConfigured(
            f"assetpipe: {WHERE} needs Pillow, which is not installed; install it with "
            "`pip install 'assetpipe[images]'`"
        )
    for image_format in formats:
        if find_spec(f"PIL._{image_format}") is None:
            raise ImproperlyConfigured(
                f'assetpipe: {WHERE}["formats"] has {image_format!r}, which the installed '
                "Pillow cannot encode; install Pillow 11.3 or later, whose wheels include "
                f"libavif and libwebp, or leave {image_format!r} out."
            )


def check_metric() -> None:
    """ImproperlyConfigured naming the option unless scikit-image (the floor's SSIM) is there."""
    if find_spec("skimage") is None:
        raise ImproperlyConfigured(
            f"assetpipe: {key(WHERE, 'floor')} measures variants with scikit-image, which is not "
            "installed; install it with `pip install 'assetpipe[images]'`, or set "
            f'{key(WHERE, "floor")} to None for the fixed "quality"'
        )


def _floor(where: str, value: object) -> Mapping[str, float] | None:
    expected = 'None (the fixed "quality") or a dict of metric -> score, e.g. {"ssim": 0.95}'
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise invalid(where, value, expected)
    floor = {}
    for metric, score in value.items():
        if metric not in METRICS:
            hint = did_you_mean(metric, METRICS) if isinstance(metric, str) else ""
            raise invalid(where, value, f"a dict whose keys are from {quoted(METRICS)}{hint}")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 < score <= 1:
            raise invalid(key(where, metric), score, "a score above 0 and at most 1, e.g. 0.95")
        if round(score, FLOOR_DECIMALS) != score:
            raise invalid(
                key(where, metric), score, f"a score of at most {FLOOR_DECIMALS} decimals"
            )
        floor[metric] = float(score)
    return floor


def _lossless(where: str, value: object) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    try:
        return globs(where, value)
    except ImproperlyConfigured:
        raise invalid(
            where,
            value,
            'a list of glob patterns of static names, e.g. ["icons/*", "img/logo.png"]; or True '
            "(every PNG and GIF lossless) or False (every image lossy)",
        ) from None


def _lossy(where: str, value: object) -> tuple[str, ...]:
    try:
        return globs(where, value)
    except ImproperlyConfigured:
        raise invalid(
            where, value, 'a list of glob patterns of static names, e.g. ["photos/*.png"]'
        ) from None


def _formats(where: str, value: object) -> tuple[str, ...]:
    formats = _format_names(where, value)
    if not formats:
        raise invalid(where, value, f"a non-empty list of formats from {quoted(FORMATS)}")
    return tuple(f for f in FORMATS if f in formats)


def _quality(where: str, value: object) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise invalid(where, value, 'a dict of format -> 1..100, e.g. {"avif": 55}')
    quality = dict(DEFAULT_QUALITY)
    percent = integer(1, 100)
    for image_format, number in value.items():
        if image_format not in FORMATS:
            raise invalid(where, value, f"a dict whose keys are formats from {quoted(FORMATS)}")
        quality[image_format] = percent(key(where, image_format), number)
    return quality


def _fraction(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise invalid(where, value, "a fraction of the original's size, from 0 up to (not) 1")
    return float(value)


_format_names = names_from(FORMATS, "format")

# The options of the group; ``workers`` comes from the storage's own ``workers`` option.
CHECKS: dict[str, Check[Any]] = {
    "formats": _formats,
    "quality": _quality,
    "floor": _floor,
    "avif_speed": integer(0, 10),
    "webp_method": integer(0, 6),
    "lossless": _lossless,
    "lossy": _lossy,
    "min_saving": _fraction,
}

RETIRED = {
    "workers": renamed(
        key(OPTIONS, "workers"),
        "one thread count for compressing and for encoding images",
    )
}
