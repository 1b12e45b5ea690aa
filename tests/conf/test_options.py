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
    CHECKS,
    DEFAULT_SKIP_EXTENSIONS,
    DJANGO_OPTIONS,
    SETTING,
    StorageOptions,
    parse_storage_options,
    storage_option_problems,
)
from assetpipe.conf.s3 import S3Config
from assetpipe.edge.negotiation import Negotiation


def error_for(options: dict[str, Any]) -> str:
    with pytest.raises(ImproperlyConfigured) as error:
        parse_storage_options(options)
    message = str(error.value)
    assert "\n" not in message  # one paragraph
    return message


def test_no_options_are_the_defaults() -> None:
    assert parse_storage_options({}) == (StorageOptions(), {})


def test_every_option_has_a_check() -> None:
    assert set(CHECKS) == {field.name for field in fields(StorageOptions)}
    assert not DJANGO_OPTIONS & set(CHECKS)


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
    options, rest = parse_storage_options({**given, "missing_references": "fail"})
    assert options == StorageOptions(missing_references="fail")
    assert rest == given
    storage = ManifestStaticFilesStorage(**rest)
    assert storage.base_url == "/assets/"


def test_valid_options_are_normalised(tmp_path: Path) -> None:
    options, rest = parse_storage_options(
        {
            "encodings": ["gzip"],
            "missing_references": "fail",
            "js_module_imports": True,
            "never_compress": [".PDF", "svgz"],
            "state_dir": tmp_path,
            "workers": 2,
            "prehashed_records": [tmp_path / "meta.json"],
            "s3": {"bucket_name": "acme", "location": "static"},
        }
    )
    assert rest == {}
    assert options.encodings == ("gzip",)
    assert options.missing_references == "fail"
    assert options.js_module_imports is True
    assert options.never_compress == frozenset({"pdf", "svgz"})
    assert options.state_dir == str(tmp_path)
    assert options.workers == 2
    assert options.prehashed_records == (str(tmp_path / "meta.json"),)
    assert options.s3 == S3Config(bucket_name="acme", location="static")


def test_never_compress_adds_to_the_defaults() -> None:
    # ["svg"] once replaced the defaults and started compressing JPEGs; now it only adds.
    options, _ = parse_storage_options({"never_compress": ["pdf"]})
    assert options.uncompressed_extensions == DEFAULT_SKIP_EXTENSIONS | {"pdf"}
    assert {"jpg", "woff2", "br", "gz"} <= options.uncompressed_extensions
    assert StorageOptions().uncompressed_extensions == DEFAULT_SKIP_EXTENSIONS


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"encodings": []}, StorageOptions(encodings=())),
        ({"encodings": ("br",)}, StorageOptions(encodings=("br",))),
        ({"never_compress": []}, StorageOptions()),
        ({"state_dir": None, "workers": None, "s3": None, "cdn": None}, StorageOptions()),
        ({"missing_references": "warn"}, StorageOptions()),
        ({"debug_unknown_names": "warn"}, StorageOptions(debug_unknown_names="warn")),
        ({"debug_unknown_names": "ignore"}, StorageOptions(debug_unknown_names="ignore")),
        (
            {"integrity": True, "import_map": ["app/*.js"]},
            StorageOptions(integrity=True, import_map=("app/*.js",)),
        ),
    ],
)
def test_empty_and_none_values(options: dict[str, Any], expected: StorageOptions) -> None:
    assert parse_storage_options(options)[0] == expected


def test_an_unknown_option_is_named_with_a_close_match() -> None:
    message = error_for({"encoding": ["br"]})
    assert message.startswith(
        f'assetpipe: {SETTING}["encoding"] is not an option (did you mean "encodings"?); '
        "expected one of "
    )
    assert (
        "cdn, cors, debug_unknown_names, dictionaries, encodings, images, import_map, integrity, "
        "js_module_imports, lock_timeout, minify, missing_references, never_compress, prehashed, "
        "prehashed_records, s3, state_dir, workers; Django's storage takes allow_overwrite, "
        "base_url" in message
    )


@pytest.mark.parametrize(
    ("option", "suggestion"),
    [("worker", "workers"), ("stateDir", "state_dir"), ("base_uri", "base_url")],
)
def test_close_matches(option: str, suggestion: str) -> None:
    assert f'(did you mean "{suggestion}"?)' in error_for({option: 1})


def test_an_unknown_option_without_a_close_match() -> None:
    message = error_for({"zzz": "blue"})
    assert '["zzz"] is not an option;' in message
    assert "did you mean" not in message


INVALID: list[tuple[str, object, str]] = [
    ("workers", "4", "is '4' (str); expected None (one thread per core) or an integer >= 1."),
    ("workers", 0, "is 0 (int); expected None (one thread per core) or an integer >= 1."),
    ("workers", -2, "an integer >= 1"),
    ("workers", 2.0, "is 2.0 (float)"),
    ("workers", True, "is True (bool)"),
    (
        "missing_references",
        True,
        'is True (bool); expected one of "warn", "fail".',
    ),
    ("missing_references", "error", 'expected one of "warn", "fail".'),
    ("missing_references", "Fail", '(did you mean "fail"?)'),
    ("js_module_imports", "yes", "expected True or False"),
    ("encodings", "br", 'is \'br\' (str); expected a list of encodings from "br", "gzip"'),
    ("encodings", None, "expected a list of encodings"),
    ("encodings", {"br"}, "expected a list of encodings"),
    ("encodings", ["zstd"], 'from "br", "gzip"; \'zstd\' is none of them.'),
    ("encodings", ["gz"], "'gz' is none of them (did you mean \"gzip\"?)."),
    ("encodings", ["br", "br"], "expected each encoding at most once"),
    ("never_compress", "pdf", "expected a list of file extensions"),
    ("never_compress", None, "expected a list of file extensions"),
    ("never_compress", ["pdf", 1], "expected a list of file extensions"),
    ("never_compress", ["."], "expected a list of file extensions"),
    ("state_dir", "", "expected None or a directory path"),
    ("state_dir", 3, "is 3 (int); expected None or a directory path"),
    ("s3", "acme", "is 'acme' (str); expected a dict."),
    ("cdn", "fastly", "is 'fastly' (str); expected None (no CDN) or one of \"cloudfront\""),
    ("cdn", {"cdn": "cloudfront"}, "(dict); expected None (no CDN) or one of"),
    ("prehashed_records", "meta.json", "expected a list of file paths"),
    ("debug_unknown_names", "Warn", 'is \'Warn\' (str); expected one of "raise", "warn"'),
    ("debug_unknown_names", True, 'is True (bool); expected one of "raise", "warn"'),
    ("lock_timeout", -1, "is -1 (int); expected a number of seconds >= 0."),
    ("prehashed", ["/dist/*"], "(list); expected a list of glob patterns relative to STATIC_URL"),
    ("prehashed", [" "], "(no leading '/', no '..')."),
]


@pytest.mark.parametrize(("option", "value", "message"), INVALID)
def test_invalid_values_are_named_with_what_was_expected(
    option: str, value: object, message: str
) -> None:
    text = error_for({option: value})
    where = f'{SETTING}["{option}"]'
    if option == "s3":
        where = f'{SETTING}["s3"]'
    assert text.startswith(f"assetpipe: {where} ")
    assert message in text


@pytest.mark.parametrize(
    ("s3", "message"),
    [
        ({"bucket": "acme"}, '["s3"]["bucket"] is not an option (did you mean "bucket_name"?)'),
        ({"location": "static"}, '["s3"]["bucket_name"] is missing'),
        ({"bucket_name": "acme", "workers": 0}, '["s3"]["workers"] is 0 (int); expected an'),
    ],
)
def test_s3_options_are_validated_as_publishing_validates_them(
    s3: dict[str, Any], message: str
) -> None:
    text = error_for({"s3": s3})
    assert text.startswith(f'assetpipe: {SETTING}["s3"][')
    assert message in text


def test_every_problem_is_reported() -> None:
    problems = storage_option_problems(
        {
            "encoding": ["br"],
            "missing_references": "no",
            "workers": 0,
            "strict": True,
            "location": "/srv/static",
        }
    )
    assert [str(problem).split(" ")[1] for problem in problems] == [
        f'{SETTING}["encoding"]',
        f'{SETTING}["missing_references"]',
        f'{SETTING}["workers"]',
        f'{SETTING}["strict"]',
    ]
    assert storage_option_problems({"missing_references": "fail"}) == []


S3 = {"bucket_name": "acme", "location": "static"}
RENAMED_IN = "in assetpipe 0.2"

# Every option renamed or removed, with what its message must say: each fails at start-up
# (and in manage.py check) naming what replaced it, never silently ignored.
RETIRED: list[tuple[dict[str, Any], str, str]] = [
    (
        {"strict": True},
        f'{SETTING}["strict"] was renamed to "missing_references" {RENAMED_IN}',
        '"strict": True is now "missing_references": "fail"',
    ),
    (
        {"debug_missing": "warn"},
        f'{SETTING}["debug_missing"] was renamed to "debug_unknown_names" {RENAMED_IN}',
        "the same values",
    ),
    (
        {"skip_compress_extensions": ["svg"]},
        f'{SETTING}["skip_compress_extensions"] was renamed to "never_compress" {RENAMED_IN}',
        "added to the defaults",
    ),
    (
        {"compress_workers": 4},
        f'{SETTING}["compress_workers"] was renamed to "workers" {RENAMED_IN}',
        "encoding images too",
    ),
    (
        {"edge": {"cdn": "cloudfront"}},
        f'{SETTING}["edge"] was renamed to "cdn" {RENAMED_IN}',
        '{"cdn": "cloudfront"} is now "cdn": "cloudfront"',
    ),
    (
        {"bundler_records": ["meta.json"]},
        f'{SETTING}["bundler_records"] was renamed to "prehashed_records" {RENAMED_IN}.',
        "",
    ),
    (
        {"images": {"workers": 2}},
        f'{SETTING}["images"]["workers"] was moved to {SETTING}["workers"] {RENAMED_IN}',
        "compressing and for encoding images",
    ),
    (
        {"s3": {**S3, "max_workers": 8}},
        f'{SETTING}["s3"]["max_workers"] was renamed to "workers" {RENAMED_IN}.',
        "",
    ),
    (
        {"s3": {**S3, "upload_encodings": True}},
        f'{SETTING}["s3"]["upload_encodings"] was renamed to "variants" {RENAMED_IN}',
        '"upload_encodings": True is now "variants": "static_root_and_bucket"',
    ),
    (
        {"s3": {**S3, "local_variants": False}},
        f'{SETTING}["s3"]["local_variants"] was renamed to "variants" {RENAMED_IN}',
        '"local_variants": False is now "variants": "bucket"',
    ),
    (
        {"s3": {**S3, "fetch_variants": True}},
        f'{SETTING}["s3"]["fetch_variants"] was renamed to "variants" {RENAMED_IN}',
        '"variants": "static_root_and_bucket" fetches',
    ),
    (
        {"s3": {**S3, "custom_domain": "static.example.com"}},
        f'{SETTING}["s3"]["custom_domain"] was removed {RENAMED_IN}',
        "come from STATIC_URL",
    ),
]


@pytest.mark.parametrize(
    ("options", "named", "instead"),
    RETIRED,
    ids=[message.split(" was ")[0].removeprefix(SETTING) for _, message, _ in RETIRED],
)
def test_a_retired_option_fails_naming_its_replacement(
    options: dict[str, Any], named: str, instead: str
) -> None:
    message = error_for(options)
    assert message.startswith(f"assetpipe: {named}")
    assert instead in message
    assert [str(p) for p in storage_option_problems(options)] == [message]


def test_import_map_without_integrity_is_refused() -> None:
    # Without integrity there is no module graph, and {% importmap %} would map nothing.
    message = error_for({"import_map": ["*.mjs"]})
    assert message == (
        f'assetpipe: {SETTING}["import_map"] needs "integrity": True: {{% importmap %}} maps '
        'the module graph that "integrity" builds; set "integrity": True, or remove '
        '"import_map".'
    )
    assert error_for({"import_map": ["*.mjs"], "integrity": False}) == message
    assert parse_storage_options({"import_map": ["*.mjs"], "integrity": True})[0].integrity


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cdn": "cloudfront"}, 'needs the "s3" option: the CDN serves the bucket'),
        (
            {"cdn": "cloudfront", "s3": S3},
            'needs the .br/.gz variants in the bucket: set the "s3" option\'s "variants" to '
            '"static_root_and_bucket" (or "bucket" where STATIC_ROOT is not served)',
        ),
        (
            {"cdn": "cloudflare", "s3": {**S3, "variants": "bucket"}, "encodings": []},
            'has nothing to pick: "encodings" is empty',
        ),
    ],
)
def test_a_cdn_needs_the_variants_in_the_bucket(options: dict[str, Any], message: str) -> None:
    assert error_for(options) == f'assetpipe: {SETTING}["cdn"] {message}.'


@pytest.mark.parametrize("variants", ["static_root_and_bucket", "bucket"])
def test_a_cdn_with_the_variants_in_the_bucket(variants: str) -> None:
    options, _ = parse_storage_options({"cdn": "cloudflare", "s3": {**S3, "variants": variants}})
    assert options.cdn == "cloudflare"
    negotiation = Negotiation.for_options(options, "staticfiles.json")
    assert negotiation is not None
    assert negotiation.prefix == "static/"
    assert negotiation.skip_extensions == DEFAULT_SKIP_EXTENSIONS


@pytest.mark.parametrize("options", [["encodings"], None, "strict"])
def test_options_must_be_a_dict(options: object) -> None:
    [problem] = storage_option_problems(options)
    assert str(problem) == (
        f"assetpipe: {SETTING} is {options!r} ({type(options).__name__}); expected a dict."
    )


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"encoding": ["br"]}, '["encoding"] is not an option (did you mean "encodings"?)'),
        ({"workers": "4"}, '["workers"]'),
        ({"workers": 0}, '["workers"]'),
        ({"strict": True}, '["strict"] was renamed to "missing_references"'),
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
