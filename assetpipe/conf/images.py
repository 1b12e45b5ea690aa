"""``STORAGES["staticfiles"]["OPTIONS"]["images"]``: which image variants to write, and how.

Plain data, validated once, without importing Pillow until the option is known to be on: a
build without images never loads it. The defaults and why they were chosen are in
docs/how-to/images.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.kit import (
    OPTIONS,
    Check,
    boolean,
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

# WebP 80 is PageSpeed's and Wagtail's quality; AVIF 55 is Next.js's (its 75 less 20) and sits
# in the 50-60 band the build tools use: Pillow's own AVIF default (75) gave larger files than
# WebP 80 on photos, as the quality scales of the two codecs are not comparable.
DEFAULT_QUALITY: Mapping[str, int] = {"avif": 55, "webp": 80}
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
    avif_speed: int = DEFAULT_AVIF_SPEED
    webp_method: int = DEFAULT_WEBP_METHOD
    # PNG and GIF stills get lossless WebP (exact pixels, no AVIF); False: lossy, like photos.
    lossless: bool = True
    min_saving: float = DEFAULT_MIN_SAVING
    # The storage's ``workers`` option (threads), not a key of this group; None: one per core.
    workers: int | None = None

    def describe(self) -> str:
        """Everything that decides the bytes of a variant, or whether it is kept."""
        quality = ",".join(f"{f}={self.quality[f]}" for f in self.formats)
        return (
            f"formats={','.join(self.formats)};quality={quality};avif_speed={self.avif_speed};"
            f"webp_method={self.webp_method};lossless={self.lossless};min_saving={self.min_saving}"
        )

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
        settings = cls(**group.values, workers=workers)
        check_pillow(settings.formats)
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
    "avif_speed": integer(0, 10),
    "webp_method": integer(0, 6),
    "lossless": boolean,
    "min_saving": _fraction,
}

RETIRED = {
    "workers": renamed(
        key(OPTIONS, "workers"),
        "one thread count for compressing and for encoding images",
    )
}
