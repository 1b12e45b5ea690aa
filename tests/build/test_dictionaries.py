"""The dictionaries option through collectstatic: deltas against earlier builds on disk, in
staticfiles.json, reused, removed; and nothing at all with the option off."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
import string
from typing import Any

import pytest

from assetpipe.build.dictionaries import DCZ_MAGIC, dcz_decode, dictionaries, match_pattern
from assetpipe.naming import (
    delta_name,
    dictionary_id,
    split_delta,
    split_variant,
    variant_original,
)
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])


def script(version: int) -> str:
    """A script whose versions differ in a few places, as a patch release's do; its words are
    varied enough that brotli alone cannot make it small."""
    words = random.Random(9842)
    functions = "\n".join(
        f"export function {''.join(words.choices(string.ascii_lowercase, k=8))}(element) {{\n"
        f"  element.dataset.{''.join(words.choices(string.ascii_lowercase, k=6))} = "
        f"'{i * (version if i % 17 == 0 else 1)}';\n"
        f"  return element.querySelectorAll('.{words.randrange(10**9):x}').length;\n}}\n"
        for i in range(120)
    )
    return f'export const VERSION = "1.{version}.0";\n{functions}'


def stylesheet(version: int) -> str:
    rules = "\n".join(
        f".block-{i} {{ margin: {i % 7}px; color: #{(i * version) % 4096:03x}; }}"
        for i in range(300)
    )
    return f"/* theme {version} */\n{rules}\n"


def write(project: StaticProject, version: int) -> None:
    project.write("js/app.js", script(version))
    project.write("css/site.css", stylesheet(version))
    project.write("css/print.css", "@media print { body { color: black; } }\n" * 40)


def built(project: StaticProject) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(project.read("staticfiles.json"))
    return stored


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_deltas_against_the_previous_build(project: StaticProject) -> None:
    project.configure(dictionaries={})
    write(project, 1)
    project.collect()
    first = project.manifest()
    old_js = project.read(first["js/app.js"])
    # The first build has nothing to compare with: every file is a dictionary, no deltas yet.
    assert built(project)["dictionaries"] == {
        first["css/print.css"]: {"match": "print.*.css", "dest": "style", "deltas": []},
        first["css/site.css"]: {"match": "site.*.css", "dest": "style", "deltas": []},
        first["js/app.js"]: {"match": "app.*.js", "dest": "script", "deltas": []},
    }

    write(project, 2)
    out, _ = project.collect()
    second = project.manifest()
    new_js = project.read(second["js/app.js"])
    entries = built(project)["dictionaries"]
    assert isinstance(entries, dict)
    assert entries[second["js/app.js"]]["deltas"] == [sha256_b64(old_js)]
    assert entries[second["css/print.css"]]["deltas"] == []  # unchanged: nothing to send
    delta = project.read(
        delta_name(second["js/app.js"], dictionary_id(hashlib.sha256(old_js).digest()))
    )
    # RFC 9842's dcz: the skippable frame naming the dictionary, then zstd with it as content.
    assert delta[:8] == DCZ_MAGIC and delta[8:40] == hashlib.sha256(old_js).digest()
    assert dcz_decode(delta, old_js, len(new_js)) == new_js
    brotli_size = len(project.read(second["js/app.js"] + ".br"))
    assert len(delta) < brotli_size / 10
    assert "3 dictionaries, 2 deltas made" in out


def test_versions_of_the_last_builds_only(project: StaticProject) -> None:
    project.configure(dictionaries={"previous_builds": 2})
    versions = []
    for version in range(1, 5):
        write(project, version)
        project.collect()
        versions.append(project.read(project.manifest()["js/app.js"]))
    entry = built(project)["dictionaries"][project.manifest()["js/app.js"]]
    # Builds 3 and 2 (two back), not 1.
    assert entry["deltas"] == sorted(sha256_b64(v) for v in versions[1:3])
    current = project.manifest()["js/app.js"]
    on_disk = {n for n in project.files() if split_delta(n)[0] == current and n != current}
    assert on_disk == {
        delta_name(current, dictionary_id(hashlib.sha256(v).digest())) for v in versions[1:3]
    }
    # Deltas of earlier builds' files are gone with the builds that made them.
    assert all(
        split_delta(n)[0] in project.manifest().values()
        for n in project.files()
        if split_delta(n)[1]
    )


def test_second_run_reuses_and_a_changed_delta_is_made_again(project: StaticProject) -> None:
    project.configure(dictionaries={})
    write(project, 1)
    project.collect()
    write(project, 2)
    project.collect()
    before = project.files()
    out, _ = project.collect()
    assert "0 deltas made, 2 reused" in out
    assert project.files() == before
    # A delta edited on disk is not trusted: made again (from the cache, checked by decoding).
    name = next(n for n in before if split_delta(n)[1] and n.endswith(".dcz") and "/app." in n)
    (project.root / name).write_bytes(b"tampered")
    project.collect()
    assert project.read(name) == before[name]


def test_fresh_static_root_keeps_the_history_of_the_state(project: StaticProject) -> None:
    """STATIC_ROOT deleted (a CI runner with a persisted state): the previous build's files are
    gone, so no delta can be made from them, and the build says so without failing."""
    project.configure(dictionaries={})
    write(project, 1)
    project.collect()
    shutil.rmtree(project.root)
    write(project, 2)
    _, err = project.collect()
    assert all(entry["deltas"] == [] for entry in built(project)["dictionaries"].values())
    assert not err


def test_a_pattern_that_would_match_another_file_is_not_declared(project: StaticProject) -> None:
    project.configure(dictionaries={})
    project.write("js/app.js", script(1))
    project.write("js/app.min.js", script(2))
    project.collect()
    manifest = project.manifest()
    entries = built(project)["dictionaries"]
    # "app.*.js" would match app.min.<hash>.js: app.js is no dictionary; app.min.js is.
    assert manifest["js/app.js"] not in entries
    assert entries[manifest["js/app.min.js"]]["match"] == "app.min.*.js"


def test_option_off_leaves_every_output_as_before(project: StaticProject) -> None:
    # On for two builds, then off again: the deltas and the manifest key go...
    project.configure(dictionaries={})
    write(project, 1)
    project.collect()
    write(project, 2)
    project.collect()
    assert any(split_delta(n)[1] for n in project.files())
    project.configure(dictionaries=None)
    project.collect()
    after = project.files()
    # ...and what is left is what a build that never had the option writes, byte for byte.
    shutil.rmtree(project.root)
    shutil.rmtree(project.root.parent / ".assetpipe")
    project.collect()
    never = project.files()
    assert {n: after[n] for n in never} == never
    # Beside them only the first build's hashed copies, which Django's storage never removes.
    assert {variant_original(n) for n in set(after) - set(never)} == {
        n for n in after if n not in never and split_variant(n)[1] is None
    }
    assert not any(split_delta(n)[1] for n in after)


def test_patterns_and_names() -> None:
    assert match_pattern("js/app.js") == "app.*.js"
    assert match_pattern("css/a(b).css") == r"a\(b\).*.css"
    assert match_pattern("img/a.png") is None and match_pattern("js/.js") is None
    name = "js/app.0123456789ab.js"
    delta = delta_name(name, "0123456789abcdef")
    assert delta == name + ".0123456789abcdef.dcz"
    assert split_delta(delta) == (name, "0123456789abcdef") and variant_original(delta) == name
    found, excluded = dictionaries(
        {"a.js": "a.0123456789ab.js", "a.b.js": "a.b.0123456789ab.js"},
        ["a.js", "a.0123456789ab.js", "a.b.js", "a.b.0123456789ab.js"],
    )
    assert excluded == ["a.js"] and list(found) == ["a.b.js"]
