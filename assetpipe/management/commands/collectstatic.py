"""Django's collectstatic, with its output streams and verbosity handed to assetpipe's build.

Django runs the command of the first app in INSTALLED_APPS that has one, so this one is used
when ``assetpipe`` comes before ``django.contrib.staticfiles``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic

from assetpipe.report import Console, reporting_to


class Command(collectstatic.Command):
    def handle(self, **options: Any) -> str | None:
        console = Console(self.stdout, self.stderr, int(options["verbosity"]))
        with reporting_to(console):
            return super().handle(**options)
