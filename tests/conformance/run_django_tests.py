#!/usr/bin/env python
"""Run Django's own staticfiles storage tests against another storage class.

Django's ``tests/staticfiles_tests/test_storage.py`` is the definition of what a manifest storage
must produce. This script fetches the Django source distribution that matches the installed
Django, extracts its ``tests/`` directory, and runs that module with the installed Django, with
every use of ``django.contrib.staticfiles.storage.ManifestStaticFilesStorage`` in it (the
``override_settings`` backends and the base class of the custom storages in
``staticfiles_tests/storage.py`` and ``test_storage.py``) replaced by the storage under test,
constructed with the given options. The installed Django is never modified: only a private copy of
the test files is rewritten.

Usage::

    # AssetPipeStorage with {"encodings": [], "missing_references": "fail"}
    python tests/conformance/run_django_tests.py
    # AssetPipeStorage with its default options
    python tests/conformance/run_django_tests.py --defaults
    # Django's own storage: checks the harness itself
    python tests/conformance/run_django_tests.py \\
        --storage django.contrib.staticfiles.storage.ManifestStaticFilesStorage --options '{}'

Unknown arguments are passed on to Django's ``runtests.py`` (e.g. ``-k test_manifest``). The sdist
(from PyPI, checked against the SHA-256 that PyPI lists) and its extracted tests are cached under
``$ASSETPIPE_CACHE`` (default ``~/.cache/assetpipe``).
The exit status is the test run's; when tests fail, a summary of each failing test and the
exception it ended with is printed after Django's own output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import django

DEFAULT_STORAGE = "assetpipe.storage.AssetPipeStorage"
CONFORMANCE_OPTIONS: dict[str, object] = {"encodings": [], "missing_references": "fail"}
TEST_LABEL = "staticfiles_tests.test_storage"
SHIM_MODULE = "assetpipe_conformance"
SHIM_CLASS = "StorageUnderTest"
DJANGO_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Django's files and their SHA-256 digests on the package index, in the JSON form of its simple
# API (PEP 691). urllib follows the *_proxy variables and OpenSSL's SSL_CERT_FILE/SSL_CERT_DIR.
INDEX = "https://pypi.org/simple/django/"
INDEX_JSON = "application/vnd.pypi.simple.v1+json"
TIMEOUT = 60.0  # seconds without a byte from the index
CHUNK = 1 << 16

SHIM_SOURCE = '''\
"""The storage under test, standing in for ManifestStaticFilesStorage (generated)."""

import json

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.utils.module_loading import import_string

STORAGE = {storage!r}
OPTIONS = json.loads({options!r})

_Base = import_string(STORAGE)
if not issubclass(_Base, ManifestStaticFilesStorage):
    raise TypeError(f"{{STORAGE}} is not a ManifestStaticFilesStorage subclass")


class {cls}(_Base):
    def __init__(self, *args, **kwargs):
        # Explicit arguments from a test (e.g. manifest_storage) win over the configured options.
        super().__init__(*args, **{{**OPTIONS, **kwargs}})
'''


def cache_root() -> Path:
    return Path(os.environ.get("ASSETPIPE_CACHE") or Path.home() / ".cache" / "assetpipe")


def fetch_sdist(version: str, cache: Path, index: str = INDEX) -> Path:
    """Return the cached Django sdist for ``version``, downloading it from ``index`` if needed.

    With the standard library alone: the suite also runs in virtualenvs without pip. The
    download is cached only when its SHA-256 is the one the index lists."""
    target = cache / "django" / f"django-{version}.tar.gz"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url, sha256 = sdist_url(index, target.name)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        downloaded = Path(tmp) / target.name
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response, downloaded.open("wb") as out:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise RuntimeError(
                f"{url} has SHA-256 {digest.hexdigest()}, not the {sha256} that {index} lists; "
                "it was not cached"
            )
        # Atomic: a concurrent run sees either no file or a complete one.
        os.replace(downloaded, target)
    return target


def sdist_url(index: str, filename: str) -> tuple[str, str]:
    """The URL and SHA-256 that ``index`` lists for the file ``filename``.

    Compared without case: the name's case changed over Django's history (Django-x vs django-x).
    """
    request = urllib.request.Request(index, headers={"Accept": INDEX_JSON})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        if response.headers.get_content_type() != INDEX_JSON:
            raise RuntimeError(f"{index} did not answer with {INDEX_JSON}")
        files = json.load(response)["files"]
    for file in files:
        if file["filename"].lower() == filename.lower():
            if "sha256" not in file["hashes"]:
                raise RuntimeError(f"{index} lists no SHA-256 for {file['filename']}")
            return urllib.parse.urljoin(index, file["url"]), file["hashes"]["sha256"]
    raise RuntimeError(f"{index} lists no {filename}")


def extract_tests(sdist: Path, version: str, cache: Path) -> Path:
    """Return a pristine, cached copy of the sdist's ``tests/`` directory."""
    target = cache / "django" / f"django-{version}-tests"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.split("/")[1:2] == ["tests"]]
        if not members:
            raise RuntimeError(f"{sdist} has no tests/ directory")
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, members=members, filter="data")
        else:  # Python < 3.11.4; the archive comes from PyPI over HTTPS
            archive.extractall(tmp, members=members)
        top = members[0].name.split("/")[0]
        try:
            os.rename(Path(tmp) / top / "tests", target)
        except OSError:
            if not target.exists():  # not a concurrent run that finished first
                raise
    return target


def _replace(text: str, old: str, new: str, path: Path, *, regex: bool = False) -> str:
    """Replace, insisting that the pattern is there: a silent no-op would test Django's storage."""
    pattern = old if regex else re.escape(old)
    result, count = re.subn(pattern, new, text)
    if count == 0:
        raise RuntimeError(f"{path.name}: expected {old!r}; the test module has changed shape")
    return result


def rewrite_storage_references(tests_dir: Path) -> None:
    """Point every ManifestStaticFilesStorage use in the storage tests at the shim class."""
    module = tests_dir / "staticfiles_tests" / "storage.py"
    text = module.read_text()
    text = _replace(
        text,
        "from django.contrib.staticfiles.storage import ManifestStaticFilesStorage\n",
        f"from {SHIM_MODULE} import {SHIM_CLASS} as ManifestStaticFilesStorage\n",
        module,
    )
    module.write_text(text)

    module = tests_dir / "staticfiles_tests" / "test_storage.py"
    text = module.read_text()
    text = _replace(text, f'"{DJANGO_STORAGE}"', f'"{SHIM_MODULE}.{SHIM_CLASS}"', module)
    base_class = r"\bstorage\.ManifestStaticFilesStorage\b"
    text = _replace(text, base_class, SHIM_CLASS, module, regex=True)
    text = f"from {SHIM_MODULE} import {SHIM_CLASS}\n" + text
    if "ManifestStaticFilesStorage" in text:
        raise RuntimeError(f"{module.name}: a ManifestStaticFilesStorage use was not rewritten")
    module.write_text(text)


def prepare_workdir(pristine: Path, storage: str, options: dict[str, object]) -> Path:
    """A private tests tree: rewritten copies where needed, symlinks to the cache elsewhere."""
    workdir = Path(tempfile.mkdtemp(prefix="assetpipe-conformance-"))
    for entry in pristine.iterdir():
        # runtests.py is copied, not linked: Python resolves a script's symlink for sys.path[0],
        # which would put the cached, unrewritten tree first on the path.
        if entry.name == "runtests.py":
            shutil.copy2(entry, workdir / entry.name)
        elif entry.name == "staticfiles_tests":
            shutil.copytree(entry, workdir / entry.name, symlinks=True)
        else:
            (workdir / entry.name).symlink_to(entry)
    rewrite_storage_references(workdir)
    (workdir / f"{SHIM_MODULE}.py").write_text(
        SHIM_SOURCE.format(storage=storage, options=json.dumps(options), cls=SHIM_CLASS)
    )
    return workdir


@dataclass(frozen=True)
class Failure:
    kind: str  # FAIL or ERROR
    test: str
    reason: str


_BLOCK_HEADER = re.compile(r"^(FAIL|ERROR): (\S+) \(([\w.]+)\)")


def parse_failures(output: str) -> list[Failure]:
    """Failing tests and the exception each ended with, from unittest's text report."""
    failures: dict[str, Failure] = {}
    for block in output.split("=" * 70 + "\n")[1:]:
        lines = block.splitlines()
        match = _BLOCK_HEADER.match(lines[0]) if lines else None
        if not match:
            continue
        kind, _, test_id = match.groups()
        reason = ""
        # The last traceback of a chain is the one the test ended with; its first unindented
        # line is the exception (multi-line messages continue below it).
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
        if starts:
            reason = next(
                (line for line in lines[starts[-1] + 1 :] if line and not line[0].isspace()), ""
            )
        failures.setdefault(test_id, Failure(kind, test_id, reason))  # subtests: first one
    return list(failures.values())


def run_tests(workdir: Path, runtests_args: Sequence[str]) -> tuple[int, str]:
    """Run runtests.py in ``workdir``, echoing its output as it comes; return (status, output)."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # e.g. inherited from pytest-django
    # The storage under test may live in this repository without being installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        sys.executable,
        "runtests.py",
        TEST_LABEL,
        "--settings=test_sqlite",
        "--parallel=1",
        "--noinput",
        *runtests_args,
    ]
    chunks: list[str] = []
    with subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            chunks.append(line)
    return process.returncode, "".join(chunks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="dotted path of the storage")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--options",
        type=json.loads,
        default=CONFORMANCE_OPTIONS,
        help=f"JSON object of storage options (default: {json.dumps(CONFORMANCE_OPTIONS)})",
    )
    group.add_argument(
        "--defaults",
        action="store_const",
        const={},
        dest="options",
        help="construct the storage without options, i.e. with its defaults",
    )
    parser.add_argument("--keep", action="store_true", help="keep the rewritten tests tree")
    args, runtests_args = parser.parse_known_args(argv)
    if not isinstance(args.options, dict):
        parser.error("--options must be a JSON object")

    version = django.get_version()
    cache = cache_root()
    pristine = extract_tests(fetch_sdist(version, cache), version, cache)
    workdir = prepare_workdir(pristine, args.storage, args.options)
    print(
        f"Django {version} {TEST_LABEL} against {args.storage} "
        f"with options {json.dumps(args.options)}",
        flush=True,
    )
    try:
        status, output = run_tests(workdir, runtests_args)
    finally:
        if args.keep:
            print(f"Rewritten tests kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    failures = parse_failures(output)
    if failures:
        print(f"\n{len(failures)} failing test{'s' if len(failures) != 1 else ''}:")
        for failure in failures:
            print(f"  {failure.kind:5} {failure.test}\n        {failure.reason}")
    return status


if __name__ == "__main__":
    sys.exit(main())
