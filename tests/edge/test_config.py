"""The cors and cdn options: validated at start-up, naming the key and what was expected."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.options import parse_storage_options, storage_option_problems
from assetpipe.edge.cors import merged_s3_rules, response_headers, rule_is_current, s3_rule
from assetpipe.edge.negotiation import Negotiation

S3 = {"bucket_name": "static-bucket", "location": "static"}


def test_cors_defaults_to_any_origin_for_a_day() -> None:
    assert CorsConfig.from_options({}) == CorsConfig(("*",), 86400)
    options, _ = parse_storage_options({"cors": {"origins": ["https://shop.example"]}})
    assert options.cors == CorsConfig(("https://shop.example",), 86400)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"origins": "https://shop.example"}, "[\"origins\"] is 'https://shop.example' (str)"),
        ({"origins": []}, "a non-empty list of origins"),
        ({"origins": ["https://shop.example/"]}, "no trailing"),
        ({"origins": ["shop.example"]}, "scheme, host and port"),
        ({"origins": ["https://*.*.example"]}, "at most one"),
        ({"origins": ["*", "https://shop.example"]}, '["*"] alone'),
        ({"max_age": -1}, '["max_age"] is -1 (int)'),
        ({"max_age": True}, '["max_age"] is True (bool)'),
        ({"origin": ["*"]}, '["origin"] is not an option (did you mean "origins"?)'),
        (["*"], "expected a dict"),
    ],
)
def test_a_bad_cors_value_names_the_key(value: Any, expected: str) -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        parse_storage_options({"cors": value})
    assert str(raised.value).startswith('assetpipe: STORAGES["staticfiles"]["OPTIONS"]["cors"]')
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"cdn": "fastly"}, 'expected None (no CDN) or one of "cloudfront", "cloudflare"'),
        ({"cdn": "cloudfront"}, 'needs the "s3" option'),
        ({"cdn": "cloudfront", "s3": S3}, 'set the "s3" option\'s "variants"'),
        (
            {"cdn": "cloudfront", "s3": {**S3, "variants": "bucket"}, "encodings": []},
            '"encodings" is empty',
        ),
    ],
)
def test_a_cdn_needs_a_bucket_with_every_variant(options: dict[str, Any], expected: str) -> None:
    problems = storage_option_problems(options)
    assert len(problems) == 1
    assert expected in str(problems[0])
    with pytest.raises(ImproperlyConfigured):
        parse_storage_options(options)


def test_a_cdn_never_changes_what_is_uploaded() -> None:
    # The variants' place is stated, not flipped by the cdn option.
    plain, _ = parse_storage_options({"s3": S3})
    both = {**S3, "variants": "static_root_and_bucket"}
    cdn, _ = parse_storage_options({"s3": both, "cdn": "cloudflare"})
    assert plain.s3 is not None and not plain.s3.variants_in_bucket
    assert cdn.s3 is not None and cdn.s3.variants_in_bucket
    assert cdn.cdn == "cloudflare"
    negotiation = Negotiation.for_options(cdn, "staticfiles.json")
    assert negotiation is not None
    assert negotiation.prefix == "static/"
    assert negotiation.encodings == ("br", "gzip")
    assert Negotiation.for_options(plain, "staticfiles.json") is None


def test_the_s3_rule_goes_first_and_keeps_the_bucket_s_other_rules() -> None:
    cors = CorsConfig(("https://shop.example",), 600)
    media = {"ID": "media-uploads", "AllowedMethods": ["PUT"], "AllowedOrigins": ["https://app"]}
    old = {**s3_rule(CorsConfig()), "MaxAgeSeconds": 5}
    merged = merged_s3_rules([media, old], cors)
    assert merged == [s3_rule(cors), media]
    assert s3_rule(cors) == {
        "ID": "assetpipe-static",
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": ["https://shop.example"],
        "AllowedHeaders": ["*"],
        "MaxAgeSeconds": 600,
    }
    assert rule_is_current(merged, cors)
    assert not rule_is_current([media, s3_rule(cors)], cors)  # not first: media's may answer
    assert not rule_is_current([old, media], cors)
    assert not rule_is_current([], cors)


def test_response_headers_for_any_origin_and_for_a_list() -> None:
    anyone = CorsConfig()
    assert response_headers(anyone, None) == {
        "Access-Control-Allow-Origin": "*",
        "Timing-Allow-Origin": "*",
    }
    listed = CorsConfig(("https://shop.example", "https://*.acme.example"))
    assert response_headers(listed, "https://eu.acme.example") == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": "https://eu.acme.example",
        "Timing-Allow-Origin": "https://eu.acme.example",
    }
    assert response_headers(listed, "https://evil.example") == {"Vary": "Origin"}
    assert response_headers(listed, None) == {"Vary": "Origin"}
