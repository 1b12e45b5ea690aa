"""``{% load assetpipe %}`` over a real build's staticfiles.json, read as an app server does."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import Context, Template
from django.utils.functional import empty

from tests.build.modules_tree import CLASSIC_SCRIPT, MODULES, STYLESHEET
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])


@pytest.fixture
def built(project: StaticProject) -> Iterator[StaticProject]:
    for name, text in MODULES.items():
        project.write(name, text)
    project.write("app/classic.js", CLASSIC_SCRIPT)
    project.write("app/site.css", STYLESHEET)
    project.configure(integrity=True)
    project.collect()
    reload_storage()
    yield project
    reload_storage()


def reload_storage() -> None:
    # As an app server starts: the storage loads staticfiles.json once.
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def render(source: str, **context: object) -> str:
    return Template("{% load assetpipe %}" + source).render(Context(context))


def stored(project: StaticProject) -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads((project.root / "staticfiles.json").read_bytes())
    return loaded


def url_and_integrity(project: StaticProject, path: str) -> tuple[str, str]:
    manifest = stored(project)
    hashed = manifest["paths"][path]
    return f"/static/{hashed}", manifest["integrity"][hashed]


def test_static_integrity(built: StaticProject) -> None:
    _, integrity = url_and_integrity(built, "app/site.css")
    assert render('{% static_integrity "app/site.css" %}') == integrity
    assert integrity.startswith("sha384-")


def test_script_and_stylesheet_pass_other_attributes_through(built: StaticProject) -> None:
    src, integrity = url_and_integrity(built, "app/classic.js")
    html = render('{% static_script "app/classic.js" defer=True data_role=role %}', role="x<y")
    assert html == (
        f'<script src="{src}" integrity="{integrity}" crossorigin="anonymous" defer '
        'data-role="x&lt;y"></script>'
    )
    href, integrity = url_and_integrity(built, "app/site.css")
    assert render('{% static_stylesheet "app/site.css" media="print" %}') == (
        f'<link rel="stylesheet" href="{href}" integrity="{integrity}" crossorigin="anonymous" '
        'media="print">'
    )
    html = render(
        '{% static_script "app/mod/main.mjs" type="module" crossorigin="use-credentials" %}'
    )
    assert 'type="module"' in html and 'crossorigin="use-credentials"' in html


def test_importmap_maps_plain_urls_to_hashed_ones_with_integrity(built: StaticProject) -> None:
    html = render("{% importmap %}")
    match = re.fullmatch(r'<script type="importmap">(.*)</script>', html, re.DOTALL)
    assert match
    importmap = json.loads(match.group(1))
    expected_imports = {}
    expected_integrity = {}
    for name in MODULES:
        url, integrity = url_and_integrity(built, name)
        expected_imports[f"/static/{name}"] = url
        expected_integrity[url] = integrity
    assert importmap == {"imports": expected_imports, "integrity": expected_integrity}


def test_inline_output_takes_the_csp_nonce(built: StaticProject) -> None:
    assert render("{% importmap %}", csp_nonce="n0nce").startswith(
        '<script type="importmap" nonce="n0nce">'
    )
    assert render('{% importmap nonce="given" %}', csp_nonce="n0nce").startswith(
        '<script type="importmap" nonce="given">'
    )
    assert ' nonce="n0nce"' in render('{% static_script "app/classic.js" %}', csp_nonce="n0nce")
    assert ' nonce="n" ' not in render('{% modulepreload "app/mod/a.mjs" %}')


def test_modulepreload_lists_static_imports_dependencies_first(built: StaticProject) -> None:
    html = render('{% modulepreload "app/mod/main.mjs" %}')
    links = html.split("\n")
    expected = []
    for name in ("app/mod/shared.mjs", "app/mod/a.mjs", "app/mod/main.mjs"):
        url, integrity = url_and_integrity(built, name)
        expected.append(f'<link rel="modulepreload" href="{url}" integrity="{integrity}">')
    assert links == expected  # lazy.mjs is loaded by import(), not preloaded


def test_import_map_json_cannot_close_its_script(project: StaticProject) -> None:
    project.write("app/</script><b>.mjs", "export const x = 1;\n")
    project.configure(integrity=True)
    project.collect()
    reload_storage()
    html = render("{% importmap %}")
    assert html.count("</script>") == 1 and html.count("<") == 2


@pytest.mark.parametrize(
    "source",
    [
        '{% static_integrity "app/nope.css" %}',
        '{% static_script "app/nope.css" %}',
        '{% static_stylesheet "app/nope.css" %}',
        '{% modulepreload "app/nope.css" %}',
    ],
)
def test_a_path_not_in_the_manifest_is_a_value_error_naming_it(
    built: StaticProject, source: str
) -> None:
    with pytest.raises(ValueError, match=r"Missing staticfiles manifest entry for 'app/nope\.css'"):
        render(source)


def test_a_build_without_integrity_is_a_value_error_naming_the_path(
    project: StaticProject,
) -> None:
    project.write("app/site.css", STYLESHEET)
    project.collect()
    reload_storage()
    with pytest.raises(
        ValueError, match=r"No integrity for 'app/site\.css'.*\[\"integrity\"\] = True"
    ):
        render('{% static_stylesheet "app/site.css" %}')


def test_debug_without_a_build_renders_plain_urls_and_logs_once(
    project: StaticProject, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from assetpipe.templatetags import assetpipe as tags

    # Sources the finders find, never built: in DEBUG a name no finder finds raises.
    project.write("app/mod/main.mjs", MODULES["app/mod/main.mjs"])
    project.write("app/x.css", STYLESHEET)
    settings.DEBUG = True
    tags._logged.clear()
    reload_storage()
    with caplog.at_level(logging.WARNING, logger="assetpipe"):
        for _ in range(3):
            assert render('{% static_script "app/mod/main.mjs" type="module" %}') == (
                '<script src="/static/app/mod/main.mjs" type="module"></script>'
            )
            assert render('{% modulepreload "app/mod/main.mjs" %}') == (
                '<link rel="modulepreload" href="/static/app/mod/main.mjs">'
            )
            assert json.loads(render("{% importmap %}")[25:-9]) == {"imports": {}, "integrity": {}}
            assert render('{% static_integrity "app/x.css" %}') == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "assetpipe"]
    assert len(messages) == len(set(messages)) >= 1
    assert all("plain URLs" in m for m in messages)


def test_tags_read_no_file_while_rendering(built: StaticProject) -> None:
    render('{% importmap %}{% static_script "app/classic.js" %}')
    (built.root / "staticfiles.json").unlink()
    assert "integrity=" in render('{% static_script "app/classic.js" %}{% importmap %}')
