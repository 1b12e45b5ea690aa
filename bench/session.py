"""``python -m bench.session``: what assetpipe's pytest plugin adds to the start of a test session.

For each project, a session of one trivial test, every run a complete ``python -m pytest`` process
timed by the parent:

* **plugin off** (``-p no:assetpipe``): the session without a build;
* **cold**: the plugin builds the test STATIC_ROOT from nothing (its directory and build state in
  ``.pytest_cache/d/assetpipe`` removed first);
* **no-change**: the next session, on that build;

next to the usual workaround, ``collectstatic`` with ``StaticFilesStorage`` (a plain copy, run
before the tests in its own process), cold (its STATIC_ROOT removed) and no-change, and next to
``django.setup()`` alone in a process, the start-up that ``collectstatic`` run includes. The
"added" column is what each costs on top: a session's time less the plugin-off session's, a
``collectstatic``'s less ``django.setup()``'s.

Projects: the example project (``example_project``: its own files and Django admin's, with its
options, ``integrity`` and ``js_module_imports`` among them; the plugin drops its ``s3``) and
Django admin's tree alone (the admin app's files, AssetPipeStorage's default options).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.local import log
from bench.runner import COLLECTSTATIC, REPO_ROOT, RunFailed, captured_process, timed_process
from bench.workdir import check_workdir, fresh_workdir

MARKER = ".assetpipe-bench-session"
SETUP_ONLY = "import django; django.setup()"
PYTEST = ("-m", "pytest", "-p", "no:cacheprovider")
BUILT = re.compile(r"^assetpipe: built the test STATIC_ROOT \S+ in ([\d.]+) s$", re.MULTILINE)
SUMMARY = re.compile(r"^assetpipe: \d+ files: (\d+) hashed .*?, (\d+) files compressed", re.M)

SETUP = "django.setup() alone"
OFF = "pytest, plugin off"
COLD = "pytest, cold"
NO_CHANGE = "pytest, no-change"
FLOOR_COLD = "collectstatic (StaticFilesStorage), cold"
FLOOR_NO_CHANGE = "collectstatic (StaticFilesStorage), no-change"
RUNS = (SETUP, OFF, COLD, NO_CHANGE, FLOOR_COLD, FLOOR_NO_CHANGE)
BASELINE = {COLD: OFF, NO_CHANGE: OFF, FLOOR_COLD: SETUP, FLOOR_NO_CHANGE: SETUP}

TEST_MODULE = "def test_nothing() -> None:\n    pass\n"
PYTEST_INI = """\
[pytest]
DJANGO_SETTINGS_MODULE = {settings}
django_find_project = false
pythonpath = {pythonpath}
"""
FLOOR_SETTINGS = """\
from {settings} import *  # noqa: F403

STORAGES = {{
    **STORAGES,  # noqa: F405
    "staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
}}
STATIC_ROOT = {root!r}
"""
ADMIN_SETTINGS = """\
SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "assetpipe",
    "django.contrib.staticfiles",
]
DATABASES = {{}}
STATIC_URL = "/static/"
STATIC_ROOT = {root!r}
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
    "staticfiles": {{"BACKEND": "assetpipe.storage.AssetPipeStorage"}},
}}
"""


@dataclass(frozen=True)
class Project:
    key: str
    label: str
    directory: Path  # the session's rootdir: pytest.ini, the test module, settings modules
    settings: str
    pythonpath: tuple[Path, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def test_build(self) -> Path:
        """The plugin's directory: the test STATIC_ROOT and its build state."""
        return self.directory / ".pytest_cache" / "d" / "assetpipe"

    @property
    def floor_root(self) -> Path:
        return self.directory / "floor" / "static"

    def write(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = " ".join(str(p) for p in self.pythonpath)
        ini = PYTEST_INI.format(settings=self.settings, pythonpath=paths)
        (self.directory / "pytest.ini").write_text(ini)
        (self.directory / "test_session.py").write_text(TEST_MODULE)
        floor = FLOOR_SETTINGS.format(settings=self.settings, root=str(self.floor_root))
        (self.directory / "floor_settings.py").write_text(floor)

    def environment(self, settings: str | None = None) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DJANGO_SETTINGS_MODULE", "PYTEST_", "ASSETPIPE_TEST_"))
        }
        env.update(self.env)
        env["DJANGO_SETTINGS_MODULE"] = settings or self.settings
        paths = [str(self.directory), *map(str, self.pythonpath), str(REPO_ROOT)]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env


def example_project(workdir: Path) -> Project:
    directory = workdir / "example"
    # The example's settings put its STATIC_ROOT and build state under ACME_DEMO_DIR.
    env = {"ACME_DEMO_DIR": str(directory / "demo")}
    project = Project(
        "example", "example project", directory, "acme.settings",
        (REPO_ROOT / "example_project",), env,
    )  # fmt: skip
    project.write()
    return project


def admin_project(workdir: Path) -> Project:
    directory = workdir / "admin"
    project = Project("admin", "Django admin", directory, "admin_settings", (directory,))
    project.write()
    settings = ADMIN_SETTINGS.format(root=str(directory / "static"))
    (directory / "admin_settings.py").write_text(settings)
    return project


PROJECTS: dict[str, Callable[[Path], Project]] = {
    "example": example_project,
    "admin": admin_project,
}


@dataclass
class Results:
    projects: list[Project]
    repeat: int
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (project, run)
    builds: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # in-session
    files: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, key: str, run: str) -> float | None:
        values = self.times.get((key, run))
        return statistics.median(values) if values else None


class Session:
    def __init__(self, results: Results) -> None:
        self.results = results

    def record(self, project: Project, run: str, seconds: float) -> None:
        self.results.times.setdefault((project.key, run), []).append(seconds)
        log(f"  {project.label:16} {run:46} {seconds:6.2f} s")

    def pytest(self, project: Project, run: str, *args: str) -> str:
        seconds, text = captured_process(
            [sys.executable, *PYTEST, *args], project.environment(), project.directory
        )
        self.record(project, run, seconds)
        built = BUILT.search(text)
        if built is not None:
            self.results.builds.setdefault((project.key, run), []).append(float(built[1]))
        return text

    def python(self, project: Project, run: str, code: str, settings: str | None = None) -> None:
        env = project.environment(settings)
        seconds = timed_process([sys.executable, "-c", code], env, project.directory)
        self.record(project, run, seconds)

    def repeat(self, project: Project, first: bool) -> None:
        results = self.results
        self.python(project, SETUP, SETUP_ONLY)
        off = self.pytest(project, OFF, "-p", "no:assetpipe")
        if BUILT.search(off):
            results.errors.append(f"{project.label}: the plugin built with -p no:assetpipe")
        shutil.rmtree(project.test_build, ignore_errors=True)
        cold = self.pytest(project, COLD)
        no_change = self.pytest(project, NO_CHANGE)
        self.check(project, cold, no_change, first)
        shutil.rmtree(project.floor_root.parent, ignore_errors=True)
        self.python(project, FLOOR_COLD, COLLECTSTATIC, "floor_settings")
        self.python(project, FLOOR_NO_CHANGE, COLLECTSTATIC, "floor_settings")
        if first:
            collected = [p for p in project.floor_root.rglob("*") if p.is_file()]
            results.files[project.key] = len(collected)

    def check(self, project: Project, cold: str, no_change: str, first: bool) -> None:
        summaries = [SUMMARY.search(text) for text in (cold, no_change)]
        if summaries[0] is None or summaries[1] is None:
            self.results.errors.append(f"{project.label}: a session printed no build summary")
            return
        hashed, compressed = (int(g) for g in summaries[1].groups())
        if hashed or compressed:
            self.results.errors.append(
                f"{project.label}: the no-change session hashed {hashed} and compressed "
                f"{compressed} files"
            )
        elif first:
            self.results.notes.append(
                f"{project.label}: cold build `{summaries[0][0]}`; no-change build "
                f"`{summaries[1][0]}`"
            )


def run(projects: Sequence[Project], repeat: int) -> Results:
    results = Results(list(projects), repeat)
    session = Session(results)
    for project in projects:  # untimed: the first import of everything, from disk
        timed_process([sys.executable, "-c", SETUP_ONLY], project.environment(), project.directory)
    for index in range(repeat):
        log(f"repeat {index + 1}/{repeat}")
        for project in projects:
            try:
                session.repeat(project, first=index == 0)
            except RunFailed as exc:
                results.errors.append(f"{project.label}: {str(exc).strip().splitlines()[-1]}")
    return results


def render(results: Results) -> str:
    lines = [
        f"Sessions of one test; median of {results.repeat} runs per cell; every run a whole "
        f"process; {_cpus()} CPUs.",
        "",
        "| project | run | median (s) | runs (s) | added (s) | build in the session (s) |",
        "|---|---|---:|---|---:|---:|",
    ]
    for project in results.projects:
        for run in RUNS:
            lines.append(_row(results, project, run))
    lines += [
        "",
        "Added: a session's median less the plugin-off session's; a collectstatic's less "
        "`django.setup()` alone. Build in the session: the plugin's own timing of its build.",
    ]
    for project in results.projects:
        if project.key in results.files:
            lines.append(f"- {project.label}: {results.files[project.key]} files collected")
    lines += [f"- {note}" for note in results.notes]
    if results.errors:
        lines += ["", "Failures:", *(f"- {error}" for error in results.errors)]
    return "\n".join(lines)


def _row(results: Results, project: Project, run: str) -> str:
    runs = results.times.get((project.key, run), [])
    median = results.median(project.key, run)
    baseline = results.median(project.key, BASELINE[run]) if run in BASELINE else None
    added = f"{median - baseline:.2f}" if median is not None and baseline is not None else "—"
    builds = results.builds.get((project.key, run))
    build = f"{statistics.median(builds):.2f}" if builds else "—"
    shown = f"{median:.2f}" if median is not None else "failed"
    return (
        f"| {project.label} | {run} | {shown} | {' '.join(f'{t:.2f}' for t in runs)} | "
        f"{added} | {build} |"
    )


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.session", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument(
        "--project",
        action="append",
        choices=list(PROJECTS),
        help="run only these projects (repeatable; default: all)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the generated projects and their output here"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    check_workdir(parser, args.workdir, MARKER)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with fresh_workdir(args.workdir, MARKER, "assetpipe-bench-session-") as workdir:
        projects = [PROJECTS[key](workdir) for key in args.project or PROJECTS]
        results = run(projects, args.repeat)
    print(render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
