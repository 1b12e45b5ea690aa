"""Django's own storage tests pass against AssetPipeStorage: the proof that its names are Django's.

Runs ``run_django_tests.py`` in a subprocess (Django's test runner needs its own settings and
process) with compression off and strict reference checking, as Django's storage behaves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("run_django_tests.py")


def test_django_storage_tests_pass_against_assetpipe() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--storage",
            "assetpipe.storage.AssetPipeStorage",
            "--options",
            json.dumps({"encodings": [], "missing_references": "fail"}),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    ran = re.search(r"^Ran (\d+) tests? in", output, re.MULTILINE)
    # A run that collected nothing would also "pass"; Django 5.2 has 51 of these tests.
    assert ran is not None and int(ran.group(1)) > 50, output[-5000:]
    assert result.returncode == 0, output[-5000:]
