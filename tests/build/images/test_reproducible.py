"""The same images give the same variant bytes on every Python and machine.

CI runs this on each declared Python (nox's ``tests`` sessions): each must reach the digest
recorded here for the encoder versions it runs. With other versions of Pillow or its codecs the
bytes may differ by design (the versions are part of the step's key), so a lock update that
brings new ones records their digest deliberately; until then the test fails under CI (and skips
elsewhere). To record it, run

    ASSETPIPE_RECORD_IMAGE_DIGESTS=1 ./dev test tests/build/images/test_reproducible.py

which fails with the entry to add to ``KNOWN`` (docs/how-to/contributing.md).

``KNOWN`` is for the fixed qualities (``"floor": None``, with PNGs lossless as before the
classifier: its entry predates the floor, so these bytes are the ones the step wrote then);
``KNOWN_FLOOR`` is for the defaults, the perceptual floor, whose choice of quality also depends
on the metric's packages, so its key names them too.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os

import pytest
from PIL import Image

from assetpipe.build.images.encode import encode_image, library_versions
from assetpipe.build.images.floor import metric_versions
from assetpipe.conf.images import ImageSettings
from tests.build.images.pictures import photo, png, rgba_png, srgb_profile
from tests.conftest import skip_outside_ci

# encoder library versions -> SHA-256 of every variant of INPUTS under SETTINGS, in order
KNOWN = {
    "Pillow 13.0.0; webp 1.6.0; avif 1.4.2; jpg 6.2; zlib 1.2.13; littlecms2 2.19; avif codecs "
    "dav1d [dec]:1.5.3-0-gb546257, aom [enc]:3.14.1": (
        "7ff919f393d208da85021c4edd5fd1bedee3f0cce1d9a8517b8eecf09d5c678d"
    ),
}
SETTINGS = (
    ImageSettings(floor=None, stills="lossless"),
    ImageSettings(floor=None, stills="lossy", avif_speed=6, webp_method=6),
)
# encoder and metric versions -> SHA-256 of every variant of INPUTS under FLOOR_SETTINGS
KNOWN_FLOOR = {
    "Pillow 13.0.0; webp 1.6.0; avif 1.4.2; jpg 6.2; zlib 1.2.13; littlecms2 2.19; avif codecs "
    "dav1d [dec]:1.5.3-0-gb546257, aom [enc]:3.14.1; floor metric 1; scikit-image 0.26.0": (
        "1f1bf1bf4d8ee12ec725c30b57b90e49a495662b72295548e8de5511d83823f5"
    ),
}
FLOOR_SETTINGS = (ImageSettings(), ImageSettings(stills="lossy"))
TABLES = {
    "fixed": (KNOWN, SETTINGS, library_versions),
    "floor": (KNOWN_FLOOR, FLOOR_SETTINGS, lambda: f"{library_versions()}; {metric_versions()}"),
}
# Set to print the entry for the installed encoder versions instead of skipping without one.
RECORD = "ASSETPIPE_RECORD_IMAGE_DIGESTS"


def inputs() -> list[bytes]:
    exif = Image.Exif()
    exif[0x0112] = 8
    cmyk = io.BytesIO()
    Image.new("CMYK", (40, 30), (10, 200, 30, 5)).save(cmyk, "JPEG", quality=90)
    return [
        photo(640, 427, seed=3),
        photo(300, 200, seed=4, exif=exif.tobytes(), icc_profile=srgb_profile()),
        rgba_png(96),
        png(Image.new("P", (50, 40), 1), transparency=0),
        cmyk.getvalue(),
    ]


def digest(settings_list: tuple[ImageSettings, ...] = SETTINGS) -> str:
    sha = hashlib.sha256()
    for settings in settings_list:
        for data in inputs():
            for image_format, blob in encode_image(data, settings).blobs.items():
                sha.update(image_format.encode() + b"\0" + (blob or b"") + b"\0")
    return sha.hexdigest()


def known_entry(versions: str, value: str) -> str:
    """The lines to add to ``KNOWN`` for ``versions``, formatted as the entries above."""
    return f"    {versions!r}: (\n        {value!r}\n    ),"


@pytest.mark.parametrize("table", TABLES)
def test_variant_bytes_are_the_recorded_ones(table: str) -> None:
    known, settings, versions_of = TABLES[table]
    versions = versions_of()
    expected = known.get(versions)
    if expected is None:
        value = digest(settings)
        if os.environ.get(RECORD):
            name = "KNOWN" if table == "fixed" else "KNOWN_FLOOR"
            pytest.fail(f"add to {name} in {__file__}:\n{known_entry(versions, value)}")
        skip_outside_ci(
            f"no digest recorded for the encoder versions installed ({versions!r}); after "
            "checking that only the new versions changed the bytes, record theirs with "
            f"{RECORD}=1 ./dev test {__name__.replace('.', '/')}.py"
        )
    assert digest(settings) == expected, (
        f"the variants' bytes changed with the same encoder versions ({versions!r}): the "
        "images step is no longer deterministic, or its settings changed"
    )


def test_the_printed_entry_is_one_to_paste_into_known() -> None:
    versions = library_versions()
    assert ast.literal_eval("{" + known_entry(versions, "0" * 64) + "}") == {versions: "0" * 64}


def test_variant_bytes_do_not_depend_on_the_cores_available() -> None:
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this platform")
    everything = os.sched_getaffinity(0)
    before = digest(SETTINGS + FLOOR_SETTINGS)
    os.sched_setaffinity(0, {min(everything)})
    try:
        one_core = digest(SETTINGS + FLOOR_SETTINGS)
    finally:
        os.sched_setaffinity(0, everything)
    assert one_core == before
