"""The distribution: declared dependencies, the extras, the wheel, and an install without extras.

The tests marked ``packaging`` build the wheel with the lowest setuptools that pyproject.toml
declares and install it into fresh virtualenvs; ``nox -s package`` runs them.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from assetpipe.extras import EXTRAS, missing_message, require

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT: dict[str, Any] = PYPROJECT["project"]
# Modules only pytest loads (the pytest11 entry points): pytest, running them, provides pytest.
PYTEST_PLUGINS = frozenset(
    ROOT / (module.replace(".", "/") + ".py")
    for module in PROJECT["entry-points"]["pytest11"].values()
)


def distributions(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(req).name) for req in requirements}


def imported_modules(package: Path, *, leaving_out: frozenset[Path] = frozenset()) -> set[str]:
    """Top-level names of the third-party modules that ``package`` (a directory or a module)
    imports anywhere, but in the modules ``leaving_out``."""
    names: set[str] = set()
    paths = package.rglob("*.py") if package.is_dir() else [package]
    for path in paths:
        if path in leaving_out:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"assetpipe", "__future__"}


def distribution_of(module: str) -> str:
    return canonicalize_name(packages_distributions()[module][0])


def test_core_dependencies_are_django_and_brotli() -> None:
    assert distributions(PROJECT["dependencies"]) == {"django", "brotli"}


def test_every_imported_module_is_declared() -> None:
    core = distributions(PROJECT["dependencies"])
    extras = {name: distributions(reqs) for name, reqs in PROJECT["optional-dependencies"].items()}
    for module in imported_modules(ROOT / "assetpipe", leaving_out=PYTEST_PLUGINS):
        dist = distribution_of(module)
        if dist in core:
            continue
        providing = [extra.name for extra in EXTRAS.values() if module in extra.modules]
        assert providing, f"{module} is imported but neither a core dependency nor in an extra"
        for name in providing:
            assert dist in extras[name], f"extra {name!r} provides {module} but lacks {dist}"


def test_pytest_plugins_import_pytest_beside_the_core_only() -> None:
    core = distributions(PROJECT["dependencies"])
    assert PYTEST_PLUGINS
    for plugin in PYTEST_PLUGINS:
        assert plugin.is_file()
        assert {m for m in imported_modules(plugin) if distribution_of(m) not in core} == {"pytest"}


def test_each_extra_declares_the_distributions_of_its_modules() -> None:
    declared = PROJECT["optional-dependencies"]
    for extra in EXTRAS.values():
        assert {distribution_of(module) for module in extra.modules} <= distributions(
            declared[extra.name]
        )


def test_tools_are_dependency_groups_not_extras() -> None:
    assert set(PROJECT["optional-dependencies"]) == set(EXTRAS)
    assert {"test", "bench", "lint"} <= set(PYPROJECT["dependency-groups"])


def test_require_is_silent_when_the_extra_is_installed() -> None:
    for name in EXTRAS:
        require(name)


def test_missing_message_names_the_extra_and_the_modules() -> None:
    assert missing_message("s3", ["boto3"]) == (
        "assetpipe: publishing to S3 needs boto3, which is not installed; "
        "install it with `pip install 'assetpipe[s3]'`"
    )
    assert "needs storages, boto3 and botocore, which are not installed; install them" in (
        missing_message("media", ["storages", "boto3", "botocore"])
    )


def test_unknown_extra_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        require("no-such-extra")


# Building and installing the wheel.


def lowest_setuptools() -> str:
    (requirement,) = [
        Requirement(req)
        for req in PYPROJECT["build-system"]["requires"]
        if Requirement(req).name == "setuptools"
    ]
    (lowest,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return lowest


def make_venv(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin" / "python"


def pip(python: Path, *args: str) -> None:
    subprocess.run([python, "-m", "pip", "install", "-q", *args], check=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built with exactly the lowest declared setuptools, without build isolation."""
    base = tmp_path_factory.mktemp("build")
    # A copy, so that setuptools' build/ and egg-info never land in the source tree.
    source = base / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "assetpipe", source / "assetpipe", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    python = make_venv(base / "venv")
    # setuptools builds wheels itself (bdist_wheel) from 70.1 on.
    pip(python, f"setuptools=={lowest_setuptools()}")
    out = base / "dist"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-build-isolation",
            "--no-deps",
            "-w",
            out,
            source,
        ],
        check=True,
    )
    (built,) = out.glob("assetpipe-*.whl")
    return built


@pytest.mark.packaging
def test_wheel_has_license_py_typed_and_only_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = next(name.split("/")[0] for name in names if ".dist-info/" in name)
    assert f"{dist_info}/licenses/LICENSE" in names
    assert "assetpipe/py.typed" in names
    assert "assetpipe/edge/negotiate.js" in names  # the edge code renders it
    assert "assetpipe/edge/cors.js" in names
    assert {name.split("/")[0] for name in names} == {"assetpipe", dist_info}
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    unconditional = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and ";" not in line
    ]
    assert distributions([line.split(":", 1)[1] for line in unconditional]) == {"django", "brotli"}


@pytest.mark.packaging
def test_wheel_registers_the_pytest_plugin(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[pytest11]\nassetpipe = assetpipe.testing.plugin\n" in text
    assert "assetpipe/testing/plugin.py" in archive.namelist()


@pytest.fixture(scope="module")
def bare_install(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with ``pip install assetpipe`` and no extras."""
    python = make_venv(tmp_path_factory.mktemp("bare") / "venv")
    pip(python, str(wheel))
    return python


PROJECT_SETTINGS = """
SECRET_KEY = "packaging"
INSTALLED_APPS = ["assetpipe", "django.contrib.staticfiles"]
STATIC_URL = "/static/"
STATIC_ROOT = {root!r}
STATICFILES_DIRS = [{source!r}]
STORAGES = {{
    "default": {default},
    "staticfiles": {{"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": {options}}},
}}
"""

LOCAL_STORAGE = '{"BACKEND": "django.core.files.storage.FileSystemStorage"}'


class BareProject:
    """A Django project run by ``manage.py``-style commands in the virtualenv without extras."""

    def __init__(self, python: Path, base: Path) -> None:
        self.python = python
        self.base = base
        self.source = base / "src"
        self.root = base / "static"
        (self.source / "css").mkdir(parents=True)
        (self.source / "css" / "site.css").write_text(
            "body { background: url('../img/dot.svg'); }\n" * 40
        )
        (self.source / "img").mkdir()
        (self.source / "img" / "dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")

    def configure(self, options: str = "{}", default: str = LOCAL_STORAGE) -> None:
        (self.base / "project_settings.py").write_text(
            PROJECT_SETTINGS.format(
                root=str(self.root), source=str(self.source), options=options, default=default
            )
        )

    def django(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.base),
            "DJANGO_SETTINGS_MODULE": "project_settings",
        }
        return subprocess.run(
            [self.python, "-m", "django", *args],
            cwd=self.base,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture
def bare_project(bare_install: Path, tmp_path: Path) -> Iterator[BareProject]:
    yield BareProject(bare_install, tmp_path)


@pytest.mark.packaging
def test_bare_install_has_no_optional_dependency(bare_install: Path) -> None:
    modules = sorted({module for extra in EXTRAS.values() for module in extra.modules})
    probe = f"import importlib.util as u; print([m for m in {modules!r} if u.find_spec(m)])"
    found = subprocess.run(
        [bare_install, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


@pytest.mark.packaging
def test_local_build_needs_no_extra(bare_project: BareProject) -> None:
    bare_project.configure()
    result = bare_project.django("collectstatic", "--noinput")
    assert result.returncode == 0, result.stderr
    (css,) = (bare_project.root / "css").glob("site.*.css")
    assert re.fullmatch(r"site\.[0-9a-f]{12}\.css", css.name)
    assert css.with_name(css.name + ".br").exists()
    assert css.with_name(css.name + ".gz").exists()
    assert (bare_project.root / "staticfiles.json").exists()


@pytest.mark.packaging
def test_s3_option_fails_naming_the_extra(bare_project: BareProject) -> None:
    bare_project.configure(options='{"s3": {"bucket_name": "acme-static"}}')
    result = bare_project.django("collectstatic", "--noinput")
    assert result.returncode != 0
    # collectstatic's system checks report it (assetpipe.E004) before the storage is created.
    assert "(assetpipe.E004) assetpipe: publishing to S3 needs botocore and certifi" in (
        result.stderr
    )
    assert "pip install 'assetpipe[s3]'" in result.stderr
    assert not bare_project.root.exists()


@pytest.mark.packaging
def test_tenant_media_fails_at_start_up_naming_the_extra(bare_project: BareProject) -> None:
    media = '{"BACKEND": "assetpipe.media.TenantMediaStorage", "OPTIONS": {"bucket_name": "m"}}'
    bare_project.configure(default=media)
    result = bare_project.django("check")
    assert result.returncode != 0
    assert "(assetpipe.E003)" in result.stderr, result.stderr  # a check error, no traceback
    assert "Traceback" not in result.stderr
    assert "pip install 'assetpipe[media]'" in result.stderr


@pytest.mark.packaging
def test_subcommands_name_their_extra_and_nginx_needs_none(bare_project: BareProject) -> None:
    bare_project.configure()
    for subcommand, extra in (("sync", "s3"), ("status", "s3"), ("iam-policy", "media")):
        result = bare_project.django("assetpipe", subcommand)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert f"pip install 'assetpipe[{extra}]'" in result.stderr
    nginx = bare_project.django("assetpipe", "nginx")
    assert nginx.returncode == 0, nginx.stderr
    assert "location ^~ /static/" in nginx.stdout
