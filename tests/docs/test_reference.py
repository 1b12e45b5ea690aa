"""The reference pages are what docs/gen_reference.py writes from the code today, and they name
every option, subcommand, argument, check id and manifest key the code has."""

from __future__ import annotations

import json
import re

import pytest

from assetpipe.conf import images, options, s3
from assetpipe.conf.edge import CORS_CHECKS
from assetpipe.conf.kit import RENAMED_IN
from assetpipe.management.commands.assetpipe import SUBCOMMANDS
from docs import gen_reference, reference_text
from tests.conftest import StaticProject
from tests.docs.pages import REPO, text

pytestmark = pytest.mark.django_db(databases=[])


def test_the_committed_pages_are_what_the_generator_writes() -> None:
    pages = gen_reference.render_all()
    stale = [str(path.relative_to(REPO)) for path in gen_reference.out_of_date(pages)]
    assert not stale, f"out of date, run ./dev docs reference: {', '.join(stale)}"


def documented_names(page: str) -> set[str]:
    """The names in the first column of the page's tables: | `name` | ..."""
    return set(re.findall(r"^\| `([^`]+)`", text(f"reference/{page}"), re.MULTILINE))


def test_every_storage_option_is_documented() -> None:
    names = documented_names("options.md")
    for checks in (options.CHECKS, s3.CHECKS, CORS_CHECKS, images.CHECKS):
        assert set(checks) <= names
    fixed, filled = gen_reference.media_own_defaults()
    assert {"tenant", "tenant_resolver", *fixed, *filled} <= names


def test_every_renamed_option_is_listed_with_its_replacement() -> None:
    names = documented_names("options.md")
    page = text("reference/options.md")
    assert f"## Options renamed or removed in {RENAMED_IN}" in page
    for group, retired in (("", options.RETIRED), ('["s3"]', s3.RETIRED)):
        for name in retired:
            assert f'{group}["{name}"]' in names, name
    assert '["images"]["workers"]' in names


def test_every_subcommand_and_argument_is_documented() -> None:
    page = text("reference/commands.md")
    for name in SUBCOMMANDS:
        assert f"\n### {name}\n" in page, name
        parser = gen_reference.subcommand_parser(name)
        for action in parser._actions if parser is not None else ():
            for flag in action.option_strings:
                assert flag in page, (name, flag)


def test_every_check_id_in_the_package_is_documented() -> None:
    ids = {
        found
        for path in (REPO / "assetpipe").rglob("*.py")
        for found in re.findall(r"""\bid=["'](assetpipe\.[A-Z]\d+)["']""", path.read_text())
    }
    assert ids, "no check ids found: has the spelling of id= changed?"
    assert ids == documented_names("checks.md")
    assert ids == {
        check.id for check in gen_reference.checks(gen_reference.CHECKS_SOURCE.read_text())
    }


def test_every_manifest_key_a_build_writes_is_documented(project: StaticProject) -> None:
    project.write("app/js/util.mjs", "export const one = 1;\n")
    project.write("app/js/main.mjs", 'import { one } from "./util.mjs";\nconsole.log(one);\n')
    project.write("bundles/app.3f9a1c2b.js", "console.log('bundled');\n")
    project.configure(integrity=True, prehashed=["bundles/*.[hash].js"], images={}, dictionaries={})
    project.collect("-v", "0")
    written = json.loads((project.root / "staticfiles.json").read_text())
    assert set(written) == set(reference_text.MANIFEST_KEYS) == documented_names("manifest.md")
