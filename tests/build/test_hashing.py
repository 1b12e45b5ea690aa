"""The hash step's pieces: rules from Django's pattern shapes, reference resolution."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles.storage import HashedFilesMixin

from assetpipe.build.hashing import JS_IGNORED, JS_MODULE_PATTERNS, compile_rules
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])


def test_compile_rules_takes_every_django_entry_shape() -> None:
    css_ignored = re.compile(r"/\*.*?\*/", re.DOTALL)
    rules = compile_rules(
        (
            ("*.css", (r"(?P<matched>url\((?P<url>.*?)\))", (r"(?P<matched>x(?P<url>y))", "T"))),
            JS_MODULE_PATTERNS,
        ),
        'url("%(url)s")',
        css_ignored,
    )
    plain, pair = rules["*.css"]
    assert plain.template == 'url("%(url)s")' and plain.ignored is css_ignored
    assert pair.template == "T" and pair.ignored is css_ignored
    assert all(rule.ignored is JS_IGNORED for rule in rules["*.js"])
    assert plain.pattern.flags & re.IGNORECASE


def test_django_patterns_compile_on_the_installed_version() -> None:
    rules = compile_rules(HashedFilesMixin.patterns, HashedFilesMixin.default_template, None)
    assert set(rules) == {"*.css", "*.js"}


def test_references_resolve_as_django_does(project: StaticProject) -> None:
    project.write("css/app.css", 'a { background: url("../img/a.png?v=2#frag"); }\n'
                  '@font-face { src: url("../fonts/f.eot?#iefix"); }\n'
                  'b { background: url("/static/img/a.png"); }\n'
                  'c { background: url("data:image/png;base64,AAAA"); }\n'
                  'd { background: url("//cdn.example/x.png"); }\n')  # fmt: skip
    project.write("img/a.png", b"png")
    project.write("fonts/f.eot", b"eot")
    project.collect()
    manifest = project.manifest()
    out = project.read(manifest["css/app.css"]).decode()
    png = manifest["img/a.png"].split("/")[-1]
    eot = manifest["fonts/f.eot"].split("/")[-1]
    assert f'url("../img/{png}?v=2#frag")' in out
    assert f'url("../fonts/{eot}?#iefix")' in out
    assert f'url("/static/img/{png}")' in out
    assert 'url("data:image/png;base64,AAAA")' in out
    assert 'url("//cdn.example/x.png")' in out


def test_reference_to_a_directory_or_outside_the_tree_is_not_fatal(project: StaticProject) -> None:
    project.write("css/app.css", 'a { background: url("../../../etc/passwd"); }\n')
    _, err = project.collect()
    assert "css/app.css:1:" in err
    assert b"../../../etc/passwd" in project.read(project.manifest()["css/app.css"])
