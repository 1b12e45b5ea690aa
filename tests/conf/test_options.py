"""``STORAGES["staticfiles"]["OPTIONS"]``: every option validated, the rest left to Django."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.options import (
    _VALIDATORS,
    DJANGO_OPTIONS,
    SETTING,
    StorageOptions,
    parse_storage_options,
    storage_option_problems,
)


def error_for(options: dict[str, Any]) -> str:
    with pytest.raises(ImproperlyConfigured) as error:
        parse_storage_options(options)
    message = str(error.value)
    assert "\n" not in message  # one paragraph
    return message


def test_no_options_are_the_defaults() -> None:
    assert parse_storage_options({}) == (StorageOptions(), {})


def test_every_option_has_a_validator() -> None:
    assert set(_VALIDATORS) == {field.name for field in fields(StorageOptions)}
    assert not DJANGO_OPTIONS & set(_VALIDATORS)


def test_django_options_are_those_its_storage_accepts(tmp_path: Path) -> None:
    assert {
        "location",
        "base_url",
        "file_permissions_mode",
        "directory_permissions_mode",
        "allow_overwrite",
        "manifest_storage",
    } == DJANGO_OPTIONS
    given = {
        "location": str(tmp_path),
        "base_url": "/assets/",
        "file_permissions_mode": 0o644,
        "directory_permissions_mode": 0o755,
        "allow_overwrite": True,
        "manifest_storage": None,
    }
    options, rest = parse_storage_options({**given, "strict": True})
    assert options == StorageOptions(strict=True)
    assert rest == given
    storage = ManifestStaticFilesStorage(**rest)
    assert storage.base_url == "/assets/"


def test_valid_options_are_normalised(tmp_path: Path) -> None:
    options, rest = parse_storage_options(
        {
            "encodings": ["gzip"],
            "strict": True,
            "js_module_imports": True,
            "skip_compress_extensions": [".JPG", "png"],
            "state_dir": tmp_path,
            "compress_workers": 2,
            "s3": {"bucket_name": "acme", "location": "static"},
        }
    )
    assert rest == {}
    assert options.encodings == ("gzip",)
    assert options.strict is options.js_module_imports is True
    assert options.skip_compress_extensions == frozenset({"jpg", "png"})
    assert options.state_dir == str(tmp_path)
    assert options.compress_workers == 2
    assert options.s3 == {"bucket_name": "acme", "location": "static"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"encodings": []}, StorageOptions(encodings=())),
        ({"encodings": ("br",)}, StorageOptions(encodings=("br",))),
        ({"skip_compress_extensions": []}, StorageOptions(skip_compress_extensions=frozenset())),
        ({"skip_compress_extensions": None}, StorageOptions()),
        ({"state_dir": None, "compress_workers": None, "s3": None}, StorageOptions()),
        ({"debug_missing": "warn"}, StorageOptions(debug_missing="warn")),
        ({"debug_missing": "ignore"}, StorageOptions(debug_missing="ignore")),
    ],
)
def test_empty_and_none_values(options: dict[str, Any], expected: StorageOptions) -> None:
    assert parse_storage_options(options)[0] == expected


def test_an_unknown_option_is_named_with_a_close_match() -> None:
    message = error_for({"encoding": ["br"]})
    assert message.startswith(f"assetpipe: {SETTING} has an unknown option 'encoding'")
    assert "(did you mean 'encodings'?)" in message
    assert (
        "compress_workers, cors, debug_missing, edge, encodings, images, import_map, integrity, "
        "js_module_imports, lock_timeout, prehashed, s3" in message
    )
    assert "Django's storage also takes allow_overwrite, base_url" in message


@pytest.mark.parametrize(
    ("option", "suggestion"),
    [("compress_worker", "compress_workers"), ("stateDir", "state_dir"), ("base_uri", "base_url")],
)
def test_close_matches(option: str, suggestion: str) -> None:
    assert f"(did you mean {suggestion!r}?)" in error_for({option: 1})


def test_an_unknown_option_without_a_close_match() -> None:
    message = error_for({"zzz": "blue"})
    assert "unknown option 'zzz'" in message
    assert "did you mean" not in message


INVALID: list[tuple[str, object, str]] = [
    (
        "compress_workers",
        "4",
        "is '4' (str); expected None (one thread per core) or an integer >= 1",
    ),
    ("compress_workers", 0, "is 0 (int); expected None (one thread per core) or an integer >= 1"),
    ("compress_workers", -2, "an integer >= 1"),
    ("compress_workers", 2.0, "is 2.0 (float)"),
    ("compress_workers", True, "is True (bool)"),
    ("strict", "no", "is 'no' (str); expected True or False"),
    ("strict", 1, "is 1 (int); expected True or False"),
    ("strict", None, "expected True or False"),
    ("js_module_imports", "yes", "expected True or False"),
    ("encodings", "br", "is 'br' (str); expected a list of encoding names from 'br', 'gzip'"),
    ("encodings", None, "expected a list of encoding names"),
    ("encodings", {"br"}, "expected a list of encoding names"),
    ("encodings", ["zstd"], "has an unknown encoding 'zstd'; expected names from 'br', 'gzip'"),
    ("encodings", ["gz"], "unknown encoding 'gz' (did you mean 'gzip'?)"),
    ("encodings", ["br", 1], "unknown encoding 1;"),
    ("encodings", ["br", "br"], "expected each encoding at most once"),
    ("skip_compress_extensions", "jpg", "expected None or a list of file extensions"),
    ("skip_compress_extensions", ["jpg", 1], "expected None or a list of file extensions"),
    ("skip_compress_extensions", ["."], "expected None or a list of file extensions"),
    ("state_dir", "", "expected None or a directory path"),
    ("state_dir", 3, "is 3 (int); expected None or a directory path"),
    ("s3", "acme", "is 'acme' (str); expected a dict of publishing options"),
    ("debug_missing", "Warn", "is 'Warn' (str); expected one of 'raise', 'warn', 'ignore'"),
    ("debug_missing", True, "is True (bool); expected one of 'raise', 'warn', 'ignore'"),
]


@pytest.mark.parametrize(("option", "value", "message"), INVALID)
def test_invalid_values_are_named_with_what_was_expected(
    option: str, value: object, message: str
) -> None:
    text = error_for({option: value})
    assert text.startswith(f'assetpipe: {SETTING}["{option}"] ')
    assert message in text


@pytest.mark.parametrize(
    ("s3", "message"),
    [
        ({"bucket": "acme"}, "unknown key 'bucket'"),
        ({"location": "static"}, "needs 'bucket_name'"),
        ({"bucket_name": "acme", "max_workers": 0}, "['max_workers'] is 0; expected an integer"),
    ],
)
def test_s3_options_are_validated_as_publishing_validates_them(
    s3: dict[str, Any], message: str
) -> None:
    text = error_for({"s3": s3})
    assert text.startswith(f'{SETTING}["s3"]')
    assert message in text


def test_every_problem_is_reported() -> None:
    problems = storage_option_problems(
        {"encoding": ["br"], "strict": "no", "compress_workers": 0, "location": "/srv/static"}
    )
    assert [str(problem).split(" ")[1] for problem in problems] == [
        SETTING,
        f'{SETTING}["strict"]',
        f'{SETTING}["compress_workers"]',
    ]
    assert storage_option_problems({"strict": True}) == []


@pytest.mark.parametrize("options", [["encodings"], None, "strict"])
def test_options_must_be_a_dict(options: object) -> None:
    [problem] = storage_option_problems(options)
    assert str(problem) == f"assetpipe: {SETTING} must be a dict, not {type(options).__name__}."


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"encoding": ["br"]}, "'encoding' (did you mean 'encodings'?)"),
        ({"compress_workers": "4"}, '["compress_workers"]'),
        ({"compress_workers": 0}, '["compress_workers"]'),
        ({"strict": "no"}, '["strict"]'),
        ({"encodings": "br"}, '["encodings"]'),
    ],
)
def test_collectstatic_stops_at_start_up_naming_the_option(
    options: dict[str, object], named: str, tmp_path: Path
) -> None:
    from django.core.files.storage import storages
    from django.core.management import call_command
    from django.test import override_settings

    backend = {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options}
    with override_settings(
        STORAGES={**settings.STORAGES, "staticfiles": backend}, STATIC_ROOT=str(tmp_path / "s")
    ):
        storages._storages.pop("staticfiles", None)  # type: ignore[attr-defined]
        with pytest.raises(ImproperlyConfigured) as info:
            call_command("collectstatic", interactive=False, verbosity=0)
    storages._storages.pop("staticfiles", None)  # type: ignore[attr-defined]
    assert named in str(info.value)
    assert "\n" not in str(info.value).strip()
    assert not (tmp_path / "s").exists()
