"""Django admin built with the minify option, served by WhiteNoise, used in chromium: the login,
the index, a changelist and a change form with the admin's JS widgets work on minified files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django.contrib.admin
import pytest

from tests.conftest import free_port
from tests.serve.conftest import REPO, wait_for_port
from tests.serve.test_browser import PageVisit

pytestmark = pytest.mark.browser

ADMIN_JS = Path(django.contrib.admin.__file__).parent / "static" / "admin" / "js"
PASSWORD = "minified-admin-password"

SETTINGS = """\
from pathlib import Path

BASE = Path(__file__).resolve().parent
SECRET_KEY = "minify-browser-test"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "assetpipe",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "minify_site_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE / "db.sqlite3"}}
STATIC_URL = "/static/"
STATIC_ROOT = BASE / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {"minify": ["css", "js"]},
    },
}
"""
URLS = """\
from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
    # chromium asks for one; a 404 would be a console error
    path("favicon.ico", lambda request: HttpResponse(status=204)),
]
"""


@dataclass
class Site:
    url: str
    root: Path


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base = tmp_path_factory.mktemp("minify-site")
    (base / "minify_site_settings.py").write_text(SETTINGS)
    (base / "minify_site_urls.py").write_text(URLS)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="minify_site_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(base), str(REPO), env.get("PYTHONPATH")])),
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput", "--username", "admin", "--email", "a@b.invalid")
    out = manage(env, "collectstatic", "--noinput")
    assert re.search(r"assetpipe: minified [1-9]\d* files", out), out
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield Site(f"http://127.0.0.1:{port}", base / "static")
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_the_minified_admin_works_in_chromium(site: Site, chromium: Any, tmp_path: Path) -> None:
    # What is served is minified: the admin's own scripts are smaller than Django ships them.
    for name in ("SelectFilter2.js", "actions.js", "admin/DateTimeShortcuts.js"):
        assert (site.root / "admin" / "js" / name).stat().st_size < 0.8 * (
            (ADMIN_JS / name).stat().st_size
        )
    context = chromium.new_context()
    page = context.new_page()
    record = PageVisit()
    page.on("response", lambda response: record.responses.append(response))
    page.on("requestfailed", lambda r: record.failed.append(f"{r.url}: {r.failure}"))
    page.on("console", lambda m: record.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: record.errors.append(str(error)))
    try:
        page.goto(f"{site.url}/admin/login/", wait_until="networkidle")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{site.url}/admin/")
        page.wait_for_load_state("networkidle")
        assert page.locator("#user-tools").count() == 1

        # The changelist: actions.js checks every row from the select-all box.
        page.goto(f"{site.url}/admin/auth/user/", wait_until="networkidle")
        page.click("#action-toggle")
        page.wait_for_selector("#result_list tr.selected")
        assert page.eval_on_selector_all("input.action-select", "els => els.every(e => e.checked)")

        # The change form: SelectFilter2 and DateTimeShortcuts build their widgets.
        page.goto(f"{site.url}/admin/auth/user/1/change/", wait_until="networkidle")
        page.wait_for_selector("#id_user_permissions_add_all", state="attached")
        assert page.locator("div.selector").count() >= 2
        assert page.locator(".datetimeshortcuts").count() >= 2
        page.click(".datetimeshortcuts a:has-text('Today')")
        assert page.input_value("#id_date_joined_0")
    except BaseException:
        page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
        raise
    finally:
        context.close()

    scripts = {re.sub(r"^https?://[^/]+", "", r.url) for r in record.static()}
    assert any(re.search(r"/admin/js/SelectFilter2\.[0-9a-f]{12}\.js$", s) for s in scripts)
    assert not [r.url for r in record.responses if r.status >= 400]
    assert not record.failed
    assert not record.errors
