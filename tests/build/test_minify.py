"""The minify option: minified bytes are what is hashed, written, compressed and hashed for SRI."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import brotli
import django.contrib.admin
import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import empty

from assetpipe.build.minify import (
    MINIFIED_LINE,
    MinifyStep,
    Tdewolff,
    kind_of,
    left_alone,
)
from assetpipe.build.sources import Source
from assetpipe.digests import md5_bytes
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

ADMIN_STATIC = Path(django.contrib.admin.__file__).parent / "static"
SUMMARY = re.compile(r"assetpipe: minified (\d+) files \((\d+) reused\)")

STYLESHEET = """/* The site's colours.
   A long comment that minification drops. */
@import url("theme.css");

body {
    background : url( "../img/dot.png" ) no-repeat;   /* the dot */
    color : #ff0000;
}
"""
THEME = """:root {
    --accent : #336699;   /* brand */
}
"""
SCRIPT = """// Greets the visitor.
import { greet } from "./greeting.js";

function describeVisitor(visitorName) {
    // A comment, and a long local name that the minifier may shorten.
    const greetingText = greet(visitorName);
    return greetingText;
}

document.body.dataset.greeting = describeVisitor("you");
"""
GREETING = """export function greet(name) {
    return "Hello, " + name;   // the greeting
}
"""
BROKEN = "function ( {\n  // not JavaScript\n"
MINIFIED_VENDOR = "!function(){var a=1;window.b=a}();\n"
WITH_MAP = "function mapped() {\n    return 1;\n}\n//# sourceMappingURL=mapped.js.map\n"
DOT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)


def minified(kind: str, text: str) -> bytes:
    return Tdewolff().minify(kind, text).encode()


def write_tree(project: StaticProject) -> None:
    project.write("css/site.css", STYLESHEET)
    project.write("css/theme.css", THEME)
    project.write("img/dot.png", DOT_PNG)
    project.write("js/app.js", SCRIPT)
    project.write("js/greeting.js", GREETING)
    # Large enough for .br/.gz variants.
    project.write("css/rules.css", "".join(RULE.format(n=n) for n in range(200)))


RULE = """/* Rule {n}. */
.item-{n} {{
    margin : {n}px 0 0 0;
    background : url("../img/dot.png");
}}
"""


def reload_storage() -> None:
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def hashed_name(name: str, data: bytes) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}.{md5_bytes(data)[:12]}.{ext}"


def test_hashed_files_are_the_minified_bytes_and_named_by_them(project: StaticProject) -> None:
    write_tree(project)
    project.configure(minify=["css", "js"], js_module_imports=True)
    out, err = project.collect()
    manifest = project.manifest()

    theme = minified("css", THEME)
    assert project.read(manifest["css/theme.css"]) == theme
    assert manifest["css/theme.css"] == hashed_name("css/theme.css", theme)
    # References are rewritten in the minified text, to the minified targets' names.
    site = project.read(manifest["css/site.css"])
    theme_ref = manifest["css/theme.css"].split("/")[1].encode()
    assert site == (
        minified("css", STYLESHEET)
        .replace(b'@import "theme.css"', b'@import url("' + theme_ref + b'")')
        .replace(b"url(../img/dot.png)", b'url("../' + manifest["img/dot.png"].encode() + b'")')
    )
    assert manifest["css/site.css"] == hashed_name("css/site.css", site)
    assert b"/*" not in site and b"\n" not in site.strip()

    greeting = minified("js", GREETING)
    assert project.read(manifest["js/greeting.js"]) == greeting
    app = project.read(manifest["js/app.js"])
    assert manifest["js/greeting.js"].split("/")[1].encode() in app
    assert len(app) < 0.6 * len(SCRIPT) and b"//" not in app and b"visitorName" not in app

    # The originals' names in STATIC_ROOT hold the minified bytes too (references as written).
    assert project.read("css/theme.css") == theme
    assert project.read("js/greeting.js") == greeting
    assert project.read("css/site.css") == minified("css", STYLESHEET)
    # Every .br/.gz decodes to the minified bytes beside it.
    for name in ("css/rules.css", manifest["css/rules.css"]):
        data = project.read(name)
        assert b"Rule" not in data
        assert brotli.decompress(project.read(name + ".br")) == data
        assert gzip.decompress(project.read(name + ".gz")) == data
    # staticfiles.json is Django's.
    assert list(json.loads(project.read("staticfiles.json"))) == ["paths", "version", "hash"]
    assert SUMMARY.search(out) is not None and SUMMARY.search(out).groups() == ("5", "0")  # type: ignore[union-attr]
    assert "minif" not in err


def test_integrity_is_of_the_minified_bytes(project: StaticProject) -> None:
    write_tree(project)
    project.configure(minify=["css", "js"], integrity=True)
    project.collect()
    stored = json.loads(project.read("staticfiles.json"))
    manifest = stored["paths"]
    for key in ("css/site.css", "js/app.js", "js/greeting.js"):
        for name in (key, manifest[key]):
            data = project.read(name)
            digest = base64.b64encode(hashlib.sha384(data).digest()).decode()
            assert stored["integrity"][name] == f"sha384-{digest}", name
    assert project.read("js/greeting.js") == minified("js", GREETING)


def test_off_every_output_is_what_it_was_without_the_option(tmp_path: Path, settings: Any) -> None:
    builds = {}
    for label, options in (("never", {}), ("empty", {"minify": []}), ("was_on", None)):
        project = StaticProject(tmp_path / label, settings)
        write_tree(project)
        if options is None:
            project.configure(minify=["css", "js"])
            project.collect()
            assert project.read("css/theme.css") == minified("css", THEME)
            project.configure(minify=[])
        else:
            project.configure(**options)
        reload_storage()
        out, _ = project.collect()
        assert not SUMMARY.search(out)
        builds[label] = {
            name: data for name, data in project.files().items() if name != "staticfiles.json"
        }
        builds[label]["paths"] = json.dumps(project.manifest()).encode()
    assert builds["empty"] == builds["never"]
    # Turned off again: every original and the manifest are as without it (the minified
    # hashed copies of the last build stay, as any earlier build's hashed files do).
    assert {n: builds["was_on"][n] for n in builds["never"]} == builds["never"]
    assert builds["never"]["css/theme.css"] == THEME.encode()


def test_min_names_source_maps_bundler_output_and_other_kinds_are_left_alone(
    project: StaticProject,
) -> None:
    write_tree(project)
    kept = {
        "vendor/lib.min.js": SCRIPT,  # by name, even though it is not minified
        "vendor/lib.min.css": STYLESHEET.replace("theme.css", "../css/theme.css"),
        "vendor/oneline.js": "var a = 1; " * 40 + "\n",  # lines average over 200 bytes
        "js/mapped.js": WITH_MAP,
        "dist/bundle-3f2a9c1b.js": SCRIPT.replace("./greeting.js", "../js/greeting.js"),
    }
    for name, text in kept.items():
        project.write(name, text)
    project.write("js/mapped.js.map", "{}")
    project.configure(minify=["js"], prehashed=["dist/*"])
    out, _ = project.collect()
    manifest = project.manifest()
    for name in ("vendor/lib.min.js", "vendor/oneline.js", "js/mapped.js"):
        assert project.read(name) == kept[name].encode(), name
    for name in ("vendor/lib.min.js", "vendor/oneline.js"):
        assert project.read(manifest[name]) == kept[name].encode(), name
    # Its map's name is hashed, as ever; nothing else changed.
    map_name = manifest["js/mapped.js.map"].split("/")[1]
    expected = WITH_MAP.replace("mapped.js.map", map_name).encode()
    assert project.read(manifest["js/mapped.js"]) == expected
    assert manifest["dist/bundle-3f2a9c1b.js"] == "dist/bundle-3f2a9c1b.js"
    assert project.read("dist/bundle-3f2a9c1b.js") == kept["dist/bundle-3f2a9c1b.js"].encode()
    # Only "js": the stylesheets stay as written (their references rewritten, as ever).
    assert project.read("css/theme.css") == THEME.encode()
    assert project.read("vendor/lib.min.css") == kept["vendor/lib.min.css"].encode()
    assert project.read("js/greeting.js") == minified("js", GREETING)
    assert SUMMARY.search(out).groups() == ("2", "0")  # type: ignore[union-attr]
    assert "4 left as they are" in out  # lib.min.js, oneline.js, mapped.js and the bundle


def test_a_file_the_minifier_refuses_is_kept_and_named_in_a_warning(
    project: StaticProject,
) -> None:
    write_tree(project)
    project.write("js/broken.js", BROKEN)
    project.configure(minify=["css", "js"])
    _, err = project.collect()
    manifest = project.manifest()
    assert project.read(manifest["js/broken.js"]) == BROKEN.encode()
    assert project.read("js/broken.js") == BROKEN.encode()
    assert re.search(r"assetpipe: js/broken\.js: not minified, kept as it is \(.+\)", err), err
    # The rest of the build went on.
    assert project.read(manifest["js/greeting.js"]) == minified("js", GREETING)
    # The next run says so again, from the cache.
    _, err = project.collect()
    assert "js/broken.js: not minified, kept as it is" in err


def test_the_second_run_minifies_nothing_and_a_deleted_root_reuses_the_cache(
    project: StaticProject,
) -> None:
    write_tree(project)
    project.configure(minify=["css", "js"])
    project.collect()
    before = project.files()
    out, _ = project.collect()
    assert SUMMARY.search(out).groups() == ("5", "5")  # type: ignore[union-attr]
    assert project.files() == before
    shutil.rmtree(project.root)
    out, _ = project.collect()
    assert SUMMARY.search(out).groups() == ("5", "5")  # type: ignore[union-attr]
    assert project.files() == before
    # An edited source is minified again, alone; the original's name holds the new bytes.
    project.write("css/theme.css", THEME.replace("#336699", "#123456"))
    out, _ = project.collect()
    assert SUMMARY.search(out).groups() == ("5", "4")  # type: ignore[union-attr]
    assert project.read("css/theme.css") == minified("css", THEME.replace("#336699", "#123456"))


def test_a_damaged_cache_blob_is_made_again(project: StaticProject) -> None:
    write_tree(project)
    project.configure(minify=["css", "js"])
    project.collect()
    before = project.files()
    blobs = sorted((project.root.parent / ".assetpipe").rglob("*.min"))
    assert len(blobs) == 5
    for blob in blobs:
        data = bytearray(blob.read_bytes())
        data[-1] ^= 0xFF
        blob.write_bytes(bytes(data))
    shutil.rmtree(project.root)
    out, _ = project.collect()
    assert SUMMARY.search(out).groups() == ("5", "0")  # type: ignore[union-attr]
    assert project.files() == before


def test_django_admin_reaches_the_browser_at_least_a_fifth_smaller_after_brotli(
    tmp_path: Path, settings: Any
) -> None:
    """Admin's own CSS/JS (its vendor/ files ship minified), as the .br variants sent."""
    sizes = {}
    for kinds in ([], ["css", "js"]):
        project = StaticProject(tmp_path / ("on" if kinds else "off"), settings)
        shutil.copytree(ADMIN_STATIC, project.source, dirs_exist_ok=True)
        project.configure(minify=kinds)
        reload_storage()
        project.collect()
        manifest = project.manifest()
        own = [
            name
            for name in manifest
            if name.endswith((".css", ".js")) and "/vendor/" not in name and ".min." not in name
        ]
        assert len(own) >= 30
        sent = 0
        for name in own:
            data = project.read(manifest[name])
            variant = project.root / (manifest[name] + ".br")
            if variant.exists():  # a file too small to gain from brotli is sent as it is
                assert brotli.decompress(variant.read_bytes()) == data
                data = variant.read_bytes()
            sent += len(data)
        sizes[bool(kinds)] = sent
    assert sizes[True] <= 0.8 * sizes[False], sizes


def test_option_is_validated_with_the_kits_message(project: StaticProject) -> None:
    for value, message in (
        ("css", r'\["minify"\] is .css. \(str\); expected a list of kinds from "css", "js"\.'),
        (["html"], r"'html' is none of them"),
        (["css", "css"], r"each kind at most once"),
    ):
        project.configure(minify=value)
        reload_storage()
        with pytest.raises(ImproperlyConfigured, match=message):
            staticfiles_storage.url  # noqa: B018 - instantiates the storage


def test_kinds_and_what_is_left_alone() -> None:
    assert kind_of("a/b.CSS", ("css", "js")) == "css"
    assert kind_of("a/b.mjs", ("js",)) == "js"
    assert kind_of("a/b.css", ("js",)) is None
    assert kind_of("a/b.json", ("css", "js")) is None
    assert left_alone(SCRIPT.encode()) is None
    assert left_alone(b"a{}\n/*# sourceMappingURL=a.css.map */\n") == "it has a sourceMappingURL"
    assert left_alone(b"x" * (MINIFIED_LINE + 1)) is not None
    assert left_alone(b"x" * MINIFIED_LINE) is None


class Failing:
    version = "failing 1"

    def minify(self, kind: str, text: str) -> str:
        raise ValueError("line 1: nope\nmore detail")


def test_the_step_takes_data_and_keeps_what_fails(tmp_path: Path) -> None:
    data = SCRIPT.encode()
    source = Source("js/app.js", "js/app.js", md5_bytes(data), len(data), None, lambda: data)
    result = MinifyStep(("js",), tmp_path, Failing()).run({"js/app.js": source}, keep=())
    assert result.sources["js/app.js"] is source and not result.replaced
    assert result.warnings == ["js/app.js: not minified, kept as it is (line 1: nope)"]

    result = MinifyStep(("js",), tmp_path, Tdewolff()).run({"js/app.js": source}, keep=())
    out = result.sources["js/app.js"]
    assert out.load() == minified("js", SCRIPT) and out.path is None
    assert (out.digest, out.size) == (md5_bytes(out.load()), len(out.load()))
    assert result.replaced == {"js/app.js"} and result.minified == 1
