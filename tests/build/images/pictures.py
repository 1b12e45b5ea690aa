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


def sample(name: str) -> bytes:
    """One of scikit-image's bundled sample images (``skimage/data``), as its file's bytes:
    photographs (astronaut, chelsea, coffee, camera: PNG; rocket: JPEG) and graphics (logo)."""
    from importlib.resources import files

    return files("skimage.data").joinpath(name).read_bytes()


def downscaled(data: bytes, factor: int, alpha: bool = False) -> bytes:
    """A photograph made smaller (to keep tests fast), as PNG; with ``alpha``, an elliptical
    cut-out with a soft edge, the way a product photo on a transparent ground looks."""
    image = decode(data).convert("RGB")
    image = image.resize((image.width // factor, image.height // factor), Image.Resampling.LANCZOS)
    if alpha:
        mask = Image.new("L", image.size, 0)
        ImageDraw.Draw(mask).ellipse((0, 0, image.width - 1, image.height - 1), fill=255)
        image.putalpha(mask.filter(ImageFilter.GaussianBlur(3)))
    return png(image)


def screenshot(width: int = 320, height: int = 200) -> bytes:
    """A UI screenshot: flat panels, a few colours, anti-aliased text, sharp edges."""
    image = Image.new("RGB", (width, height), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 28), fill=(64, 112, 160))
    draw.text((8, 8), "Site administration", fill="white")
    for row in range(5):
        top = 40 + row * 30
        draw.rectangle((8, top, width - 8, top + 24), fill="white", outline=(220, 220, 220))
        draw.text((16, top + 6), f"Item {row}: Lorem ipsum dolor sit amet", fill=(51, 51, 51))
        draw.ellipse((width - 30, top + 6, width - 18, top + 18), fill=(112, 191, 43))
    return png(image)
