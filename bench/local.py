"""Local ``collectstatic``: every contender, cold / no-change / one-CSS-change, side by side.

Per repeat, each scenario runs every contender back to back (the order rotating between repeats),
so that whatever else the machine is doing falls on all contenders alike:

* **cold** — the contender's output directory (``STATIC_ROOT`` and any state kept beside it, e.g.
  assetpipe's ``.assetpipe``) is deleted first;
* **no-change** — run again on the output of the cold run;
* **fresh-checkout** — every source file gets a new mtime (its content unchanged), as after a CI
  checkout into a cached output and state, then each contender runs again;
* **one-CSS-change** — one CSS file of the source tree gets a rule it has never had (a different
  one each repeat), then each contender runs once on its no-change output.

Each run's output is checked to be what the scenario claims (see :func:`check_change`); the
source file is restored at the end.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import django

from bench.runner import (
    Contender,
    RunFailed,
    Workspace,
    make_workspace,
    measure_collectstatic,
    warm_up,
)
from bench.tree import DEFAULT_CHANGE_FILE, FileChange, Tree, changing, touch_all
from bench.verify import check_compressed, manifest_paths

SCENARIOS: tuple[str, ...] = ("cold", "no-change", "fresh-checkout", "one-CSS-change")
FLOOR = "floor"
WHITENOISE = "whitenoise"
MANIFEST = "manifest"

CONTENDERS: tuple[Contender, ...] = (
    Contender(FLOOR, "StaticFilesStorage", "django.contrib.staticfiles.storage.StaticFilesStorage"),
    Contender(
        MANIFEST,
        "ManifestStaticFilesStorage",
        "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    ),
    Contender(
        WHITENOISE,
        "WhiteNoise CompressedManifest",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ),
    Contender(
        "assetpipe",
        "AssetPipeStorage",
        "assetpipe.storage.AssetPipeStorage",
        installed_apps=("assetpipe",),  # as its users install it
    ),
)
ASSETPIPE = CONTENDERS[-1]


def baseline(label: str, source: Path) -> Contender:
    """assetpipe's contender, imported from another checkout (e.g. an earlier commit's)."""
    return replace(
        ASSETPIPE, key=f"assetpipe-{label}", label=f"AssetPipeStorage ({label})", source=source
    )


def precompresses(contender: Contender) -> bool:
    """Whether the contender's output must carry .br/.gz variants (checked after the cold run
    and at the end)."""
    return contender.key == WHITENOISE or contender.backend == ASSETPIPE.backend


def hashes(contender: Contender) -> bool:
    return contender.key in {MANIFEST, WHITENOISE} or contender.backend == ASSETPIPE.backend


@dataclass
class Results:
    tree: Tree
    change_file: str
    contenders: list[Contender]
    repeat: int
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # (scenario, key)
    rss: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # peak bytes, same keys
    errors: dict[str, str] = field(default_factory=dict)  # key -> why it dropped out
    notes: list[str] = field(default_factory=list)  # verification results, in order

    def median(self, scenario: str, key: str) -> float | None:
        runs = self.times.get((scenario, key))
        return statistics.median(runs) if runs else None

    def median_rss(self, scenario: str, key: str) -> float | None:
        runs = self.rss.get((scenario, key))
        return statistics.median(runs) if runs else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_change(workspace: Workspace, relpath: str, rule: bytes) -> str | None:
    """Why the output does not reflect the latest change to ``relpath``, or None if it does.

    The collected copy must hold the new rule, and for hashing storages so must the hashed file
    the manifest now names: a storage that copied the file but kept a stale hashed name fails.
    """
    collected = workspace.static_root / relpath
    if rule not in collected.read_bytes():
        return f"{relpath} was not re-collected"
    if hashes(workspace.contender):
        hashed = manifest_paths(workspace.static_root).get(relpath)
        if hashed is None or rule not in (workspace.static_root / hashed).read_bytes():
            return f"the manifest's {relpath} -> {hashed} does not hold the change"
    return None


def compare_manifests(workspaces: Sequence[Workspace]) -> list[str]:
    """Hashed names of every hashing contender against Django's own manifest storage's."""
    by_key = {w.contender.key: w for w in workspaces}
    if MANIFEST not in by_key:
        return []
    reference = manifest_paths(by_key[MANIFEST].static_root)
    notes = []
    for workspace in workspaces:
        if hashes(workspace.contender) and workspace.contender.key != MANIFEST:
            paths = manifest_paths(workspace.static_root)
            differing = sorted(
                k for k in reference.keys() | paths.keys() if reference.get(k) != paths.get(k)
            )
            verdict = (
                "identical" if not differing else f"{len(differing)} differ, e.g. {differing[:3]}"
            )
            notes.append(
                f"{workspace.contender.label}: staticfiles.json paths vs "
                f"ManifestStaticFilesStorage: {verdict}"
            )
    return notes


@dataclass
class Session:
    """One invocation's results and the workspaces whose contender is still in."""

    results: Results
    active: list[Workspace]

    def timed(self, scenario: str, workspace: Workspace) -> bool:
        key = workspace.contender.key
        try:
            measured = measure_collectstatic(workspace)
        except RunFailed as exc:
            self.results.errors[key] = f"{scenario}: {_last_line(exc)}"
            self.active.remove(workspace)
            log(f"  {scenario:15} {workspace.contender.label:30} FAILED: {exc}")
            return False
        self.results.times.setdefault((scenario, key), []).append(measured.seconds)
        self.results.rss.setdefault((scenario, key), []).append(measured.peak_rss)
        log(
            f"  {scenario:15} {workspace.contender.label:30} {measured.seconds:7.2f} s "
            f"{measured.peak_rss / 1e6:7.0f} MB"
        )
        return True

    def each(self, order: Sequence[Workspace]) -> list[Workspace]:
        return [w for w in order if w in self.active]

    def repeat(self, index: int, tree: Tree, change: FileChange) -> None:
        """One repeat: every scenario, every contender still in, in a rotated order."""
        results = self.results
        shift = index % len(self.active) if self.active else 0
        order = self.active[shift:] + self.active[:shift]
        for workspace in order:
            workspace.wipe()
            compresses = precompresses(workspace.contender)
            if self.timed("cold", workspace) and index == 0 and compresses:
                verdict = check_compressed(workspace.static_root).summary()
                results.notes.append(f"{workspace.contender.label}, cold: {verdict}")
        if index == 0:
            results.notes += compare_manifests(self.each(order))
        for workspace in self.each(order):
            self.timed("no-change", workspace)
        # A fresh checkout of the same sources: new mtimes, same contents, state kept.
        touch_all(tree)
        for workspace in self.each(order):
            self.timed("fresh-checkout", workspace)
        rule = change.apply()
        for workspace in self.each(order):
            if self.timed("one-CSS-change", workspace):
                problem = check_change(workspace, results.change_file, rule)
                if problem:
                    results.errors[workspace.contender.key] = f"one-CSS-change: {problem}"
                    self.active.remove(workspace)


def run(
    tree: Tree,
    workdir: Path,
    contenders: Sequence[Contender] = CONTENDERS,
    repeat: int = 3,
    change_file: str = DEFAULT_CHANGE_FILE,
) -> Results:
    """Time every contender in every scenario ``repeat`` times; see the module docstring."""
    results = Results(tree, change_file, list(contenders), repeat)
    workspaces = [make_workspace(workdir, contender, tree) for contender in contenders]
    session = Session(results, list(workspaces))
    for workspace in workspaces:
        try:
            warm_up(workspace)
        except RunFailed as exc:  # e.g. the storage does not import: report it, run the rest
            results.errors[workspace.contender.key] = f"import: {_last_line(exc)}"
            log(f"{workspace.contender.label} does not import: {exc}")
            session.active.remove(workspace)
    with changing(tree.find(change_file)) as change:
        for index in range(repeat):
            log(f"repeat {index + 1}/{repeat}")
            session.repeat(index, tree, change)
    for workspace in session.active:
        if precompresses(workspace.contender):
            verdict = check_compressed(workspace.static_root).summary()
            results.notes.append(f"{workspace.contender.label}, after the last change: {verdict}")
    return results


def _last_line(exc: Exception) -> str:
    """The exception line at the end of a child's traceback, for a one-line report."""
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__


def ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "—"
    return f"{value / reference:.2f}x"


def render(results: Results) -> str:
    """The report: what was measured, then a Markdown table of medians and ratios."""
    tree = results.tree
    lines = [
        f"Tree: {tree.files:,} files, {tree.bytes / 1e6:,.1f} MB from {', '.join(tree.sources)}",
        f"Changed file: {results.change_file}; median of {results.repeat} runs per cell; "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{platform.machine()} ({_cpu_count()} CPUs)",
        "",
        "| scenario | storage | median (s) | runs (s) | vs floor | vs WhiteNoise "
        "| peak RSS (MB) | RSS vs floor |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        lines += [_row(results, scenario, contender) for contender in results.contenders]
    lines += ["", "Peak RSS: the collectstatic process's maximum resident set size (median)."]
    if results.notes:
        lines += ["", "Checks:", *(f"- {note}" for note in results.notes)]
    if results.errors:
        lines += ["", "Failures:"]
        lines += [f"- {key}: {error}" for key, error in results.errors.items()]
    return "\n".join(lines)


def _row(results: Results, scenario: str, contender: Contender) -> str:
    runs = results.times.get((scenario, contender.key), [])
    value = results.median(scenario, contender.key)
    rss = results.median_rss(scenario, contender.key)
    shown = f"{value:.2f}" if value is not None else "failed"
    return (
        f"| {scenario} | {contender.label} | {shown} | {' '.join(f'{t:.2f}' for t in runs)} | "
        f"{ratio(value, results.median(scenario, FLOOR))} | "
        f"{ratio(value, results.median(scenario, WHITENOISE))} | "
        f"{f'{rss / 1e6:.0f}' if rss is not None else '—'} | "
        f"{ratio(rss, results.median_rss(scenario, FLOOR))} |"
    )


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may use, not the host's
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
