"""The ``images`` option: defaults, and errors that name the option and the bad value."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf import images as image_settings
from assetpipe.conf.images import ImageSettings
from assetpipe.conf.options import parse_storage_options, storage_option_problems

WHERE = re.escape('STORAGES["staticfiles"]["OPTIONS"]["images"]')


def parse(value: object) -> ImageSettings | None:
    return parse_storage_options({"images": value})[0].images


def test_off_by_default_and_when_none_or_false() -> None:
    assert parse_storage_options({})[0].images is None
    assert parse(None) is None and parse(False) is None


def test_defaults() -> None:
    assert parse({}) == parse(True) == ImageSettings()
    settings = ImageSettings()
    assert settings.formats == ("avif", "webp")
    assert dict(settings.quality) == {"avif": 55, "webp": 80}
    assert (settings.avif_speed, settings.webp_method) == (8, 4)
    assert dict(settings.floor or {}) == {"ssim": 0.95}
    assert settings.stills == "classify" and settings.lossless == settings.lossy == ()
    assert settings.min_saving == 0.1


def test_given_values() -> None:
    settings = parse(
        {
            "formats": ["webp", "avif"],
            "quality": {"webp": 75},
            "avif_speed": 6,
            "min_saving": 0,
            "floor": {"ssim": 0.97},
            "lossless": ["icons/*", "img/logo.png"],
            "lossy": ["photos/*"],
        }
    )
    assert settings is not None
    assert settings.formats == ("avif", "webp")  # the order a server prefers them in
    assert dict(settings.quality) == {"avif": 55, "webp": 75}
    assert (settings.avif_speed, settings.min_saving) == (6, 0.0)
    assert dict(settings.floor or {}) == {"ssim": 0.97}
    assert settings.lossless == ("icons/*", "img/logo.png") and settings.lossy == ("photos/*",)
    assert settings.forced("icons/a/b.png") == "lossless"
    assert settings.forced("photos/cat.12ab34cd56ef.png") == "lossy"
    assert settings.forced("img/hero.png") == ""


def test_floor_none_is_the_fixed_quality() -> None:
    settings = parse({"floor": None, "quality": {"avif": 60}})
    assert settings is not None and settings.floor is None
    assert dict(settings.quality) == {"avif": 60, "webp": 80}
    assert "floor" not in settings.describe()


@pytest.mark.parametrize(("value", "stills"), [(True, "lossless"), (False, "lossy")])
def test_boolean_lossless_keeps_its_meaning(value: bool, stills: str) -> None:
    # True: every PNG and GIF lossless as before the classifier; False: every image lossy.
    settings = parse({"lossless": value})
    assert settings is not None
    assert (settings.stills, settings.lossless) == (stills, ())
    assert settings.describe() != ImageSettings().describe()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("avif", rf"{WHERE} is 'avif' \(str\); expected None, True or a dict"),
        (
            {"format": ["avif"]},
            rf'{WHERE}\["format"\] is not an option \(did you mean "formats"\?\); expected one of',
        ),
        (
            {"formats": "avif"},
            rf'{WHERE}\["formats"\] is \'avif\' \(str\); expected a list of formats',
        ),
        ({"formats": []}, rf'{WHERE}\["formats"\] is \[\] \(list\)'),
        ({"formats": ["jxl"]}, rf'{WHERE}\["formats"\] is \[\'jxl\'\] \(list\); expected a list'),
        ({"formats": ["webp", "webp"]}, "each format at most once"),
        ({"quality": {"avif": 0}}, rf'{WHERE}\["quality"\]\["avif"\] is 0 \(int\); expected an'),
        ({"quality": {"avif": "high"}}, r'\["quality"\]\["avif"\] is \'high\''),
        ({"quality": {"jpeg": 80}}, rf'{WHERE}\["quality"\] is \{{\'jpeg\': 80\}}'),
        (
            {"avif_speed": 11},
            rf'{WHERE}\["avif_speed"\] is 11 \(int\); expected an integer from 0 to 10',
        ),
        ({"webp_method": True}, r'\["webp_method"\] is True \(bool\)'),
        ({"min_saving": 1}, rf'{WHERE}\["min_saving"\] is 1 \(int\); expected a fraction'),
        (
            {"lossless": "icons/*"},
            r'\["lossless"\] is \'icons/\*\' \(str\); expected a list of glob patterns',
        ),
        ({"lossy": [""]}, r'\["lossy"\] is \[\'\'\] \(list\); expected a list of glob patterns'),
        ({"floor": 0.95}, rf'{WHERE}\["floor"\] is 0.95 \(float\); expected None'),
        ({"floor": {}}, rf'{WHERE}\["floor"\] is \{{\}} \(dict\); expected None'),
        ({"floor": {"ssmi": 0.9}}, r'keys are from "ssim" \(did you mean "ssim"\?\)'),
        ({"floor": {"ssim": 1.5}}, rf'{WHERE}\["floor"\]\["ssim"\] is 1.5 \(float\); expected a'),
        ({"floor": {"ssim": 0}}, r'\["floor"\]\["ssim"\] is 0 \(int\); expected a score above'),
        ({"floor": {"ssim": 0.95001}}, r"expected a score of at most 4 decimals"),
    ],
)
def test_errors_name_the_option_and_the_value(value: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        parse(value)
    # manage.py check reports the same problem.
    (problem,) = storage_option_problems({"images": value})
    assert re.search(message, str(problem))


def test_images_are_encoded_with_the_storage_s_workers() -> None:
    # One thread count for compressing and encoding: the images group has none of its own.
    options, _ = parse_storage_options({"images": {}, "workers": 3})
    assert options.images is not None and options.images.workers == 3
    assert parse({}) == ImageSettings(workers=None)


def test_missing_pillow_names_the_option_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_settings, "find_spec", lambda name: None)
    with pytest.raises(ImproperlyConfigured) as info:
        parse({})
    assert str(info.value) == (
        f"assetpipe: {WHERE.replace(chr(92), '')} needs Pillow, which is not installed; "
        "install it with `pip install 'assetpipe[images]'`"
    )


def test_a_floor_without_scikit_image_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.util import find_spec

    monkeypatch.setattr(
        image_settings, "find_spec", lambda name: None if name == "skimage" else find_spec(name)
    )
    with pytest.raises(ImproperlyConfigured, match=r'\["floor"\] measures variants with scikit'):
        parse({})
    assert parse({"floor": None}) is not None


def test_a_pillow_without_avif_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.util import find_spec

    monkeypatch.setattr(
        image_settings, "find_spec", lambda name: None if name == "PIL._avif" else find_spec(name)
    )
    with pytest.raises(ImproperlyConfigured, match=r"has 'avif', which the installed Pillow"):
        parse({})
    assert parse({"formats": ["webp"]}) is not None
