"""Deltas on real version histories: consecutive patch releases of widely used libraries, their
minified dist files as a project vendors them, deployed one after the other. A visitor who holds
the first release's files downloads the second's as deltas; the bytes are measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetpipe.naming import delta_name, dictionary_hash, dictionary_id
from tests.conftest import StaticProject
from tests.npm import node_modules

pytestmark = pytest.mark.django_db(databases=[])

SPEC = Path(__file__).parent / "releases"
# Static name -> [package alias of the earlier release, of the later one, file in the package].
RELEASES: dict[str, list[str]] = json.loads((SPEC / "releases.json").read_text())


def deploy(project: StaticProject, modules: Path, release: int) -> None:
    for name, (*aliases, path) in RELEASES.items():
        project.write(name, (modules / aliases[release] / path).read_bytes())
    project.collect()


def test_a_returning_visitor_downloads_a_tenth_of_the_brotli_bytes(project: StaticProject) -> None:
    modules = node_modules(SPEC, "releases")
    project.configure(dictionaries={})
    deploy(project, modules, 0)
    deploy(project, modules, 1)
    built = json.loads(project.read("staticfiles.json"))
    brotli_bytes = delta_bytes = 0
    for name in RELEASES:
        hashed = built["paths"][name]
        (dictionary,) = built["dictionaries"][hashed]["deltas"]
        sha256 = dictionary_hash(dictionary)
        assert sha256 is not None
        brotli_bytes += len(project.read(hashed + ".br"))
        delta_bytes += len(project.read(delta_name(hashed, dictionary_id(sha256))))
    # The goal: at most 10% (measured here: about 3%).
    assert delta_bytes <= 0.10 * brotli_bytes, (delta_bytes, brotli_bytes)
