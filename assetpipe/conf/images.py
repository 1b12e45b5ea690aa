"""``STORAGES["staticfiles"]["OPTIONS"]["images"]``: which image variants to write, and how.

Plain data, validated once, without importing Pillow until the option is known to be on: a
build without images never loads it. The defaults and why they were chosen are in
docs/how-to/images.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec

from django.core.exceptions import ImproperlyConfigured

from assetpipe.naming import IMAGE_VARIANTS

WHERE = 'STORAGES["staticfiles"]["OPTIONS"]["images"]'

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

_KEYS = ("formats", "quality", "avif_speed", "webp_method", "lossless", "min_saving", "workers")


@dataclass(frozen=True)
class ImageSettings:
    formats: tuple[str, ...] = FORMATS  # in IMAGE_VARIANTS' order, whatever order was given
    quality: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_QUALITY))
    avif_speed: int = DEFAULT_AVIF_SPEED
    webp_method: int = DEFAULT_WEBP_METHOD
    # PNG and GIF stills get lossless WebP (exact pixels, no AVIF); False: lossy, like photos.
    lossless: bool = True
    min_saving: float = DEFAULT_MIN_SAVING
    workers: int | None = None  # None: one per core

    def describe(self) -> str:
        """Everything that decides the bytes of a variant, or whether it is kept."""
        quality = ",".join(f"{f}={self.quality[f]}" for f in self.formats)
        return (
            f"formats={','.join(self.formats)};quality={quality};avif_speed={self.avif_speed};"
            f"webp_method={self.webp_method};lossless={self.lossless};min_saving={self.min_saving}"
        )

    @classmethod
    def from_options(cls, value: object) -> ImageSettings | None:
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, Mapping):
            raise _invalid("", value, 'None, True or a dict such as {"formats": ["avif", "webp"]}')
        unknown = [key for key in value if key not in _KEYS]
        if unknown:
            raise ImproperlyConfigured(
                f"assetpipe: {WHERE} has an unknown key {unknown[0]!r}; expected keys from "
                f"{', '.join(_KEYS)}."
            )
        settings = cls(
            formats=_formats(value.get("formats", list(FORMATS))),
            quality=_quality(value.get("quality", {})),
            avif_speed=_integer("avif_speed", value.get("avif_speed", DEFAULT_AVIF_SPEED), 0, 10),
            webp_method=_integer(
                "webp_method", value.get("webp_method", DEFAULT_WEBP_METHOD), 0, 6
            ),
            lossless=_boolean("lossless", value.get("lossless", True)),
            min_saving=_fraction("min_saving", value.get("min_saving", DEFAULT_MIN_SAVING)),
            workers=_workers(value.get("workers")),
        )
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


def _invalid(key: str, value: object, expected: str) -> ImproperlyConfigured:
    where = f'{WHERE}["{key}"]' if key else WHERE
    return ImproperlyConfigured(
        f"assetpipe: {where} is {value!r} ({type(value).__name__}); expected {expected}."
    )


def _formats(value: object) -> tuple[str, ...]:
    choices = ", ".join(repr(f) for f in FORMATS)
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise _invalid("formats", value, f"a non-empty list of formats from {choices}")
    for image_format in value:
        if image_format not in FORMATS:
            raise ImproperlyConfigured(
                f'assetpipe: {WHERE}["formats"] has an unknown format {image_format!r}; '
                f"expected formats from {choices}."
            )
    if len(set(value)) != len(value):
        raise _invalid("formats", value, "each format at most once")
    return tuple(f for f in FORMATS if f in value)


def _quality(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise _invalid("quality", value, 'a dict of format -> 1..100, e.g. {"avif": 55}')
    quality = dict(DEFAULT_QUALITY)
    for image_format, number in value.items():
        if image_format not in FORMATS:
            raise _invalid("quality", value, f"formats from {', '.join(map(repr, FORMATS))}")
        quality[image_format] = _integer(f'quality"]["{image_format}', number, 1, 100)
    return quality


def _integer(key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(key, value, f"an integer from {low} to {high}")
    return value


def _boolean(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _invalid(key, value, "True or False")
    return value


def _fraction(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise _invalid(key, value, "a fraction of the original's size, from 0 up to (not) 1")
    return float(value)


def _workers(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid("workers", value, "None (one thread per core) or an integer >= 1")
    return value
