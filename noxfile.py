"""CI sessions: lint, the package build, the suite on every declared Django release, the docs.

``./dev ci`` runs them all (``.ci/run`` calls it); ``./dev ci -s lint`` runs one.
"""

from __future__ import annotations

import nox

# uv when it is installed (the ci group has it): it sets up each session in seconds.
nox.options.default_venv_backend = "uv|venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_venv = "yes"
nox.options.envdir = ".venv-nox"  # beside ./dev's .venv, ignored by git alike
nox.options.sessions = ["lint", "package", "tests", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ".[s3,media,whitenoise,servestatic,images]"

# Each declared Django release on the oldest Python it supports.
DJANGO_PYTHONS = [("5.2", "3.11"), ("6.0", "3.12"), ("6.1", "3.13")]


def install(session: nox.Session, *groups: str, django: str | None = None) -> None:
    """The package with every extra, editable, the given dependency groups and Django release."""
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    if django:
        requirements.append(f"django=={django}.*")
    session.install("-e", EXTRAS, *requirements)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    install(session, "test", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python="3.11")
def package(session: nox.Session) -> None:
    """The wheel from the lowest declared setuptools, and an install without extras."""
    install(session, "test")
    session.run(
        "python", "-m", "pytest", "-m", "packaging", "tests/test_packaging.py", *session.posargs
    )


@nox.session
@nox.parametrize(("django", "python"), DJANGO_PYTHONS, ids=[d for d, _ in DJANGO_PYTHONS])
def tests(session: nox.Session, django: str) -> None:
    install(session, "test", django=django)
    # Two workers: the suite's servers each take a free port, so workers never share one.
    session.run("python", "-m", "pytest", "-n", "2", *session.posargs)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The documentation's tests (reference pages regenerated and compared, snippets run,
    troubleshooting messages checked), then the site with every warning an error."""
    install(session, "test", "docs")
    session.run("python", "-m", "pytest", "tests/docs", *session.posargs)
    session.run(
        "sphinx-build", "-E", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html"
    )
