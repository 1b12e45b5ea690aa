"""Decoding and encoding one image with Pillow: orientation, colour, alpha, modes, bad input."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from assetpipe.build.images.encode import Skipped, encode_image
from assetpipe.build.images.step import ANIMATED
from assetpipe.conf.images import ImageSettings
from tests.build.images.pictures import animated_gif, decode, photo, png, rgba_png, srgb_profile

LOSSY = ImageSettings(stills="lossy")


def test_photo_variants_are_smaller_and_the_same_size() -> None:
    data = photo(480, 320)
    encoded = encode_image(data, ImageSettings())
    assert (encoded.width, encoded.height) == (480, 320)
    for image_format in ("avif", "webp"):
        blob = encoded.blobs[image_format]
        assert blob is not None and len(blob) < 0.75 * len(data)
        variant = decode(blob)
        assert variant.format == image_format.upper() and variant.size == (480, 320)


def test_same_input_same_bytes() -> None:
    data = photo(300, 200, seed=7)
    assert encode_image(data, ImageSettings()) == encode_image(data, ImageSettings())


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = photo(120, 60, exif=exif.tobytes())
    encoded = encode_image(data, ImageSettings())
    assert (encoded.width, encoded.height) == (60, 120)
    for blob in encoded.blobs.values():
        assert blob is not None
        variant = decode(blob)
        assert variant.size == (60, 120)
        assert variant.getexif().get(0x0112) in (None, 1)  # not rotated a second time


def test_icc_profile_is_kept() -> None:
    profile = srgb_profile()
    encoded = encode_image(photo(200, 100, icc_profile=profile), ImageSettings())
    for blob in encoded.blobs.values():
        assert blob is not None
        assert decode(blob).info.get("icc_profile") == profile


def test_no_metadata_reaches_the_variants() -> None:
    exif = Image.Exif()
    exif[0x010F] = "ACME camera"  # Make
    encoded = encode_image(photo(200, 100, exif=exif.tobytes()), ImageSettings())
    for blob in encoded.blobs.values():
        assert blob is not None and b"ACME camera" not in blob


def test_alpha_is_kept_lossless_for_png_by_default() -> None:
    data = rgba_png()
    encoded = encode_image(data, ImageSettings())
    assert encoded.blobs["avif"] is None  # no lossy AVIF of an exact-pixel source
    webp = encoded.blobs["webp"]
    assert webp is not None
    variant, original = decode(webp), decode(data)
    assert variant.mode == "RGBA"
    # Exact wherever a pixel shows; fully transparent pixels may lose their invisible colour.
    for xy in ((x, y) for x in range(64) for y in range(64)):
        pixel, expected = variant.getpixel(xy), original.getpixel(xy)
        assert pixel == expected or (pixel[3] == expected[3] == 0)  # type: ignore[index]


def test_alpha_is_kept_in_lossy_variants() -> None:
    encoded = encode_image(rgba_png(), LOSSY)
    for blob in encoded.blobs.values():
        assert blob is not None
        variant = decode(blob)
        assert variant.mode == "RGBA"
        assert variant.getchannel("A").getextrema() != (255, 255)


def two_colour_palette() -> Image.Image:
    image = Image.new("P", (40, 30), 0)
    image.putpalette([0, 0, 0, 200, 30, 30])
    image.paste(1, (0, 0, 20, 30))
    return image


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda: png(two_colour_palette(), transparency=0), "RGBA"),
        (lambda: png(two_colour_palette()), "RGB"),
        (lambda: png(Image.new("LA", (40, 30), (90, 128))), "RGBA"),
        (lambda: png(Image.new("L", (40, 30), 90)), "RGB"),
        (lambda: png(Image.new("1", (40, 30), 1)), "RGB"),
    ],
    ids=["P+transparency", "P", "LA", "L", "1"],
)
def test_modes_are_converted(make, mode: str) -> None:  # type: ignore[no-untyped-def]
    for settings in (ImageSettings(), LOSSY):
        encoded = encode_image(make(), settings)
        blobs = [b for b in encoded.blobs.values() if b is not None]
        assert blobs
        for blob in blobs:
            assert decode(blob).mode == mode


def test_cmyk_jpeg_becomes_rgb() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(out, "JPEG", quality=95)  # red
    encoded = encode_image(out.getvalue(), LOSSY)
    for blob in encoded.blobs.values():
        assert blob is not None
        variant = decode(blob).convert("RGB")
        red, green, blue = variant.getpixel((32, 24))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60


def test_16_bit_greyscale_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (32, 32))
    image.paste(32896, (0, 0, 16, 32))  # half way: 128 in 8 bits
    image.paste(65535, (16, 0, 32, 32))
    data = png(image)
    assert decode(data).mode.startswith("I")
    webp = encode_image(data, ImageSettings()).blobs["webp"]
    assert webp is not None
    variant = decode(webp).convert("RGB")
    assert variant.getpixel((4, 4)) == (128, 128, 128)
    assert variant.getpixel((20, 4)) == (255, 255, 255)


def test_animated_gif_is_skipped() -> None:
    with pytest.raises(Skipped, match=ANIMATED):
        encode_image(animated_gif(), ImageSettings())


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xd8\xff\xe0 not a jpeg", photo(200, 100)[:2000], b"GIF89a" + b"\0" * 10],
    ids=["empty", "garbage", "truncated", "bad-gif"],
)
def test_bad_input_is_skipped(data: bytes) -> None:
    with pytest.raises(Skipped, match="not a readable image"):
        encode_image(data, ImageSettings())


def test_decompression_bomb_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    data = photo(160, 120)  # over the limit, under twice it: Pillow only warns
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(Skipped, match="pixel limit"):
            encode_image(data, ImageSettings())
    with pytest.raises(Skipped, match="pixel limit"):
        encode_image(photo(300, 200), ImageSettings())  # over twice: an error anyway
