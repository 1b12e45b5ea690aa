"""The pytest plugin, on the shop's own suite: run as its developers run it, in a subprocess."""

from __future__ import annotations

import re

from tests.testing.conftest import Shop, output

MISSING_ENTRY = "ValueError: Missing staticfiles manifest entry for 'shop/site.css'"
BUILT = re.compile(r"^assetpipe: built the test STATIC_ROOT (\S+) in [\d.]+ s$", re.MULTILINE)
WORKER_TEST = """\
import os

import pytest
from django.conf import settings

from assetpipe.testing.plugin import SESSION_BUILD, WORKER_INPUT


@pytest.mark.parametrize("n", range(2))
def test_the_worker_uses_the_controller_s_build(pytestconfig: pytest.Config, n: int) -> None:
    assert os.environ["PYTEST_XDIST_WORKER"]
    assert pytestconfig.workerinput[WORKER_INPUT] == settings.STATIC_ROOT
    assert pytestconfig.stash[SESSION_BUILD].report == []  # it built nothing itself
    assert os.path.exists(os.path.join(settings.STATIC_ROOT, "staticfiles.json"))
"""


def test_without_the_plugin_the_shop_s_tests_fail_for_want_of_a_manifest(shop: Shop) -> None:
    result = shop.pytest("-p", "no:assetpipe", "--tb=line")
    assert result.returncode == 1, output(result)
    assert MISSING_ENTRY in result.stdout
    assert "2 failed" in result.stdout


def test_the_session_builds_first_and_the_next_session_s_build_is_a_no_change_build(
    shop: Shop,
) -> None:
    first = shop.pytest()
    assert first.returncode == 0, output(first)
    assert "2 passed" in first.stdout
    built = BUILT.search(first.stdout)
    assert built is not None, first.stdout
    root = built[1]
    assert root == str(shop.base / ".pytest_cache/d/assetpipe/static")
    assert "assetpipe: 3 files: 3 hashed (0 reused), 2 files compressed (0 reused)" in first.stdout
    # Publishing is off: the bucket's endpoint (nothing listens there) was never asked.
    assert "publish" not in first.stdout + first.stderr
    assert not (shop.base / "staticfiles").exists()  # production's STATIC_ROOT is left alone

    second = shop.pytest()
    assert second.returncode == 0, output(second)
    assert "assetpipe: 3 files: 0 hashed (3 reused), 0 files compressed (2 reused)" in (
        second.stdout
    )


def test_with_xdist_the_controller_builds_once_for_every_worker(shop: Shop) -> None:
    (shop.base / "shop/test_worker_build.py").write_text(WORKER_TEST)
    result = shop.pytest("-n", "2")
    assert result.returncode == 0, output(result)
    assert "4 passed" in result.stdout
    assert len(BUILT.findall(result.stdout)) == 1
    assert "3 hashed (0 reused)" in result.stdout


def test_a_missing_reference_under_strict_fails_the_session_at_its_start(shop: Shop) -> None:
    shop.break_a_reference()
    result = shop.pytest()
    assert result.returncode == 4, output(result)  # pytest's status for a session that cannot start
    assert "collected" not in result.stdout  # before any test, before collection
    assert "ERROR: assetpipe: the build of the test STATIC_ROOT" in result.stderr
    assert "Post-processing 'shop/site.css' failed!" in result.stderr
    assert 'shop/site.css:3: url("missing.png") -> shop/missing.png (not found)' in result.stderr


def test_an_ini_option_turns_it_off(shop: Shop) -> None:
    result = shop.pytest("-o", "assetpipe_build=false", "--tb=line")
    assert result.returncode == 1, output(result)
    assert MISSING_ENTRY in result.stdout
    assert BUILT.search(result.stdout) is None


def test_the_test_static_root_can_be_chosen(shop: Shop) -> None:
    result = shop.pytest("-o", "assetpipe_static_root=build/test-static")
    assert result.returncode == 0, output(result)
    built = BUILT.search(result.stdout)
    assert built is not None and built[1] == str(shop.base / "build/test-static")
    assert (shop.base / "build/test-static/staticfiles.json").exists()
    assert not (shop.base / ".pytest_cache/d/assetpipe/static").exists()
