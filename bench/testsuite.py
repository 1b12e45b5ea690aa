"""``python -m bench.testsuite``: a suite of test-client tests with WhiteNoise's middleware and
with assetpipe's, side by side.

The suite is generated into a temporary directory: a project whose STATIC_ROOT (the tree of
``bench.tree``, built once by ``collectstatic`` with AssetPipeStorage before any run, untimed)
WhiteNoise serves, and ``--tests`` tests (200 by default), each with its own test client, as
pytest-django gives every test: each loads the page, which renders ``{% static %}`` names, and
gets the stylesheet it links. Django creates the middleware for each client, and WhiteNoise's
walks STATIC_ROOT each time it is created; assetpipe's walks it once per process.

Every run is a whole ``python -m pytest`` process, timed by the parent; the two middlewares run
back to back within a repeat, their order rotating between repeats. The suite counts WhiteNoise's
walks of STATIC_ROOT (the "walks" column) and every test checks its responses.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.local import log, ratio
from bench.runner import COLLECTSTATIC, REPO_ROOT, RunFailed, captured_process, timed_process
from bench.tree import DEFAULT_PACKAGES, Tree, build_tree
from bench.workdir import check_workdir, fresh_workdir

MARKER = ".assetpipe-bench-testsuite"
MIDDLEWARES = {
    "stock": ("WhiteNoise", "whitenoise.middleware.WhiteNoiseMiddleware"),
    "assetpipe": ("assetpipe's WhiteNoise", "assetpipe.serve.whitenoise.WhiteNoiseMiddleware"),
}
STOCK = "stock"
PASSED = re.compile(r"(\d+) passed in ([\d.]+)s")

SETTINGS = """\
import os

SECRET_KEY = "bench"
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["assetpipe", "django.contrib.staticfiles"]
DATABASES = {{}}
MIDDLEWARE = [os.environ["BENCH_MIDDLEWARE"]]
ROOT_URLCONF = "suite_urls"
TEMPLATES = [
    {{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [{templates!r}]}}
]
STATIC_URL = "/static/"
STATIC_ROOT = {root!r}
STATICFILES_DIRS = {dirs!r}
STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
    "staticfiles": {{"BACKEND": "assetpipe.storage.AssetPipeStorage"}},
}}
"""
URLS = """\
from django.shortcuts import render
from django.urls import path

urlpatterns = [path("", lambda request: render(request, "page.html"))]
"""
PAGE = """\
{% load static %}<!DOCTYPE html>
<link rel="stylesheet" href="{% static 'admin/css/base.css' %}">
<script src="{% static 'admin/js/core.js' %}"></script>
"""
CONFTEST = """\
import os

import pytest
from whitenoise.base import WhiteNoise

walks = 0
_walk = WhiteNoise.update_files_dictionary


def counting_walk(self, *args, **kwargs):
    global walks
    walks += 1
    return _walk(self, *args, **kwargs)


WhiteNoise.update_files_dictionary = counting_walk


def pytest_sessionfinish(session: pytest.Session) -> None:
    with open(os.environ["BENCH_WALKS"], "w") as out:
        out.write(str(walks))
"""
TESTS = """\
import re

import pytest

CSS = re.compile(r'href="(/static/admin/css/base\\.[0-9a-f]{{12}}\\.css)"')


@pytest.mark.parametrize("n", range({tests}))
def test_page(client, n):
    page = client.get("/")
    assert page.status_code == 200
    css = client.get(CSS.search(page.content.decode())[1])
    assert css.status_code == 200
"""
PYTEST_INI = """\
[pytest]
DJANGO_SETTINGS_MODULE = suite_settings
django_find_project = false
pythonpath = .
addopts = -p no:cacheprovider -p no:assetpipe
"""


@dataclass
class Suite:
    directory: Path
    tree: Tree
    tests: int

    @property
    def static_root(self) -> Path:
        return self.directory / "static"

    def write(self) -> None:
        (self.directory / "templates").mkdir(parents=True)
        (self.directory / "templates" / "page.html").write_text(PAGE)
        settings = SETTINGS.format(
            templates=str(self.directory / "templates"),
            root=str(self.static_root),
            dirs=[str(d) for d in self.tree.dirs],
        )
        (self.directory / "suite_settings.py").write_text(settings)
        (self.directory / "suite_urls.py").write_text(URLS)
        (self.directory / "conftest.py").write_text(CONFTEST)
        (self.directory / "test_pages.py").write_text(TESTS.format(tests=self.tests))
        (self.directory / "pytest.ini").write_text(PYTEST_INI)

    def environment(self, middleware: str = MIDDLEWARES[STOCK][1]) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_SETTINGS_MODULE", "PYTEST_", "ASSETPIPE_TEST_"))
        }
        env["DJANGO_SETTINGS_MODULE"] = "suite_settings"
        env["BENCH_MIDDLEWARE"] = middleware
        env["BENCH_WALKS"] = str(self.directory / "walks.txt")
        env["PYTHONPATH"] = os.pathsep.join([str(self.directory), str(REPO_ROOT)])
        return env

    def build(self) -> int:
        """collectstatic into STATIC_ROOT; the number of files WhiteNoise indexes there."""
        timed_process([sys.executable, "-c", COLLECTSTATIC], self.environment(), self.directory)
        return sum(len(files) for _, _, files in os.walk(self.static_root))


@dataclass
class Results:
    tests: int
    tree: Tree
    served_files: int
    repeat: int
    times: dict[str, list[float]] = field(default_factory=dict)  # whole process
    sessions: dict[str, list[float]] = field(default_factory=dict)  # pytest's own "in X s"
    walks: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def median(self, key: str, table: dict[str, list[float]] | None = None) -> float | None:
        values = (self.times if table is None else table).get(key)
        return statistics.median(values) if values else None


def run_once(suite: Suite, key: str, results: Results) -> None:
    label, middleware = MIDDLEWARES[key]
    seconds, text = captured_process(
        [sys.executable, "-m", "pytest", "-q"], suite.environment(middleware), suite.directory
    )
    passed = PASSED.search(text)
    if passed is None or int(passed[1]) != suite.tests:
        raise RunFailed(f"{label}: not every test passed: {text[-2000:]}")
    results.times.setdefault(key, []).append(seconds)
    results.sessions.setdefault(key, []).append(float(passed[2]))
    results.walks[key] = int((suite.directory / "walks.txt").read_text())
    log(f"  {label:24} {seconds:6.2f} s (session {passed[2]} s, {results.walks[key]} walks)")


def run(suite: Suite, repeat: int) -> Results:
    suite.write()
    served = suite.build()
    results = Results(suite.tests, suite.tree, served, repeat)
    keys = list(MIDDLEWARES)
    for index in range(repeat):
        log(f"repeat {index + 1}/{repeat}")
        for key in keys[index % 2 :] + keys[: index % 2]:
            try:
                run_once(suite, key, results)
            except RunFailed as exc:
                results.errors.append(str(exc).strip().splitlines()[-1])
    return results


def render(results: Results) -> str:
    tree = results.tree
    stock = results.median(STOCK)
    stock_session = results.median(STOCK, results.sessions)
    lines = [
        f"{results.tests} test-client tests; tree: {tree.files:,} files from "
        f"{', '.join(tree.sources)}; STATIC_ROOT holds {results.served_files:,} files "
        f"(hashed copies and .br/.gz variants); median of {results.repeat} runs.",
        "",
        "| middleware | process (s) | runs (s) | session (s) | per test (ms) | walks of "
        "STATIC_ROOT | process vs WhiteNoise | session vs WhiteNoise |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for key, (label, _) in MIDDLEWARES.items():
        median = results.median(key)
        session = results.median(key, results.sessions)
        runs = " ".join(f"{t:.2f}" for t in results.times.get(key, []))
        per_test = f"{session / results.tests * 1000:.1f}" if session is not None else "—"
        lines.append(
            f"| {label} | {_seconds(median)} | {runs} | {_seconds(session)} | {per_test} | "
            f"{results.walks.get(key, '—')} | {ratio(median, stock)} | "
            f"{ratio(session, stock_session)} |"
        )
    lines += [
        "",
        "Process: the whole `python -m pytest` run; session: pytest's own time (its `passed "
        "in`: collection and the tests), without the interpreter's start-up and plugin loading.",
    ]
    if results.errors:
        lines += ["", "Failures:", *(f"- {error}" for error in results.errors)]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "failed"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.testsuite", description=__doc__)
    parser.add_argument("--tests", type=int, default=200, help="tests in the suite (200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="MODULE",
        help=f"an installed package whose static/ to add (always: {', '.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument("--workdir", type=Path, help="keep the generated suite and tree here")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.tests < 1:
        parser.error("--repeat and --tests must be at least 1")
    check_workdir(parser, args.workdir, MARKER)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with fresh_workdir(args.workdir, MARKER, "assetpipe-bench-testsuite-") as workdir:
        tree = build_tree(workdir / "tree", [*DEFAULT_PACKAGES, *args.package])
        results = run(Suite(workdir / "suite", tree, args.tests), args.repeat)
    print(render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
