"""``manage.py test`` with STATIC_ROOT built once before the first test::

    TEST_RUNNER = "assetpipe.testing.runner.StaticBuildRunner"

or, over a runner of your own, ``class Runner(StaticBuildMixin, YourRunner)``. The build runs
right after Django's test environment is set up, before the test databases, when the project's
staticfiles storage is an ``AssetPipeStorage`` (``ASSETPIPE_TEST_BUILD=0`` turns it off). The
test STATIC_ROOT is ``ASSETPIPE_TEST_STATIC_ROOT``, else ``.assetpipe-test/static`` in the working
directory. A build error stops the command with the build's own message. ``--parallel`` workers
use the same STATIC_ROOT: forked ones inherit the settings, spawned ones are given them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.test.runner import DiscoverRunner, ParallelTestSuite
from django.test.utils import override_settings

from assetpipe.testing.build import (
    STATIC_DIRNAME,
    SessionBuild,
    StaticBuildError,
    enabled_by_env,
    project_uses_assetpipe,
    session_settings,
    static_root_from_env,
)

DEFAULT_DIRNAME = ".assetpipe-test"


def use_static_root(root: str | None = None) -> None:
    """In a spawned ``--parallel`` worker, before Django is set up: the session's settings."""
    if root is not None:
        override_settings(**session_settings(Path(root))).enable()


class StaticBuildParallelSuite(ParallelTestSuite):
    """Django's parallel suite, whose spawned workers use the session's STATIC_ROOT too
    (``process_setup_args`` is set by the runner when it built one)."""

    process_setup = use_static_root


class StaticBuildMixin(DiscoverRunner):
    """Builds STATIC_ROOT in ``setup_test_environment``; put it first among the bases."""

    parallel_test_suite = StaticBuildParallelSuite
    static_build: SessionBuild | None = None

    def setup_test_environment(self, **kwargs: Any) -> None:
        super().setup_test_environment(**kwargs)
        try:
            if enabled_by_env() is False or not project_uses_assetpipe():
                return
            root = static_root_from_env()
            owns_parent = root is None
            build = SessionBuild(
                root or Path.cwd() / DEFAULT_DIRNAME / STATIC_DIRNAME, owns_parent=owns_parent
            )
            self.static_build = build
            lines = build.build()
        except StaticBuildError as exc:
            raise CommandError(str(exc)) from None
        for line in lines:
            self.log(line)

    def build_suite(self, *args: Any, **kwargs: Any) -> Any:
        suite = super().build_suite(*args, **kwargs)
        if isinstance(suite, StaticBuildParallelSuite) and self.static_build is not None:
            suite.process_setup_args = (str(self.static_build.root),)
        return suite

    def teardown_test_environment(self, **kwargs: Any) -> None:
        build, self.static_build = self.static_build, None
        if build is not None:
            build.deactivate()
        super().teardown_test_environment(**kwargs)


class StaticBuildRunner(StaticBuildMixin):
    """Django's ``DiscoverRunner`` with STATIC_ROOT built before the first test."""
