#!/usr/bin/env python
"""The example project's manage.py; ``python example_project/manage.py demo`` runs the tour."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Runs from any working directory: the project package sits beside this file.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
