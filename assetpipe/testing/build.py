"""The build a test session starts with, for the pytest plugin and the test runner alike.

It is ``collectstatic`` with the project's own storage class and options, with three changes:
STATIC_ROOT is the session's own directory (kept between sessions, so from the second session on
the build is a no-change build), publishing is off (the ``s3`` option and the ``cdn`` that needs
it are dropped, so nothing is sent to a bucket), and the options that say where the files, the
manifest or the build state go (``location``, ``manifest_storage``, ``state_dir``) are dropped, so
that everything goes into that directory and the build state beside it. Every other option
(``missing_references``, ``integrity``, ``encodings``, ...) is the project's, so the tests see
the names, the integrity values and the build errors production sees.
"""

from __future__ import annotations

import os
import time
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.test.utils import override_settings

ENV_BUILD = "ASSETPIPE_TEST_BUILD"
ENV_STATIC_ROOT = "ASSETPIPE_TEST_STATIC_ROOT"
# What the storage must not be told in a test session: where to publish, where files go.
DROPPED_OPTIONS = ("s3", "cdn", "location", "manifest_storage", "state_dir")
STATIC_DIRNAME = "static"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")
_GITIGNORE = "# The test STATIC_ROOT assetpipe builds and its build state.\n*\n"


class StaticBuildError(Exception):
    """The session's build failed or cannot run; the message says why, in the build's words."""


def enabled_by_env() -> bool | None:
    """``ASSETPIPE_TEST_BUILD``: False to turn the build off, True to force it on, None unset."""
    raw = os.environ.get(ENV_BUILD, "")
    value = raw.strip().lower()
    if not value:
        return None
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise StaticBuildError(f"assetpipe: {ENV_BUILD}={raw!r}; expected 1 or 0 (or true/false)")


def static_root_from_env() -> Path | None:
    """``ASSETPIPE_TEST_STATIC_ROOT``: the test STATIC_ROOT, relative to the working directory."""
    value = os.environ.get(ENV_STATIC_ROOT, "").strip()
    return Path(value).expanduser().resolve() if value else None


def project_uses_assetpipe() -> bool:
    """Whether Django is configured with an AssetPipeStorage as its staticfiles storage (and
    ``django.contrib.staticfiles`` installed); sets Django up if it is not yet."""
    from django.conf import settings

    if not (os.environ.get("DJANGO_SETTINGS_MODULE") or settings.configured):
        return False
    import django
    from django.apps import apps

    from assetpipe.conf.storages import uses_assetpipe

    if not uses_assetpipe():
        return False
    if not apps.ready:
        django.setup()
    return apps.is_installed("django.contrib.staticfiles")


def session_settings(root: Path) -> dict[str, Any]:
    """The settings a session runs with: its STATIC_ROOT, and the storage without publishing."""
    from django.conf import settings

    from assetpipe.conf.storages import static_entry

    entry: dict[str, Any] = dict(static_entry() or {})
    options: dict[str, Any] = dict(entry.get("OPTIONS") or {})
    entry["OPTIONS"] = {name: v for name, v in options.items() if name not in DROPPED_OPTIONS}
    return {"STATIC_ROOT": str(root), "STORAGES": {**settings.STORAGES, "staticfiles": entry}}


class SessionBuild:
    """The test STATIC_ROOT of one session: its settings while active, and its build.

    ``owns_parent``: the directory holding ``root`` (and the build state beside it) is
    assetpipe's own, marked ignored for git when created."""

    def __init__(self, root: Path, *, owns_parent: bool = False) -> None:
        self.root = root
        self.owns_parent = owns_parent
        self.report: list[str] = []  # what the build said, for the session's header
        self._override: override_settings | None = None

    def activate(self) -> None:
        """Put the session's settings in force (until ``deactivate``)."""
        from django.test.utils import override_settings

        if self._override is None:
            self._override = override_settings(**session_settings(self.root))
            self._override.enable()

    def deactivate(self) -> None:
        if self._override is not None:
            override, self._override = self._override, None
            override.disable()

    def build(self) -> list[str]:
        """Run the build with the session's settings in force; returns what it reported.

        :class:`StaticBuildError` carries the build's own message (for a missing reference with
        ``"missing_references": "fail"``, the file and line)."""
        started = time.perf_counter()
        from django.core.management import call_command
        from django.core.management.base import OutputWrapper

        from assetpipe.build.report import Console, reporting_to

        self.activate()
        self._prepare()
        out, err = StringIO(), StringIO()
        try:
            with reporting_to(Console(OutputWrapper(out), OutputWrapper(err), 1)):
                call_command(
                    "collectstatic", interactive=False, verbosity=1, stdout=out, stderr=err
                )
        except Exception as exc:
            error = _build_error(exc)
            lines = [f"assetpipe: the build of the test STATIC_ROOT {self.root} failed:"]
            lines += [*_lines(err.getvalue()), f"{type(error).__name__}: {error}"]
            raise StaticBuildError("\n".join(lines)) from exc
        finally:
            reload_static_storage()
        seconds = time.perf_counter() - started
        self.report = [
            f"assetpipe: built the test STATIC_ROOT {self.root} in {seconds:.2f} s",
            *_lines(out.getvalue()),
            *_lines(err.getvalue()),
        ]
        return self.report

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        gitignore = self.root.parent / ".gitignore"
        if self.owns_parent and not gitignore.exists():
            gitignore.write_text(_GITIGNORE)


def reload_static_storage() -> None:
    """The next use of ``staticfiles_storage`` loads the manifest anew, as an app server does."""
    from django.conf import settings
    from django.test.signals import setting_changed

    setting_changed.send(
        sender=SessionBuild, setting="STORAGES", value=settings.STORAGES, enter=True
    )


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _build_error(exc: Exception) -> BaseException:
    """The storage's own error: from Django 6.1 on, collectstatic raises a CommandError with the
    same message from it, which would name the error differently on each Django."""
    from django.core.management.base import CommandError

    cause = exc.__cause__
    if isinstance(exc, CommandError) and cause is not None and str(cause) == str(exc):
        return cause
    return exc
