"""Images made by the tests: small, deterministic, each showing one property."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageCms, ImageDraw, ImageFilter


def photo(width: int = 480, height: int = 320, seed: int = 1, **save: object) -> bytes:
    """A photo-like JPEG (gradients, shapes, blur, grain): AVIF and WebP beat it easily."""
    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB",
        (
            gradient,
            Image.radial_gradient("L").resize((width, height)),
            gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(10, 120), y + rng.randrange(10, 90)), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(4))
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    image = Image.merge("RGB", [Image.blend(c, grain, 0.08) for c in image.split()])
    out = io.BytesIO()
    image.save(out, "JPEG", **{"quality": 92, **save})
    return out.getvalue()


def png(image: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


def rgba_png(size: int = 64) -> bytes:
    """A gradient with a soft alpha ramp: lossless WebP is far smaller than Pillow's PNG."""
    image = Image.new("RGBA", (size, size))
    image.putdata(
        [
            (x * 4 % 256, y * 4 % 256, 128, (x + y) * 2 % 256)
            for y in range(size)
            for x in range(size)
        ]
    )
    return png(image, compress_level=0)


def srgb_profile() -> bytes:
    """littleCMS's sRGB profile, its creation time (header bytes 24-35) zeroed: the same
    bytes in every run."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = bytes(12)
    return bytes(profile)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
