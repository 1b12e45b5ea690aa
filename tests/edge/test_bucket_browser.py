"""The example shop in chromium, its static files straight from the bucket (SeaweedFS).

The page's stylesheets, scripts and modules carry ``integrity`` and so ``crossorigin``, and its
web font is loaded by CSS: every one of them needs ``Access-Control-Allow-Origin`` from the
bucket. The test loads the same page three times: without read access (every static file is a
403), with the public policy ``bucket-policy --public`` prints but before ``cors --apply``
(everything is blocked), and after it (everything works).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.edge.s3_cors import S3CorsFront, Seen
from tests.edge.shop import MODULES, STYLESHEETS, ShopLoad, build_shop, load_shop, serving_pages

# On SeaweedFS alone: it evaluates the bucket's CORS rules itself, where moto needs the
# home-made front; the page and the commands are the same on both, a minute of chromium each.
pytestmark = [pytest.mark.browser, pytest.mark.s3_backends("seaweedfs")]


def test_the_shop_loads_from_the_bucket_once_it_has_the_rule(
    chromium: Any,
    s3_front: S3CorsFront,
    make_bucket: Callable[[], str],
    s3_client: Any,
    tmp_path: Path,
) -> None:
    bucket = make_bucket()
    static_origin = s3_front.url
    shop = build_shop(
        tmp_path,
        static_url=f"{static_origin}/{bucket}/static/",
        s3_endpoint=s3_front.url,
        bucket=bucket,
    )

    static = f"/{bucket}/static/"

    def answers(load: Callable[[], ShopLoad]) -> tuple[ShopLoad, list[Seen]]:
        """The load, and what the bucket answered each of its static requests."""
        start = len(s3_front.seen)
        done = load()
        return done, [seen for seen in s3_front.seen[start:] if seen.path.startswith(static)]

    with serving_pages(shop) as page_url:
        private, answered = answers(
            lambda: load_shop(chromium, page_url, static_origin, tmp_path / "private.png")
        )
        assert answered, private.summary()
        assert {seen.status for seen in answered} == {403}, answered
        assert private.stylesheets_applied == 0
        assert not private.font_loaded

        policy = shop.manage("assetpipe", "bucket-policy", "--public")
        assert policy.returncode == 0, policy.stderr
        assert "aws s3api put-bucket-policy" in policy.stderr
        s3_client.put_bucket_policy(Bucket=bucket, Policy=policy.stdout)

        gate = shop.manage("assetpipe", "cors")
        assert gate.returncode == 1, gate.stdout + gate.stderr
        without, answered = answers(
            lambda: load_shop(chromium, page_url, static_origin, tmp_path / "without-rule.png")
        )
        # Readable now, but without the header a crossorigin request needs.
        assert answered, without.summary()
        assert {(seen.status, seen.allow_origin) for seen in answered} == {(200, None)}

        applied = shop.manage("assetpipe", "cors", "--apply")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        status = shop.manage("assetpipe", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        with_rule = load_shop(chromium, page_url, static_origin, tmp_path / "with-rule.png")

    print(f"without the rule: {without.summary()}")
    print(f"with the rule: {with_rule.summary()}")
    assert without.stylesheets_applied == 0
    assert without.modules_ran == []
    assert not without.font_loaded
    assert without.blocked, without.summary()
    # What the browser says (docs/serving-from-s3.md quotes it).
    assert any(
        "No 'Access-Control-Allow-Origin' header is present on the requested resource" in error
        for error in without.console_errors
    ), without.console_errors
    assert "bucket CORS rule: current" in status.stdout
    assert with_rule.ok, with_rule.summary() + "\n" + "\n".join(with_rule.console_errors)
    assert with_rule.stylesheets_applied == STYLESHEETS
    assert sorted(with_rule.modules_ran) == sorted(MODULES)
    assert with_rule.font_loaded
    assert with_rule.blocked == []
    assert with_rule.console_errors == []
