"""The shop deployed under a script name: its suite, run by the pytest plugin and by the runner,
sees the prefixed URLs production renders and the caching production sends."""

from __future__ import annotations

import pytest

from tests.testing.conftest import RUNNER, Shop, output

# A relative STATIC_URL: Django joins the script prefix, which its set-up takes from
# FORCE_SCRIPT_NAME, so the pages name /prefix/static/...
SETTINGS = """\
from shop_site.settings import *  # noqa: F403

from assetpipe.serve.whitenoise import immutable_file_test

FORCE_SCRIPT_NAME = "/prefix"
STATIC_URL = "static/"
WHITENOISE_IMMUTABLE_FILE_TEST = immutable_file_test
"""
TESTS = """\
import re

from django.test import SimpleTestCase

HASHED = r'"(/prefix/static/shop/(?:site\\.[0-9a-f]{12}\\.css|app\\.[0-9a-f]{12}\\.js))"'


class SubPathTests(SimpleTestCase):
    def test_the_page_names_hashed_files_below_the_script_name_cached_for_ever(self) -> None:
        page = self.client.get("/")  # requests reach the app below the script name
        self.assertEqual(page.status_code, 200)
        urls = re.findall(HASHED, page.content.decode())
        self.assertEqual(len(urls), 2, page.content)
        for url in urls:
            response = self.client.get(url.removeprefix("/prefix"))
            self.assertEqual(response.status_code, 200, url)
            self.assertEqual(
                response["Cache-Control"], "max-age=315360000, public, immutable", url
            )
"""
SUBPATH_SETTINGS = "shop_site.subpath_settings"


@pytest.fixture
def subpath_shop(shop: Shop) -> Shop:
    (shop.base / "shop_site/subpath_settings.py").write_text(SETTINGS)
    (shop.base / "shop/test_subpath_pages.py").write_text(TESTS)
    return shop


def test_the_plugin_s_session_serves_the_prefixed_urls(subpath_shop: Shop) -> None:
    result = subpath_shop.pytest("--ds", SUBPATH_SETTINGS, "shop/test_subpath_pages.py")
    assert result.returncode == 0, output(result)
    assert "1 passed" in result.stdout


def test_the_runner_s_run_serves_the_prefixed_urls(subpath_shop: Shop) -> None:
    result = subpath_shop.manage_test(
        "--settings", SUBPATH_SETTINGS, "--testrunner", RUNNER, "shop.test_subpath_pages"
    )
    assert result.returncode == 0, output(result)
    assert "Ran 1 test" in result.stderr
