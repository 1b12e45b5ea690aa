"""The shop (``shop_project``): a project using AssetPipeStorage, copied and run in a subprocess.

Its own ``pytest.ini`` and ``manage.py`` make it a project of its own; it is never collected here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

collect_ignore = ["shop_project"]

SHOP = Path(__file__).with_name("shop_project")
REPO = Path(__file__).resolve().parents[2]
RUNNER = "assetpipe.testing.runner.StaticBuildRunner"
# What this suite's own run puts in the environment and a project's run must not see.
INHERITED = ("DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "ASSETPIPE_TEST_")


class Shop:
    """A copy of the shop in a temporary directory, and its test suites run there."""

    def __init__(self, base: Path) -> None:
        self.base = base
        shutil.copytree(SHOP, base, ignore=shutil.ignore_patterns("__pycache__"))

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(INHERITED) and not name.startswith("PYTEST_XDIST")
        }
        # This checkout's assetpipe, whichever one is installed in the environment.
        pythonpath = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return {**env, "PYTHONPATH": pythonpath, **extra}

    def pytest(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        # Hypothesis is this suite's, not the shop's: its plugin would only slow every run.
        return self.python("-m", "pytest", "-p", "no:hypothesispytest", *args, **env)

    def manage_test(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.python("manage.py", "test", *args, **env)

    def python(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.base,
            env=self.environment(**env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def break_a_reference(self) -> None:
        """Line 3 of shop/site.css refers to a file that is not there."""
        css = self.base / "shop/static/shop/site.css"
        css.write_text(css.read_text() + '.missing { background: url("missing.png"); }\n')


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path / "shop")


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr
