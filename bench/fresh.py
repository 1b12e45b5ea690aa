"""``python -m bench.fresh``: a fresh runner (no STATIC_ROOT, no build state) whose bucket holds
the previous build, next to WhiteNoise's cold build and a plain copy.

One invocation starts the counting moto endpoint of ``bench.s3`` and, on one tree, times:

* ``StaticFilesStorage`` cold: the plain copy, the floor of any deploy;
* WhiteNoise's ``CompressedManifestStaticFilesStorage`` cold: what a CI job without a cache
  pays for brotli today;
* assetpipe cold with an empty bucket (``--contender assetpipe-empty``, off by default: as slow
  as WhiteNoise);
* **assetpipe on a fresh runner**: a deploy build published the tree and its variants
  (``"variants": "static_root_and_bucket"``; untimed, once); then each timed run starts with no
  STATIC_ROOT and no ``state_dir``, builds and publishes against that bucket;
* the same after one CSS file changed (``--change-file``): everything fetched but that file's
  contents, which are compressed, then uploaded.

Every run is a complete child process. After each assetpipe run every variant in STATIC_ROOT
must decompress to its original, its summary must say how many files' variants were fetched,
and the requests it sent are counted by kind (a fresh runner with nothing changed uploads
nothing). The table gives each median's ratio to WhiteNoise's cold build and to the plain copy.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from bench.local import ratio
from bench.runner import (
    COLLECTSTATIC,
    Contender,
    RunFailed,
    Workspace,
    captured_process,
    make_workspace,
    warm_up,
)
from bench.s3 import CREDENTIALS, KINDS, LOCATION, Endpoint, credentials, empty_bucket
from bench.tree import DEFAULT_PACKAGES, Tree, build_tree, changing
from bench.verify import check_compressed

FLOOR, WHITENOISE, EMPTY = "floor", "whitenoise", "assetpipe-empty"
FRESH, DEPLOY = "fresh", "deploy"
# The same runner for a STATIC_ROOT nobody serves: the s3 option "variants": "bucket".
FRESH_UNSERVED = "fresh-unserved"
FRESH_CHANGED = "fresh, one CSS change"
BUCKET = "bench-fresh"
EMPTY_BUCKET = "bench-fresh-empty"
# collectstatic at verbosity 1: the summary line says what was fetched.
COLLECTSTATIC_V1 = COLLECTSTATIC.replace("verbosity=0", "verbosity=1")
SUMMARY = re.compile(
    r"(\d+) files compressed \((\d+) reused(?:, (\d+) fetched from the bucket)?"
    r"(?:, (\d+) left in the bucket)?\)"
)


def contenders(endpoint: str) -> dict[str, Contender]:
    def assetpipe(key: str, label: str, bucket: str, **options: Any) -> Contender:
        s3 = {
            "bucket_name": bucket,
            "location": LOCATION,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "variants": "static_root_and_bucket",
            **options,
        }
        return Contender(
            key,
            label,
            "assetpipe.storage.AssetPipeStorage",
            options={"s3": s3},
            installed_apps=("assetpipe",),
            env=CREDENTIALS,
        )

    return {
        FLOOR: Contender(
            FLOOR,
            "StaticFilesStorage (plain copy)",
            "django.contrib.staticfiles.storage.StaticFilesStorage",
        ),
        WHITENOISE: Contender(
            WHITENOISE,
            "WhiteNoise CompressedManifest, cold",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
        EMPTY: assetpipe(EMPTY, "assetpipe cold, empty bucket", EMPTY_BUCKET),
        DEPLOY: assetpipe(DEPLOY, "assetpipe deploy build (untimed)", BUCKET),
        FRESH: assetpipe(FRESH, "assetpipe fresh runner, bucket has the build", BUCKET),
        FRESH_UNSERVED: assetpipe(
            FRESH_UNSERVED,
            'the same, STATIC_ROOT not served ("variants": "bucket")',
            BUCKET,
            variants="bucket",
        ),
    }


@dataclass
class Results:
    tree: Tree
    repeat: int
    labels: dict[str, str]
    times: dict[str, list[float]] = field(default_factory=dict)
    requests: dict[str, Counter[str]] = field(default_factory=dict)  # the last run's
    summaries: dict[str, str] = field(default_factory=dict)  # the last run's compress counts
    checks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        runs = self.times.get(key)
        return statistics.median(runs) if runs else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Session:
    endpoint: Endpoint
    results: Results

    def timed(self, key: str, workspace: Workspace, *, expect: str | None = None) -> None:
        """One cold run of ``workspace`` (wiped first), recorded under ``key``; ``expect``
        ("fetched" or "left") what its summary must report of the bucket's variants."""
        workspace.wipe()
        self.endpoint.take_counts()
        argv = [sys.executable, "-c", COLLECTSTATIC_V1]
        try:
            seconds, output = captured_process(
                argv, workspace.environment(), workspace.settings_dir
            )
        except RunFailed as exc:
            self.results.errors.append(f"{key}: {exc}")
            log(f"  {key:40} FAILED")
            return
        self.results.times.setdefault(key, []).append(seconds)
        self.results.requests[key] = self.endpoint.take_counts()
        log(f"  {key:40} {seconds:7.2f} s")
        if workspace.contender.key == FLOOR:
            return
        check = check_compressed(workspace.static_root)
        if not check.ok:
            self.results.errors.append(f"{key}: {check.summary()}")
        match = SUMMARY.search(output)
        if match is not None:
            compressed, reused, from_bucket, left = (int(g or 0) for g in match.groups())
            self.results.summaries[key] = (
                f"{compressed:,} compressed, {reused:,} reused, {from_bucket:,} fetched, "
                f"{left:,} left in the bucket; variants {check.summary()}"
            )
            found = {"fetched": from_bucket, "left": left}
            if expect is not None and not found[expect]:
                self.results.errors.append(f"{key}: no variants {expect} in the bucket")


def run(
    tree: Tree, workdir: Path, endpoint: Endpoint, repeat: int, keys: set[str], change_file: str
) -> Results:
    everyone = contenders(endpoint.url)
    timed = [k for k in (FLOOR, WHITENOISE, EMPTY, FRESH, FRESH_UNSERVED) if k in keys]
    labels = {k: everyone[k].label for k in timed}
    if FRESH in keys:
        labels[FRESH_CHANGED] = "assetpipe fresh runner, one CSS file changed"
    results = Results(tree, repeat, labels)
    client = boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1")
    for bucket in (BUCKET, EMPTY_BUCKET):
        client.create_bucket(Bucket=bucket)
    workspaces = {k: make_workspace(workdir, everyone[k], tree) for k in [*timed, DEPLOY]}
    for workspace in workspaces.values():
        warm_up(workspace)
    session = Session(endpoint, results)
    if keys & {FRESH, FRESH_UNSERVED}:
        log("deploy build (untimed): publishes the tree the fresh runner starts from")
        session.timed(DEPLOY, workspaces[DEPLOY])
        results.times.pop(DEPLOY, None)
    for index in range(repeat):
        log(f"repeat {index + 1}/{repeat}")
        shift = index % len(timed)
        for key in timed[shift:] + timed[:shift]:
            if key == EMPTY:
                empty_bucket(client, EMPTY_BUCKET)
            expect = {FRESH: "fetched", FRESH_UNSERVED: "left"}.get(key)
            session.timed(key, workspaces[key], expect=expect)
    if FRESH in keys:
        with changing(tree.find(change_file)) as change:
            for _ in range(repeat):
                # Each repeat a content the bucket has never had; the deploy publishes it after.
                change.apply()
                session.timed(FRESH_CHANGED, workspaces[FRESH], expect="fetched")
    return results


def render(results: Results) -> str:
    tree = results.tree
    whitenoise, floor = results.median(WHITENOISE), results.median(FLOOR)
    lines = [
        f"Tree: {tree.files:,} files, {tree.bytes / 1e6:.1f} MB from {', '.join(tree.sources)}; "
        f"median of {results.repeat} runs per cell; local moto S3 endpoint over loopback HTTP",
        "",
        "| run | median (s) | runs (s) | vs WhiteNoise cold | vs plain copy | "
        + " | ".join(KINDS)
        + " |",
        "|---|---:|---|---:|---:|" + "---:|" * len(KINDS),
    ]
    for key, label in results.labels.items():
        value = results.median(key)
        runs = " ".join(f"{t:.2f}" for t in results.times.get(key, []))
        counts = results.requests.get(key, Counter())
        lines.append(
            f"| {label} | {f'{value:.2f}' if value is not None else 'failed'} | {runs} | "
            f"{ratio(value, whitenoise)} | {ratio(value, floor)} | "
            + " | ".join(f"{counts[kind]:,}" for kind in KINDS)
            + " |"
        )
    fresh = results.median(FRESH)
    if fresh and whitenoise and floor:
        lines += [
            "",
            f"Fresh runner vs WhiteNoise cold: {fresh / whitenoise:.2f}x (target <= 0.15x); "
            f"vs plain copy: {fresh / floor:.2f}x (target <= 3x)",
        ]
    if results.summaries:
        lines += ["", "Builds (last run of each):"]
        lines += [f"- {results.labels.get(k, k)}: {s}" for k, s in results.summaries.items()]
    if results.errors:
        lines += ["", "Failures:", *(f"- {error}" for error in results.errors)]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    keys = [FLOOR, WHITENOISE, EMPTY, FRESH, FRESH_UNSERVED]
    parser = argparse.ArgumentParser(
        prog="python -m bench.fresh", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument(
        "--contender",
        action="append",
        choices=keys,
        help=f"run only these (repeatable; default: all but {EMPTY})",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="MODULE",
        help=f"an installed package whose static/ to add (always: {', '.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument(
        "--add-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a directory of static files to add to the tree (repeatable)",
    )
    parser.add_argument(
        "--change-file",
        default="admin/css/widgets.css",
        metavar="RELPATH",
        help="the CSS file changed for the one-change run (default admin/css/widgets.css)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the tree and outputs here (new dir)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.workdir is not None and args.workdir.exists():
        parser.error(f"--workdir {args.workdir} already exists")
    args.contender = set(args.contender or [FLOOR, WHITENOISE, FRESH, FRESH_UNSERVED])
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="assetpipe-bench-fresh-"))
    try:
        tree = build_tree(workdir / "tree", [*DEFAULT_PACKAGES, *args.package], args.add_dir)
        with credentials(), Endpoint() as endpoint:
            results = run(tree, workdir, endpoint, args.repeat, args.contender, args.change_file)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
