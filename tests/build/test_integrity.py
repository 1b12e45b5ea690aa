"""The integrity and module-graph steps through collectstatic: what lands in staticfiles.json."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from assetpipe.build.integrity import IntegrityResult, compute_integrity, sri_file
from assetpipe.build.modules import find_specifiers, resolve_specifier
from assetpipe.build.outputs import BuiltFile
from assetpipe.build.state import IntegrityState, PlainRecord
from tests.build.modules_tree import CLASSIC_SCRIPT, MODULES, STYLESHEET
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

COUNTS = re.compile(r"assetpipe: integrity of (\d+) files: (\d+) computed \((\d+) reused\)")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def write_app(project: StaticProject) -> None:
    for name, text in MODULES.items():
        project.write(name, text)
    project.write("app/classic.js", CLASSIC_SCRIPT)
    project.write("app/site.css", STYLESHEET)


def stored(project: StaticProject) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((project.root / "staticfiles.json").read_bytes())
    return loaded


def served_names(root: Path) -> list[str]:
    """Every file a server sends from STATIC_ROOT: no variants, dotfiles or the manifest."""
    names = []
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        hidden = "/." in f"/{name}"
        if path.is_file() and path.suffix not in (".br", ".gz") and not hidden:
            names.append(name)
    return [n for n in names if n != "staticfiles.json"]


def test_off_by_default_the_manifest_has_only_djangos_keys(project: StaticProject) -> None:
    write_app(project)
    out, _ = project.collect()
    assert list(stored(project)) == ["paths", "version", "hash"]
    assert not COUNTS.search(out)


def test_every_served_file_of_the_admin_tree_has_its_sha384(
    project: StaticProject, settings: Any
) -> None:
    settings.STATICFILES_FINDERS = [
        "django.contrib.staticfiles.finders.FileSystemFinder",
        "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    ]
    write_app(project)
    project.configure(integrity=True)
    out, _ = project.collect()
    manifest = stored(project)
    integrity = manifest["integrity"]
    assert isinstance(integrity, dict)
    names = served_names(project.root)
    assert any(n.startswith("admin/js/") for n in names) and len(names) > 200
    assert sorted(integrity) == names  # hashed copies and originals alike
    for name in names:
        assert integrity[name] == sri(project.read(name)), name
    total, computed, reused = map(int, COUNTS.search(out).groups())  # type: ignore[union-attr]
    assert total == len(names) and computed + reused == total and computed > 0


def test_a_no_change_run_computes_no_integrity(project: StaticProject) -> None:
    write_app(project)
    project.configure(integrity=True)
    project.collect()
    before = (project.root / "staticfiles.json").read_bytes()
    out, _ = project.collect()
    total, computed, reused = map(int, COUNTS.search(out).groups())  # type: ignore[union-attr]
    assert (computed, reused) == (0, total)
    assert (project.root / "staticfiles.json").read_bytes() == before


def test_the_module_graph_in_manifest_keys(project: StaticProject) -> None:
    write_app(project)
    project.configure(integrity=True)
    project.collect()
    modules = stored(project)["modules"]
    assert modules == {
        "app/mod/a.mjs": {"mapped": True, "imports": ["app/mod/shared.mjs"], "dynamic": []},
        "app/mod/lazy.mjs": {"mapped": True, "imports": ["app/mod/shared.mjs"], "dynamic": []},
        "app/mod/main.mjs": {
            "mapped": True,
            "imports": ["app/mod/a.mjs", "app/mod/shared.mjs"],
            "dynamic": ["app/mod/lazy.mjs"],
        },
        "app/mod/shared.mjs": {"mapped": True, "imports": [], "dynamic": []},
    }


def test_the_graph_is_the_same_when_js_module_imports_rewrites(project: StaticProject) -> None:
    for name, text in MODULES.items():
        project.write(name.replace(".mjs", ".js"), text.replace(".mjs", ".js"))
    project.configure(integrity=True, js_module_imports=True, import_map=["app/mod/*.js"])
    project.collect()
    manifest = stored(project)
    modules = manifest["modules"]
    assert isinstance(modules, dict)
    assert modules["app/mod/main.js"]["imports"] == ["app/mod/a.js", "app/mod/shared.js"]
    assert modules["app/mod/main.js"]["dynamic"] == ["app/mod/lazy.js"]
    paths = manifest["paths"]
    assert isinstance(paths, dict)
    shared_name = paths["app/mod/shared.js"].rsplit("/", 1)[1]
    assert f'"./{shared_name}"'.encode() in project.read(paths["app/mod/a.js"])


def test_editing_the_shared_leaf_changes_exactly_one_hashed_name(project: StaticProject) -> None:
    write_app(project)
    project.configure(integrity=True)
    project.collect()
    before = project.manifest()
    project.write("app/mod/shared.mjs", MODULES["app/mod/shared.mjs"] + "// edited\n")
    out, _ = project.collect()
    after = project.manifest()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"app/mod/shared.mjs"}
    # One new content (the hashed copy and the original share it); nothing else recomputed.
    assert COUNTS.search(out).group(2) == "1"  # type: ignore[union-attr]


def test_turning_integrity_off_again_restores_djangos_manifest(project: StaticProject) -> None:
    write_app(project)
    project.configure(integrity=True)
    project.collect()
    project.configure(integrity=False)
    project.collect()
    assert list(stored(project)) == ["paths", "version", "hash"]


def test_specifiers_skip_comments_and_strings() -> None:
    text = (
        "// an import map resolves these, and nothing\n"
        'import x from "./x.mjs";\n/* import "./no.mjs" */\nconst s = \'import "./no2.mjs"\';\n'
        'export { y } from "../y.mjs";\nimport "./side.mjs";\nimport("/static/lazy.mjs");\n'
    )
    assert find_specifiers(text) == (["./x.mjs", "../y.mjs", "./side.mjs"], ["/static/lazy.mjs"])


@pytest.mark.parametrize(
    ("specifier", "expected"),
    [
        ("./b.mjs", "app/js/b.mjs"),
        ("../lib/c.mjs?v=1", "app/lib/c.mjs"),
        ("/static/app/d.mjs", "app/d.mjs"),
        ("/elsewhere/e.mjs", None),
        ("../../../up.mjs", None),
    ],
)
def test_resolving_specifiers(specifier: str, expected: str | None) -> None:
    assert resolve_specifier("app/js/a.mjs", specifier, "/static/") == expected


def test_integrity_is_reused_by_content_digest(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a" * 3_000_000)  # more than one chunk
    (tmp_path / "b.txt").write_bytes(b"a" * 3_000_000)
    outputs = [
        BuiltFile("a.txt", "d1", 3_000_000, lambda: b""),
        BuiltFile("b.txt", "d1", 3_000_000, lambda: b""),
    ]
    state = IntegrityState(sha384={"gone": "sha384-x"})
    first = compute_integrity(outputs, tmp_path, state)
    assert (first.computed, first.reused) == (1, 1)
    assert first.values == {"a.txt": sri(b"a" * 3_000_000), "b.txt": sri(b"a" * 3_000_000)}
    assert state.sha384 == {"d1": sri(b"a" * 3_000_000)}  # only this run's contents
    second = compute_integrity(outputs, tmp_path, state)
    assert second == IntegrityResult(first.values, computed=0, reused=2)
    assert sri_file(tmp_path / "a.txt") == sri(b"a" * 3_000_000)


@pytest.mark.parametrize("value", ["*.mjs", [""], [3], None])
def test_import_map_option_is_validated(project: StaticProject, value: object) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    project.configure(import_map=value)
    with pytest.raises(ImproperlyConfigured, match="import_map"):
        staticfiles_storage.url  # noqa: B018 - instantiates the storage


def test_integrity_option_must_be_a_boolean(project: StaticProject) -> None:
    from django.contrib.staticfiles.storage import staticfiles_storage

    project.configure(integrity="yes")
    with pytest.raises(ImproperlyConfigured, match=r'\["integrity"\] is .yes.'):
        staticfiles_storage.url  # noqa: B018 - instantiates the storage


def test_a_state_from_before_the_integrity_part_keeps_the_rest(tmp_path: Path) -> None:
    from assetpipe.build.state import BuildState

    state = BuildState("fp")
    state.hashing.plain["a.css"] = PlainRecord("d", "a.123456789012.css")
    raw = json.loads(b"".join(state.dump()))
    del raw["integrity"]
    (tmp_path / "state.json").write_text(json.dumps(raw))
    loaded = BuildState.load(tmp_path / "state.json", "fp")
    assert loaded.hashing.plain == state.hashing.plain
    assert loaded.integrity == IntegrityState()
    loaded.integrity.imports["d"] = (["./a.mjs"], [])
    loaded.save(tmp_path / "state.json")
    again = BuildState.load(tmp_path / "state.json", "fp")
    assert again.integrity.imports == {"d": (["./a.mjs"], [])}
