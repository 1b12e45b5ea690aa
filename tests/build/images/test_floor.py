"""The perceptual floor and the PNG classifier, on real photographs and real graphics.

The photographs are scikit-image's bundled samples (public domain or its authors' own, see
skimage/data/README.txt): PNG and JPEG, one cut out on a transparent ground. The graphics are
scikit-image's logo and phantom, a drawn UI screenshot with text, and Django admin's SVG icons.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from assetpipe.build.images.classify import is_photo
from assetpipe.build.images.floor import lowest_passing
from tests.build.images.pictures import decode, downscaled, sample, screenshot
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

FLOOR = 0.95
PHOTOS = ("photos/astronaut.png", "photos/chelsea.png", "photos/coffee.png", "photos/rocket.jpg")
GRAPHICS = ("img/logo.png", "img/screenshot.png", "img/phantom.gif")


def write_tree(project: StaticProject) -> None:
    project.write("photos/astronaut.png", downscaled(sample("astronaut.png"), 2, alpha=True))
    project.write("photos/chelsea.png", sample("chelsea.png"))
    project.write("photos/coffee.png", sample("coffee.png"))
    project.write("photos/rocket.jpg", sample("rocket.jpg"))
    project.write("img/logo.png", sample("logo.png"))
    project.write("img/screenshot.png", screenshot())
    phantom = io.BytesIO()
    decode(sample("phantom.png")).convert("P").save(phantom, "GIF")
    project.write("img/phantom.gif", phantom.getvalue())  # a GIF still
    project.write("img/spinner.gif", sample("no_time_for_that_tiny.gif"))  # animated
    admin = files("django.contrib.admin").joinpath("static/admin/img")
    for icon in ("icon-yes.svg", "icon-alert.svg", "search.svg"):
        project.write(f"admin/{icon}", admin.joinpath(icon).read_bytes())
    # Overrides by name: a photograph kept exact, a screenshot made lossy.
    project.write("keep/chelsea.png", downscaled(sample("chelsea.png"), 1))  # other bytes
    project.write("forced/screenshot.png", screenshot(330, 200))


OPTIONS: dict[str, Any] = {"lossless": ["keep/*"], "lossy": ["forced/*"]}


def ssim(original: bytes, variant: bytes) -> float:
    """Measured here from the files, as the docs describe it: luma, Gaussian SSIM, an image with
    alpha composited on black and on white, the lower score, rounded to 4 decimals."""
    source = decode(original)
    mode = "RGBA" if "A" in source.getbands() or "transparency" in source.info else "RGB"
    pair = [
        np.asarray(image.convert(mode), dtype=np.float64) for image in (source, decode(variant))
    ]
    scores = []
    backgrounds = (0.0, 255.0) if mode == "RGBA" else (None,)
    for background in backgrounds:
        planes = []
        for pixels in pair:
            luma = pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
            if background is not None:
                alpha = pixels[..., 3] / 255.0
                luma = luma * alpha + background * (1 - alpha)
            planes.append(luma)
        score = structural_similarity(  # type: ignore[no-untyped-call]
            *planes, data_range=255.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
        scores.append(float(score))
    return round(min(scores), 4)


def chunks(webp: bytes) -> set[bytes]:
    """The RIFF chunk ids of a WebP file: VP8L is lossless, VP8 (with ALPH) lossy."""
    found, at = set(), 12
    while at + 8 <= len(webp):
        size = int.from_bytes(webp[at + 4 : at + 8], "little")
        found.add(webp[at : at + 4])
        at += 8 + size + size % 2
    return found


def test_photographs_get_lossy_variants_at_the_floor_and_graphics_stay_exact(
    project: StaticProject,
) -> None:
    write_tree(project)
    project.configure(images=OPTIONS)
    project.collect()
    root, paths = project.root, project.manifest()
    stored = json.loads(project.read("staticfiles.json"))["images"]

    original = served = 0
    for name in PHOTOS:
        data = project.read(name)
        avif, webp = project.read(f"{name}.avif"), project.read(f"{name}.webp")
        for variant in (avif, webp):
            assert ssim(data, variant) >= FLOOR, name  # every written variant meets the floor
        assert stored[name]["formats"] == ["avif", "webp"]
        original += len(data)
        served += len(avif)
    # A browser taking AVIF gets at least 75% fewer image bytes than the originals.
    assert served <= 0.25 * original, (served, original)

    # The photograph on a transparent ground keeps its transparency, in both formats.
    for suffix in (".avif", ".webp"):
        cut_out = decode(project.read(f"photos/astronaut.png{suffix}"))
        assert cut_out.mode == "RGBA" and cut_out.getchannel("A").getextrema() == (0, 255)

    for name in (*GRAPHICS, "keep/chelsea.png"):
        assert not (root / f"{name}.avif").exists(), name
        webp = project.read(f"{name}.webp")
        assert b"VP8L" in chunks(webp) and b"VP8 " not in chunks(webp), name
        # Exact wherever a pixel shows (premultiplied: a transparent pixel's colour is none).
        exact = decode(webp).convert("RGBA").convert("RGBa").tobytes()
        assert exact == decode(project.read(name)).convert("RGBA").convert("RGBa").tobytes()
        assert stored[name]["formats"] == ["webp"]
    # The pattern beats the classifier both ways.
    forced = project.read("forced/screenshot.png.avif")
    assert ssim(project.read("forced/screenshot.png"), forced) >= FLOOR
    # Animated images and SVG icons are left alone.
    for name in ("img/spinner.gif", "admin/icon-yes.svg", "admin/search.svg"):
        for hashed in (name, paths[name]):
            for suffix in (".avif", ".webp"):
                assert not (root / f"{hashed}{suffix}").exists(), hashed
    assert "img/spinner.gif" not in stored

    # A second build encodes nothing: every variant is reused.
    before = project.files()
    out, _ = project.collect()
    assert "0 images converted (" in out
    assert project.files() == before


def test_two_builds_with_fresh_caches_give_identical_bytes(tmp_path: Path, settings: Any) -> None:
    trees = []
    for label in ("a", "b"):
        project = StaticProject(tmp_path / label, settings)
        write_tree(project)
        project.configure(images=OPTIONS)
        project.collect()
        trees.append(project.files())
    assert trees[0] == trees[1]
    assert sum(name.endswith(".avif") for name in trees[0]) == 2 * (len(PHOTOS) + 1)


@pytest.mark.parametrize(
    ("name", "photo"),
    [
        ("astronaut.png", True),
        ("chelsea.png", True),
        ("coffee.png", True),
        ("camera.png", True),  # grey, 256 levels
        ("motorcycle_left.png", True),
        ("logo.png", False),
        ("phantom.png", False),
        ("chessboard_RGB.png", False),
        ("text.png", True),  # a photograph of a page, not rendered text
    ],
)
def test_the_classifier_on_scikit_image_s_samples(name: str, photo: bool) -> None:
    image = decode(sample(name))
    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    assert is_photo(image) is photo


def test_the_classifier_on_drawn_graphics() -> None:
    assert not is_photo(decode(screenshot()).convert("RGB"))
    # A photograph too small to be more than an icon.
    assert not is_photo(decode(downscaled(sample("chelsea.png"), 8)).convert("RGB"))
    # A photograph mostly transparent: a shape, a graphic; mostly opaque: a photograph.
    cut_out = decode(downscaled(sample("chelsea.png"), 2, alpha=True)).convert("RGBA")
    assert is_photo(cut_out)
    alpha = Image.new("L", cut_out.size, 0)
    alpha.paste(255, (0, 0, cut_out.width // 3, cut_out.height))
    cut_out.putalpha(alpha)
    assert not is_photo(cut_out)


def test_bisection_returns_the_lowest_passing_quality_it_measured() -> None:
    tried: list[int] = []

    def encode(quality: int) -> bytes:
        tried.append(quality)
        return bytes([quality])

    def at_least(quality: int) -> Callable[[bytes], bool]:
        return lambda blob: blob[0] >= quality

    for lowest in (20, 21, 50, 82, 83):
        tried.clear()
        found = lowest_passing(encode, at_least(lowest), 20, 83)
        assert found == (lowest, bytes([lowest]))
        assert len(tried) <= 7 and len(set(tried)) == len(tried)
    tried.clear()
    assert lowest_passing(encode, lambda blob: False, 20, 83) is None
    assert len(tried) == 7 and tried[-1] == 83  # the top is tried last, once
    # Not monotonic: whatever comes back was measured passing.
    bumpy = {40: False, 51: True, 45: False, 48: True, 46: True}
    found = lowest_passing(encode, lambda blob: bumpy.get(blob[0], blob[0] > 60), 20, 83)
    assert found is not None and bumpy.get(found[0], found[0] > 60)
