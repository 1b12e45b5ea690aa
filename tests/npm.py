"""npm packages the tests run, installed from a committed package.json and package-lock.json.

Each spec directory's packages are installed with Debian's node/npm into
``.cache/npm/<name>-<digest>`` (gitignored), once per content of those two files. Without node or
the npm registry the tests skip, except under CI, where that is a failure.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_component

REPO = Path(__file__).resolve().parents[1]
NPM_CACHE = REPO / ".cache" / "npm"


def unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run an npm or node command; skip (fail under CI) when it fails."""
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        unavailable(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def node_modules(spec: Path, name: str) -> Path:
    """``node_modules`` for the package.json and package-lock.json in ``spec``, installed on
    first use; ``name`` names the install in the cache."""
    found = bool(shutil.which("node") and shutil.which("npm"))
    require_component("node and npm", found, "apt-get install nodejs npm")
    digest = hashlib.sha256(
        (spec / "package.json").read_bytes() + (spec / "package-lock.json").read_bytes()
    ).hexdigest()[:16]
    target = NPM_CACHE / f"{name}-{digest}"
    if (target / ".installed").exists():
        return target / "node_modules"
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    # pytest-xdist's workers may ask for the same install at once: one installs, the others
    # wait for it and find it done.
    with open(NPM_CACHE / f"{name}-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".installed").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for file in ("package.json", "package-lock.json"):
                shutil.copy(spec / file, target / file)
            run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], target)
            (target / ".installed").touch()
    return target / "node_modules"
