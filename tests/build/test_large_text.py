"""Files over LARGE_FILE: rewritten in pieces where that gives the whole-text rewrite's bytes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import HashedFilesMixin
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from assetpipe.build import large_text
from assetpipe.build.hashing import JS_MODULE_PATTERNS, Rule, compile_rules
from assetpipe.build.outputs import LARGE_FILE
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

DJANGO_RULES = compile_rules(HashedFilesMixin.patterns, HashedFilesMixin.default_template, None)
CSS_RULES = DJANGO_RULES["*.css"]
JS_RULES = DJANGO_RULES["*.js"]


def shape(pattern: str, flags: int = re.IGNORECASE) -> large_text.RuleShape:
    return large_text.rule_shape(re.compile(pattern, flags))


def test_django_source_map_rules_are_line_anchored_and_url_rules_are_not() -> None:
    url, css_import, css_map = (large_text.rule_shape(r.pattern) for r in CSS_RULES)
    (js_map,) = (large_text.rule_shape(r.pattern) for r in JS_RULES)
    assert css_map.starts_lines and js_map.starts_lines
    # url( and @import allow newlines in their \s*.
    assert not url.starts_lines and not css_import.starts_lines
    assert [s.fixed_text.pattern for s in (url, css_import, css_map, js_map) if s.fixed_text] == [
        re.escape("url("),
        re.escape("@import"),
        re.escape("/*#"),
        re.escape("//# sourceMappingURL="),
    ]
    modules = compile_rules((JS_MODULE_PATTERNS,), "", None)["*.js"]
    assert not any(large_text.rule_shape(r.pattern).starts_lines for r in modules)


@pytest.mark.parametrize(
    "pattern, flags",
    [
        (r"^x.*", re.IGNORECASE),  # ^ without MULTILINE: the start of the text only
        (r"(?m)^x.*", re.DOTALL),  # . takes newlines
        (r"(?m)^x\s", 0),  # \s takes newlines
        (r"(?m)^x[^a]", 0),  # so does a negated class
        (r"(?m)^x(?=y)", 0),  # look-ahead
        (r"(?m)^(x)\1", 0),  # back reference
        (r"(?m)\Ax", 0),
        (r"(?m)x$", 0),  # not anchored at the start of a line
        (r"(?m)^", 0),  # matches nothing: an empty match at every line
    ],
)
def test_patterns_that_may_leave_their_line_are_not_line_anchored(pattern: str, flags: int) -> None:
    assert not shape(pattern, flags).starts_lines


@pytest.mark.parametrize(
    "pattern", [r"(?m)^x[ \t]*\S+$", r"(?m)^x(?:a|b)+\b", r"(?m)^x[^\n]*", r"(?m)^(?:x|y)\w"]
)
def test_patterns_held_to_their_line_are_line_anchored(pattern: str) -> None:
    assert shape(pattern).starts_lines


def rewrite_whole(text: str, rules: list[Rule]) -> tuple[str, list[tuple[int, str]]]:
    seen: list[tuple[int, str]] = []
    for rule in rules:
        text = rule.pattern.sub(lambda m: mark(m, 1, seen), text)
    return text, seen


def mark(match: re.Match[str], first_line: int, seen: list[tuple[int, str]]) -> str:
    seen.append((first_line + match.string.count("\n", 0, match.start()), match.group(0)))
    return f"<{match.group('url').upper()}>"


def rewrite_pieces(
    path: Path, rules: list[Rule], piece: int
) -> tuple[str, list[tuple[int, str]], str, int]:
    seen: list[tuple[int, str]] = []

    def rewrite(text: str, first_line: int) -> str:
        for rule in rules:
            text = rule.pattern.sub(lambda m: mark(m, first_line, seen), text)
        return text

    out = io.BytesIO()
    digest, size = large_text.rewrite_in_pieces(path, rules, rewrite, out, piece=piece, read=7)
    return out.getvalue().decode(), seen, digest, size


FRAGMENTS = [
    "\n",
    " ",
    "x",
    "é",
    "\U0001f600",  # outside the BMP: 4 bytes of UTF-8, split between reads
    "//# sourceMappingURL=a.js.map",
    "//# sourceMappingURL=",
    "//# SOURCEMAPPINGURL=b.map",
    "/*# sourceMappingURL=c.css.map */",
    "/*#\tsourceMappingURL=d.map\t*/",
    "url(e.png)",
]


@examples(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from(FRAGMENTS), max_size=60),
    piece=st.integers(min_value=1, max_value=40),
    css=st.booleans(),
)
def test_rewriting_in_pieces_gives_the_whole_text_rewrite(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str], piece: int, css: bool
) -> None:
    text = "".join(parts)
    path = tmp_path_factory.mktemp("large") / "file"
    path.write_bytes(text.encode())
    rules = [CSS_RULES[2]] if css else JS_RULES
    expected, expected_seen = rewrite_whole(text, rules)
    got, seen, digest, size = rewrite_pieces(path, rules, piece)
    assert got == expected
    assert seen == expected_seen  # the same matches, with the same line numbers
    assert size == len(expected.encode())
    assert digest == hashlib.md5(expected.encode()).hexdigest()


# "\u0131" is a dotless i, which IGNORECASE matches to "i".
LEFT_OUT_FRAGMENTS = [*FRAGMENTS, "@import", "@\u0131mport", "URL("]


@examples(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(LEFT_OUT_FRAGMENTS), max_size=40))
def test_a_rule_left_out_matches_nowhere(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    text = "".join(parts)
    path = tmp_path_factory.mktemp("large") / "file.css"
    path.write_bytes(text.encode())
    active = large_text.active_rules(path, CSS_RULES)
    assert active == CSS_RULES[len(CSS_RULES) - len(active) :]  # only leading rules go
    for rule in CSS_RULES[: len(CSS_RULES) - len(active)]:
        assert rule.pattern.search(text) is None


def test_a_file_that_is_not_utf8_is_left_to_the_whole_text_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "file.js"
    path.write_bytes(b"x" * 10 + b"\xff\n")
    with pytest.raises(large_text.Undecodable):
        large_text.active_rules(path, JS_RULES)


def large_js(source: Path) -> None:
    """A bundle just over LARGE_FILE, with characters outside the BMP and a source map."""
    line = "var a = '\U0001f600 \u00e9';  // " + "x" * 60 + "\n"
    js = line * (LARGE_FILE // len(line.encode()) + 1) + "//# sourceMappingURL=app.js.map\n"
    (source / "js").mkdir(parents=True)
    (source / "js" / "app.js").write_text(js)
    (source / "js" / "app.js.map").write_text('{"version": 3}')


def large_css(source: Path) -> None:
    """A stylesheet just over LARGE_FILE without any reference."""
    rule = ".a\U0001f600 { color: red; }\n"
    (source / "css").mkdir(parents=True)
    (source / "css" / "big.css").write_text(rule * (LARGE_FILE // len(rule.encode()) + 1))


def test_large_files_are_hashed_as_django_does(project: StaticProject, settings: object) -> None:
    large_js(project.source)
    large_css(project.source)
    project.configure(encodings=[])
    project.collect()
    ours = project.files()

    reference = project.base / "django"
    settings.STATIC_ROOT = str(reference)  # type: ignore[attr-defined]
    settings.STORAGES = {  # type: ignore[attr-defined]
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    theirs = {
        str(p.relative_to(reference)): p.read_bytes() for p in reference.rglob("*") if p.is_file()
    }
    assert (
        json.loads(ours.pop("staticfiles.json"))["paths"]
        == json.loads(theirs.pop("staticfiles.json"))["paths"]
    )
    assert ours == theirs
    hashed_js = [name for name in ours if name.startswith("js/app.") and name.endswith(".js")]
    assert len(hashed_js) == 2 and any(
        ours[name].endswith(b"//# sourceMappingURL=app.js.map\n") for name in hashed_js
    )


@pytest.mark.parametrize(
    "make, in_pieces",
    [
        (large_css, True),  # no rule can match: copied
        # Django 6.1's source map rule skips comments and strings, which it finds with
        # patterns that look arbitrarily far ahead: there the bundle is rewritten whole.
        (large_js, large_text.rewritable_in_pieces(JS_RULES)),
    ],
)
def test_large_files_are_not_held_whole(
    project: StaticProject, make: Callable[[Path], None], in_pieces: bool
) -> None:
    make(project.source)
    project.configure(encodings=[])
    tracemalloc.start()
    try:
        project.collect()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The whole text of either file takes four times LARGE_FILE (4-byte characters).
    assert (peak < LARGE_FILE // 2) if in_pieces else (peak > LARGE_FILE)


def test_a_missing_reference_in_a_large_file_names_its_line(project: StaticProject) -> None:
    large_js(project.source)
    (project.source / "js" / "app.js.map").unlink()
    lines = (project.source / "js" / "app.js").read_bytes().count(b"\n")
    project.configure(encodings=[])
    _, err = project.collect()
    assert f"js/app.js:{lines}: //# sourceMappingURL=app.js.map -> js/app.js.map" in err
