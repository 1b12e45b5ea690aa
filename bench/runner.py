"""Run ``collectstatic`` for one storage in a fresh Python process and time the whole process.

Each contender gets its own settings module, written to its own directory, and its own output
directory (``STATIC_ROOT`` plus whatever state a storage keeps beside it), so contenders never see
each other's output. The parent times the complete child process, interpreter start-up included:
that is what a deploy pays, and it is the same for every contender.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tree import Tree

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTINGS_MODULE = "bench_settings"

# What ``manage.py collectstatic --noinput -v0`` does, minus manage.py's argument parsing.
COLLECTSTATIC = (
    "import django; django.setup(); "
    "from django.core.management import call_command; "
    "call_command('collectstatic', interactive=False, verbosity=0)"
)


class RunFailed(RuntimeError):
    """A collectstatic process exited non-zero."""


@dataclass(frozen=True)
class Contender:
    """One storage configuration under test."""

    key: str  # short, unique, usable as a directory name
    label: str  # for the table
    backend: str
    options: Mapping[str, Any] = field(default_factory=dict)
    installed_apps: tuple[str, ...] = ()  # as a project using this storage would list them
    settings: Mapping[str, Any] = field(default_factory=dict)  # any further settings
    env: Mapping[str, str] = field(default_factory=dict)  # e.g. credentials for a local endpoint
    # Another checkout to import assetpipe from (``--baseline``); None: this repository.
    source: Path | None = None


def settings_source(values: Mapping[str, Any]) -> str:
    """A settings module assigning each value; values must round-trip through ``repr``."""
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


@dataclass(frozen=True)
class Workspace:
    """One contender's private directories under a benchmark's work directory."""

    contender: Contender
    root: Path  # everything the contender writes: STATIC_ROOT and state beside it
    settings_dir: Path

    @property
    def static_root(self) -> Path:
        return self.root / "static"

    def settings(self, tree: Tree) -> dict[str, Any]:
        contender = self.contender
        staticfiles: dict[str, Any] = {"BACKEND": contender.backend}
        if contender.options:
            staticfiles["OPTIONS"] = dict(contender.options)
        return {
            "SECRET_KEY": "bench",
            "USE_TZ": True,
            "INSTALLED_APPS": [*contender.installed_apps, "django.contrib.staticfiles"],
            "STATIC_URL": "/static/",
            "STATIC_ROOT": str(self.static_root),
            "STATICFILES_DIRS": [str(d) for d in tree.dirs],
            # Only the tree: app directories would add the installed packages' statics again.
            "STATICFILES_FINDERS": ["django.contrib.staticfiles.finders.FileSystemFinder"],
            "STORAGES": {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": staticfiles,
            },
            **contender.settings,
        }

    def write_settings(self, tree: Tree) -> None:
        self.settings_dir.mkdir(parents=True, exist_ok=True)
        source = settings_source(self.settings(tree))
        (self.settings_dir / f"{SETTINGS_MODULE}.py").write_text(source)

    def wipe(self) -> None:
        """Remove all output and state: the next run starts cold."""
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():
            raise RuntimeError(f"could not remove {self.root}")
        self.root.mkdir(parents=True)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(self.contender.env)
        env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
        # The settings module, then this repository (assetpipe may be run uninstalled), or
        # the checkout the contender measures.
        source = self.contender.source or REPO_ROOT
        paths = [str(self.settings_dir), str(source), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
        return env


def make_workspace(workdir: Path, contender: Contender, tree: Tree) -> Workspace:
    workspace = Workspace(
        contender=contender,
        root=workdir / "out" / contender.key,
        settings_dir=workdir / "settings" / contender.key,
    )
    workspace.write_settings(tree)
    return workspace


@dataclass(frozen=True)
class Measurement:
    seconds: float  # wall clock of the whole process
    peak_rss: int  # the process's maximum resident set size, in bytes


def measured_process(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measurement:
    """Wall-clock time and peak RSS of a complete child process; :class:`RunFailed` on failure.

    ``os.wait4`` gives this one child's resource usage (``getrusage(RUSAGE_CHILDREN)`` would
    give the largest of all children so far)."""
    # Output to files, not pipes: nothing to drain while waiting, and not a TTY (no progress
    # bars, nothing interleaved with the table).
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            out.seek(0)
            text = out.read().decode(errors="replace")
            raise RunFailed(f"exit {process.returncode}: {text[-3000:]}")
    # ru_maxrss is in kilobytes on Linux.
    return Measurement(elapsed, usage.ru_maxrss * 1024)


def captured_process(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> tuple[float, str]:
    """Wall-clock seconds and the output (stdout and stderr) of a complete child process;
    :class:`RunFailed` on failure. For benchmarks that read what the run reported."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.run(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False
        )
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise RunFailed(f"exit {process.returncode}: {text[-3000:]}")
    return elapsed, text


def timed_process(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> float:
    """Wall-clock seconds of a complete child process; raises :class:`RunFailed` on failure."""
    return measured_process(argv, env, cwd).seconds


def warm_up(workspace: Workspace, python: str = sys.executable) -> None:
    """Import the contender's storage once, untimed, so no contender pays for a cold disk cache."""
    code = (
        "import django; django.setup(); from django.utils.module_loading import import_string; "
        f"import_string({workspace.contender.backend!r})"
    )
    timed_process([python, "-c", code], workspace.environment(), cwd=workspace.settings_dir)


def measure_collectstatic(workspace: Workspace, python: str = sys.executable) -> Measurement:
    """One ``collectstatic`` of ``workspace``'s contender in a fresh interpreter."""
    return measured_process(
        [python, "-c", COLLECTSTATIC], workspace.environment(), cwd=workspace.settings_dir
    )


def time_collectstatic(workspace: Workspace, python: str = sys.executable) -> float:
    """Seconds for one ``collectstatic`` of ``workspace``'s contender in a fresh interpreter."""
    return measure_collectstatic(workspace, python).seconds
