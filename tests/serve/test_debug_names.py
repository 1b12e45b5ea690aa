"""``{% static %}`` with DEBUG on: names production's manifest would lack raise (or warn) now."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast
from unittest import mock

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import Context, Template, TemplateSyntaxError
from django.utils.functional import empty

from assetpipe.serve.debug_names import DebugNames, missing_reason
from assetpipe.storage import AssetPipeStorage
from tests.conftest import StaticProject


@pytest.fixture
def debug(project: StaticProject, settings: Any) -> Iterator[StaticProject]:
    """DEBUG on, no build: ``app/site.css`` and ``app/logo.svg`` are where the finders look."""
    project.write("app/site.css", "body { color: red }\n")
    project.write("app/logo.svg", "<svg/>")
    settings.DEBUG = True
    reload_storage()
    yield project
    reload_storage()


def reload_storage() -> None:
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def storage() -> AssetPipeStorage:
    return cast(AssetPipeStorage, staticfiles_storage)


def render(source: str) -> str:
    return Template("{% load static %}" + source).render(Context())


def test_existing_names_render_plain_urls_as_before(debug: StaticProject) -> None:
    assert render('{% static "app/site.css" %}') == "/static/app/site.css"
    assert render('{% static "app/logo.svg#icon" %}') == "/static/app/logo.svg#icon"
    assert render('{% static "app/site.css?v=2" %}') == "/static/app/site.css?v=2"
    assert render('{% static "app/" %}') == "/static/app/"  # a directory is never looked up


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("app/sit.css", "no static files finder finds it"),
        ("/app/site.css", "without a leading '/'"),
        ("app/./site.css", "not a normalized path"),
        ("../app/site.css", "not a normalized path"),
        ("app\\site.css", "not a normalized path"),
        ("", "not a normalized path"),
    ],
)
def test_a_name_production_lacks_raises_production_s_error(
    debug: StaticProject, name: str, why: str
) -> None:
    path = name.split("?")[0]
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry for") as info:
        staticfiles_storage.url(name)
    assert str(info.value).startswith(f"Missing staticfiles manifest entry for '{path}'")
    assert why in str(info.value)


def test_the_template_error_names_the_path(debug: StaticProject) -> None:
    with pytest.raises(ValueError, match=r"entry for 'app/sit\.css'"):
        render('{% static "app/sit.css" %}')


def test_production_raises_the_same_error_for_the_same_names(
    project: StaticProject, settings: Any
) -> None:
    project.write("app/site.css", "body { color: red }\n")
    project.collect()
    settings.DEBUG = False
    reload_storage()
    for name in ("app/sit.css", "/app/site.css", "app/./site.css"):
        with pytest.raises(ValueError, match=f"^Missing staticfiles manifest entry for '{name}'$"):
            staticfiles_storage.url(name)
    reload_storage()


def test_one_finder_lookup_per_name(debug: StaticProject) -> None:
    with mock.patch.object(finders, "find", wraps=finders.find) as find:
        for _ in range(3):
            render('{% static "app/site.css" %}{% static "app/logo.svg" %}')
    assert [call.args[0] for call in find.call_args_list] == ["app/site.css", "app/logo.svg"]


def test_a_file_created_after_the_error_is_found_without_a_restart(debug: StaticProject) -> None:
    with pytest.raises(ValueError):
        staticfiles_storage.url("app/new.css")
    debug.write("app/new.css", "")
    assert staticfiles_storage.url("app/new.css") == "/static/app/new.css"


def test_warn_mode_warns_once_per_name_and_renders_the_plain_url(
    debug: StaticProject, caplog: pytest.LogCaptureFixture
) -> None:
    debug.configure(debug_unknown_names="warn")
    reload_storage()
    with caplog.at_level(logging.WARNING, logger="assetpipe"):
        for _ in range(3):
            assert render('{% static "app/sit.css" %}') == "/static/app/sit.css"
            assert render('{% static "/app/site.css" %}') == "/static/app/site.css"
            assert render('{% static "app/site.css" %}') == "/static/app/site.css"
    messages = [r.getMessage() for r in caplog.records if r.name == "assetpipe"]
    assert len(messages) == 2
    assert "Missing staticfiles manifest entry for 'app/sit.css'" in messages[0]
    assert "Missing staticfiles manifest entry for '/app/site.css'" in messages[1]


def test_ignore_mode_and_manifest_strict_off_render_any_name(debug: StaticProject) -> None:
    debug.configure(debug_unknown_names="ignore")
    reload_storage()
    assert render('{% static "app/sit.css" %}') == "/static/app/sit.css"
    debug.configure()
    reload_storage()
    storage().manifest_strict = False
    assert render('{% static "app/sit.css" %}') == "/static/app/sit.css"


def test_force_and_debug_off_are_left_to_django(debug: StaticProject, settings: Any) -> None:
    with mock.patch.object(finders, "find") as find:
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage().url("app/site.css", force=True)  # no manifest: Django's error
        settings.DEBUG = False
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            staticfiles_storage.url("app/site.css")
    find.assert_not_called()


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="raise, warn, ignore"):
        DebugNames("loud")


def test_the_reason_reads_names_as_django_does(debug: StaticProject) -> None:
    assert missing_reason("app/site.css#frag") is None
    assert missing_reason("app/site%2Ecss") is None  # unquoted, as stored_name does
    assert missing_reason("app/dir/") is None
    with pytest.raises(TemplateSyntaxError):
        render("{% static %}")
