"""``python -m bench.s3``: collectstatic with publishing to S3, assetpipe and the alternatives.

One invocation starts a moto S3 server on loopback, counts every HTTP request it serves by type,
and times, on the same tree (``bench.tree``) and each against its own bucket:

* ``StaticFilesStorage``, local only: the no-change floor every deploy pays anyway;
* django-storages' ``S3ManifestStaticStorage`` via collectstatic;
* WhiteNoise's ``CompressedManifestStaticFilesStorage`` build, then ``aws s3 sync``;
* assetpipe: ``AssetPipeStorage`` with ``s3`` set, i.e. build and publish in one collectstatic.

Scenarios, each repeated ``--repeat`` times with the contender order rotating: **cold** (no local
output or state, empty bucket) and **no-change** (again, on the cold run's output and bucket).
Every run is a complete child process, timed by the parent as in ``python -m bench``. After the
first cold run each bucket is checked: its manifest must reference only keys that exist.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from werkzeug.serving import make_server

from bench.local import ratio
from bench.runner import (
    COLLECTSTATIC,
    REPO_ROOT,
    Contender,
    RunFailed,
    Workspace,
    make_workspace,
    measured_process,
    timed_process,
    warm_up,
)
from bench.tree import DEFAULT_PACKAGES, Tree, build_tree

SCENARIOS = ("cold", "no-change", "sync --verify")
KINDS = ("PUT", "HEAD", "GET", "LIST", "DELETE", "POST")
FLOOR, S3MANIFEST, SYNC, ASSETPIPE = "floor", "s3manifest", "whitenoise-sync", "assetpipe"
LOCAL_ASSETPIPE = "assetpipe-local"
# ``manage.py assetpipe sync --verify``: the publish alone, listing whatever the record says.
VERIFY = (
    "import django; django.setup(); "
    "from django.core.management import call_command; "
    "call_command('assetpipe', 'sync', '--verify', verbosity=0)"
)
LOCATION = "static"
MANIFEST = f"{LOCATION}/staticfiles.json"
# Keys of earlier builds that ``--bucket-keys`` adds under the prefix; kept between repeats.
PADDING = f"{LOCATION}/old-builds/"
# For the local endpoint only; every child process gets them through its environment.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def request_kind(environ: dict[str, Any]) -> str:
    method: str = environ["REQUEST_METHOD"]
    query: str = environ.get("QUERY_STRING", "")
    if method == "GET" and "list-type=2" in query:
        return "LIST"
    if method == "GET" and environ.get("PATH_INFO", "/").strip("/").count("/") == 0:
        return "LIST"  # ListObjects (v1): GET on the bucket itself
    if method == "POST" and query.startswith("delete"):
        return "DELETE"
    return method


COUNTS_PATH = "/__bench__/counts"  # answered by the counting wrapper, never by moto


def serve() -> None:
    """Serve moto's S3 on a free loopback port, counting requests by kind; print the URL.

    ``GET /__bench__/counts`` returns the counts since the previous such request as JSON.
    Runs until stdin closes, in its own process so that the server never competes with the
    process that measures for an interpreter lock.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    moto = DomainDispatcherApplication(create_backend_app)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        nonlocal counts
        if environ.get("PATH_INFO") == COUNTS_PATH:
            with lock:
                body, counts = json.dumps(counts).encode(), Counter()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        with lock:
            counts[request_kind(environ)] += 1
        return moto(environ, start_response)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = make_server("127.0.0.1", 0, app, True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


class Endpoint:
    """The :func:`serve` process, started and stopped by the benchmark."""

    def __enter__(self) -> Endpoint:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.s3", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("the moto S3 endpoint did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.communicate(timeout=30)  # closes stdin: the server stops

    def take_counts(self) -> Counter[str]:
        """Requests by kind since the previous call."""
        with urllib.request.urlopen(self.url + COUNTS_PATH) as response:
            return Counter(json.load(response))


@dataclass(frozen=True)
class S3Contender:
    contender: Contender
    bucket: str | None  # None: local only
    sync: bool = False  # aws s3 sync STATIC_ROOT after the build


LOCAL_CONTENDERS = (
    S3Contender(
        Contender(
            FLOOR,
            "StaticFilesStorage (local only)",
            "django.contrib.staticfiles.storage.StaticFilesStorage",
        ),
        None,
    ),
    S3Contender(
        Contender(
            LOCAL_ASSETPIPE,
            "AssetPipeStorage (local only)",
            "assetpipe.storage.AssetPipeStorage",
            installed_apps=("assetpipe",),
        ),
        None,
    ),
)


def bucket_for(key: str) -> str:
    return f"bench-{key}"


def contenders(endpoint: str) -> list[S3Contender]:
    where = {"location": LOCATION, "endpoint_url": endpoint, "region_name": "us-east-1"}
    s3manifest = Contender(
        S3MANIFEST,
        "django-storages S3ManifestStaticStorage",
        "storages.backends.s3.S3ManifestStaticStorage",
        options={"bucket_name": bucket_for(S3MANIFEST), **where, "querystring_auth": False},
        env=CREDENTIALS,
    )
    sync = Contender(
        SYNC,
        "WhiteNoise build + aws s3 sync",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        env=CREDENTIALS,
    )
    assetpipe = Contender(
        ASSETPIPE,
        "assetpipe build + publish",
        "assetpipe.storage.AssetPipeStorage",
        options={"s3": {"bucket_name": bucket_for(ASSETPIPE), **where}},
        installed_apps=("assetpipe",),
        env=CREDENTIALS,
    )
    return [
        LOCAL_CONTENDERS[0],
        S3Contender(s3manifest, bucket_for(S3MANIFEST)),
        S3Contender(sync, bucket_for(SYNC), sync=True),
        LOCAL_CONTENDERS[1],
        S3Contender(assetpipe, bucket_for(ASSETPIPE)),
    ]


@dataclass
class Results:
    tree: Tree
    repeat: int
    labels: dict[str, str]
    times: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    requests: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)  # last run's
    notes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def median(self, scenario: str, key: str) -> float | None:
        runs = self.times.get((scenario, key))
        return statistics.median(runs) if runs else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def aws_sync(workspace: Workspace, endpoint: str, bucket: str) -> float:
    aws = Path(sys.executable).with_name("aws")
    argv = [
        str(aws),
        "s3",
        "sync",
        str(workspace.static_root),
        f"s3://{bucket}/{LOCATION}",
        "--endpoint-url",
        endpoint,
        "--only-show-errors",
    ]
    return timed_process(argv, workspace.environment(), cwd=workspace.settings_dir)


def empty_bucket(client: Any, bucket: str) -> None:
    """Delete every key but the padding, which stands for earlier builds."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [
            {"Key": item["Key"]}
            for item in page.get("Contents", ())
            if not item["Key"].startswith(PADDING)
        ]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def pad_bucket(client: Any, bucket: str, keys: int) -> int:
    """Add small objects under :data:`PADDING` until the bucket holds ``keys``; the count."""
    present = sum(
        int(page.get("KeyCount", 0))
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    )
    names = [f"{PADDING}js/app-{i}.{i:012x}.js" for i in range(max(0, keys - present))]

    def put(key: str) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=b"/* an earlier build */\n")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, names))
    return present + len(names)


def check_bucket(client: Any, bucket: str) -> str:
    """The bucket's manifest and whether every key it references exists."""
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", ()))
    if MANIFEST not in keys:
        raise RunFailed(f"s3://{bucket}/{MANIFEST} is missing")
    body = client.get_object(Bucket=bucket, Key=MANIFEST)["Body"].read()
    referenced = {f"{LOCATION}/{name}" for name in json.loads(body)["paths"].values()}
    missing = sorted(referenced - keys)
    if missing:
        raise RunFailed(f"the manifest references {len(missing)} missing keys, e.g. {missing[0]}")
    return f"{len(keys):,} keys, manifest references {len(referenced):,}, all present"


@dataclass
class Session:
    """One benchmark invocation's endpoint, client, workspaces and the contenders still in."""

    endpoint: Endpoint
    client: Any
    workspaces: dict[str, Workspace]
    results: Results
    active: list[S3Contender]

    def timed(self, scenario: str, entry: S3Contender, code: str = COLLECTSTATIC) -> bool:
        key = entry.contender.key
        workspace = self.workspaces[key]
        self.endpoint.take_counts()
        argv = [sys.executable, "-c", code]
        try:
            seconds = measured_process(
                argv, workspace.environment(), workspace.settings_dir
            ).seconds
            if entry.sync and entry.bucket:
                seconds += aws_sync(workspace, self.endpoint.url, entry.bucket)
        except RunFailed as exc:
            self.results.errors[key] = f"{scenario}: {exc}"
            self.active.remove(entry)
            log(f"  {scenario:13} {entry.contender.label:42} FAILED")
            return False
        self.results.times.setdefault((scenario, key), []).append(seconds)
        self.results.requests[(scenario, key)] = self.endpoint.take_counts()
        log(f"  {scenario:13} {entry.contender.label:42} {seconds:7.2f} s")
        return True

    def cold(self, entry: S3Contender, first: bool) -> None:
        self.workspaces[entry.contender.key].wipe()
        if entry.bucket:
            empty_bucket(self.client, entry.bucket)
        if self.timed("cold", entry) and first and entry.bucket:
            _check(self.client, entry, self.results, self.active)

    def pad(self, keys: int, first: bool) -> None:
        for entry in self.active:
            if entry.contender.key == ASSETPIPE and entry.bucket:
                count = pad_bucket(self.client, entry.bucket, keys)
                if first:
                    self.results.notes.append(f"{entry.contender.label}: {count:,} keys")


def run(
    tree: Tree,
    workdir: Path,
    endpoint: Endpoint,
    repeat: int,
    keys: Iterable[str],
    bucket_keys: int = 0,
) -> Results:
    selected = set(keys)
    entries = [c for c in contenders(endpoint.url) if c.contender.key in selected]
    results = Results(tree, repeat, {c.contender.key: c.contender.label for c in entries})
    client = boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1")
    workspaces = {c.contender.key: make_workspace(workdir, c.contender, tree) for c in entries}
    for entry in entries:
        if entry.bucket:
            client.create_bucket(Bucket=entry.bucket)
        warm_up(workspaces[entry.contender.key])
    session = Session(endpoint, client, workspaces, results, list(entries))
    for index in range(repeat):
        log(f"repeat {index + 1}/{repeat}")
        shift = index % len(session.active) if session.active else 0
        order = session.active[shift:] + session.active[:shift]
        for entry in order:
            session.cold(entry, first=index == 0)
        if bucket_keys:
            session.pad(bucket_keys, first=index == 0)
        for entry in [e for e in order if e in session.active]:
            session.timed("no-change", entry)
        for entry in [e for e in order if e in session.active and e.contender.key == ASSETPIPE]:
            session.timed("sync --verify", entry, VERIFY)
    return results


def _check(client: Any, entry: S3Contender, results: Results, active: list[S3Contender]) -> None:
    """After the first cold run: the bucket's manifest references only keys that exist."""
    assert entry.bucket is not None
    try:
        verdict = check_bucket(client, entry.bucket)
    except RunFailed as exc:
        results.errors[entry.contender.key] = f"cold: {exc}"
        active.remove(entry)
        return
    results.notes.append(f"{entry.contender.label}, cold: {verdict}")


def render(results: Results) -> str:
    tree = results.tree
    lines = [
        f"Tree: {tree.files} files, {tree.bytes / 1e6:.1f} MB from {', '.join(tree.sources)}; "
        f"median of {results.repeat} runs per cell; local moto S3 endpoint over loopback HTTP",
        "",
        "| scenario | contender | median (s) | runs (s) | vs floor | vs S3Manifest | "
        + " | ".join(KINDS)
        + " |",
        "|---|---|---:|---|---:|---:|" + "---:|" * len(KINDS),
    ]
    for scenario in SCENARIOS:
        for key, label in results.labels.items():
            if (scenario, key) in results.times or scenario != "sync --verify":
                lines.append(_row(results, scenario, key, label))
    lines += _targets(results)
    lines += [
        "",
        "Request counts are those of the last run of each cell. `sync --verify` is the publish "
        "alone (no build), listing the bucket whatever the publish record says.",
    ]
    if results.notes:
        lines += ["", "Checks:", *(f"- {note}" for note in results.notes)]
    if results.errors:
        lines += ["", "Failures:", *(f"- {key}: {error}" for key, error in results.errors.items())]
    return "\n".join(lines)


def _row(results: Results, scenario: str, key: str, label: str) -> str:
    value = results.median(scenario, key)
    runs = results.times.get((scenario, key), [])
    counts = results.requests.get((scenario, key), Counter())
    shown = f"{value:.2f}" if value is not None else "failed"
    return (
        f"| {scenario} | {label} | {shown} | {' '.join(f'{t:.2f}' for t in runs)} | "
        f"{ratio(value, results.median(scenario, FLOOR))} | "
        f"{ratio(value, results.median(scenario, S3MANIFEST))} | "
        + " | ".join(f"{counts[kind]:,}" for kind in KINDS)
        + " |"
    )


def _targets(results: Results) -> list[str]:
    assetpipe = results.median("no-change", ASSETPIPE)
    floor = results.median("no-change", FLOOR)
    s3manifest = results.median("no-change", S3MANIFEST)
    local = results.median("no-change", LOCAL_ASSETPIPE)
    lines = [""]
    if assetpipe and floor:
        lines.append(
            f"No-change assetpipe vs local StaticFilesStorage: {assetpipe / floor:.2f}x "
            "(target <= 1.3x)"
        )
    if assetpipe and s3manifest:
        lines.append(
            f"No-change assetpipe vs S3ManifestStaticStorage: {assetpipe / s3manifest:.3f}x "
            "(target <= 0.05x)"
        )
    if assetpipe and local:
        lines.append(
            "No-change assetpipe with publishing vs the same build without: "
            f"{assetpipe / local:.2f}x (target <= 1.25x)"
        )
    return lines if len(lines) > 1 else []


@contextmanager
def credentials() -> Iterator[None]:
    """The local endpoint's credentials for this process's own client, restored afterwards."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    keys = [FLOOR, S3MANIFEST, SYNC, LOCAL_ASSETPIPE, ASSETPIPE]
    parser = argparse.ArgumentParser(prog="python -m bench.s3", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument(
        "--contender",
        action="append",
        choices=keys,
        help="run only these contenders (repeatable; default: all)",
    )
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="MODULE",
        help=f"an installed package whose static/ to add (always: {', '.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument(
        "--bucket-keys",
        type=int,
        default=0,
        metavar="N",
        help="before the no-change runs, fill assetpipe's bucket up to N keys with small objects "
        "of earlier builds under the prefix (e.g. 20000)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the tree and outputs here (new dir)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.workdir is not None and args.workdir.exists():
        parser.error(f"--workdir {args.workdir} already exists")
    args.contender = args.contender or keys
    return args


def main(argv: Sequence[str] | None = None) -> int:
    if list(argv if argv is not None else sys.argv[1:]) == ["--serve"]:
        serve()
        return 0
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="assetpipe-bench-s3-"))
    try:
        tree = build_tree(workdir / "tree", [*DEFAULT_PACKAGES, *args.package])
        with credentials(), Endpoint() as endpoint:
            results = run(tree, workdir, endpoint, args.repeat, args.contender, args.bucket_keys)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
