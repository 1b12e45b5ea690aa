"""CI sessions: lint, the package build, the suite on every declared Django release, the docs.

``./dev ci`` runs them all (``.ci/run`` calls it); ``./dev ci -s lint`` runs one. Each session
installs exactly what uv.lock pins; ``./dev ci --latest`` (``ASSETPIPE_LATEST`` set) installs the
newest releases the declared ranges allow instead, in virtualenvs of their own.
"""

from __future__ import annotations

import os

import nox

# uv when it is installed (the ci group has it): it sets up each session in seconds.
nox.options.default_venv_backend = "uv|venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "package", "tests", "docs"]

LATEST = bool(os.environ.get("ASSETPIPE_LATEST"))
# Beside ./dev's .venv, ignored by git alike; the newest releases never share the locked ones'.
nox.options.envdir = ".venv-nox-latest" if LATEST else ".venv-nox"

PYPROJECT = nox.project.load_toml("pyproject.toml")
EXTRAS = ["s3", "media", "whitenoise", "servestatic", "images", "minify", "dictionaries"]

# Each declared Django release on the oldest Python it supports.
DJANGO_PYTHONS = [("5.2", "3.11"), ("6.0", "3.12"), ("6.1", "3.13")]


def install(session: nox.Session, *groups: str, django: str = "5.2") -> None:
    """The package with every extra, editable, the given dependency groups and Django release:
    as uv.lock pins them, or with ``--latest`` the newest the declared ranges allow."""
    if LATEST:
        requirements = [
            req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
        ]
        extras = ",".join(EXTRAS)
        session.install("--upgrade", "-e", f".[{extras}]", *requirements, f"django=={django}.*")
        return
    session.run_install(
        "uv",
        "sync",
        "--locked",
        *(f"--extra={extra}" for extra in EXTRAS),
        *(f"--group={group}" for group in (*groups, lock_group(django))),
        # The session's own interpreter, so that uv never replaces its virtualenv.
        f"--python={os.path.join(session.bin, 'python')}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        external=True,
    )


def lock_group(django: str) -> str:
    """The dependency group that holds a Django release line: "5.2" -> "django52"."""
    return "django" + django.replace(".", "")


def lock_constraints(session: nox.Session, *groups: str, django: str = "5.2") -> str:
    """A pip constraints file of uv.lock's versions, for what a test installs with pip."""
    path = os.path.join(session.create_tmp(), "constraints.txt")
    session.run_install(
        "uv",
        "export",
        "--locked",
        "--quiet",
        "--no-emit-project",
        "--no-hashes",
        "--all-extras",
        *(f"--group={group}" for group in (*groups, lock_group(django))),
        f"--output-file={path}",
        external=True,
    )
    return path


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
    # The wheel's own dependencies, installed by pip into fresh virtualenvs, at the lock's
    # versions too (with --latest, the newest).
    env = {} if LATEST else {"PIP_CONSTRAINT": lock_constraints(session, "test")}
    session.run(
        "python",
        "-m",
        "pytest",
        "-m",
        "packaging",
        "tests/test_packaging.py",
        *session.posargs,
        env=env,
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
