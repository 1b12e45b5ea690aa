"""``manage.py assetpipe``: its parser, what it imports and which system checks it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assetpipe.management.commands.assetpipe import SUBCOMMANDS, Command, load

REPO = Path(__file__).resolve().parents[1]
# Arguments a subcommand cannot run without.
REQUIRED = {
    "iam-policy": ["--tenant", "acme"],
    "rollback": ["--previous"],
    "bucket-policy": ["--public"],
}
COMMON = [
    "-v",
    "2",
    "--settings",
    "tests.settings",
    "--pythonpath",
    ".",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
]


def parse(*args: str) -> dict[str, object]:
    parser = Command().create_parser("manage.py", "assetpipe")
    return vars(parser.parse_args(args))


def manage(tmp_path: Path, settings: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -X importtime -m django <args>`` with ``settings`` as the settings module."""
    (tmp_path / "command_settings.py").write_text(f"from tests.settings import *\n{settings}")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "DJANGO_SETTINGS_MODULE": "command_settings",
    }
    command = [sys.executable, "-X", "importtime", "-m", "django", *args]
    return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)


def imported(stderr: str) -> set[str]:
    """Top-level package names from ``-X importtime``'s lines: ``import time: a | b | name``."""
    lines = (line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if "|" in line)
    return {line.split(".")[0] for line in lines}


S3_PACKAGES = {"boto3", "botocore", "s3transfer"}


def test_nginx_imports_no_s3_library(tmp_path: Path) -> None:
    result = manage(tmp_path, "", "assetpipe", "nginx")

    assert result.returncode == 0, result.stderr
    assert "location ^~ /static/ {" in result.stdout
    assert "django" in imported(result.stderr)
    assert not imported(result.stderr) & S3_PACKAGES


def test_check_reports_options_without_creating_the_storage(tmp_path: Path) -> None:
    # Creating this storage would import boto3 to read the manifest from the bucket.
    options = {
        "s3": {"bucket_name": "acme", "location": "static", "read_manifest_from_bucket": True},
        "encoding": ["br"],
    }
    backend = "assetpipe.storage.AssetPipeStorage"
    settings = f"STORAGES['staticfiles'] = {{'BACKEND': {backend!r}, 'OPTIONS': {options!r}}}\n"
    result = manage(tmp_path, settings, "check")

    assert result.returncode == 1
    assert "(assetpipe.E004)" in result.stderr
    assert '["encoding"] is not an option (did you mean "encodings"?)' in result.stderr
    assert not imported(result.stderr) & S3_PACKAGES


def test_an_unrelated_checks_error_does_not_block_subcommands(tmp_path: Path) -> None:
    settings = (
        "from django.core import checks\n"
        "@checks.register(checks.Tags.models)\n"
        "def unrelated(app_configs, **kwargs):\n"
        "    return [checks.Error('an unrelated app is misconfigured', id='unrelated.E001')]\n"
    )
    check = manage(tmp_path, settings, "check")
    assert check.returncode == 1
    assert "unrelated.E001" in check.stderr

    nginx = manage(tmp_path, settings, "assetpipe", "nginx")
    assert nginx.returncode == 0, nginx.stderr
    assert "unrelated.E001" not in nginx.stderr


def test_assetpipe_checks_run_before_a_subcommand(tmp_path: Path) -> None:
    settings = "STORAGES['staticfiles']['OPTIONS'] = {'workers': 0}\n"
    result = manage(tmp_path, settings, "assetpipe", "nginx")

    assert result.returncode == 1
    assert "(assetpipe.E004)" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_common_options_after_the_subcommand(name: str) -> None:
    options = parse(name, *REQUIRED.get(name, []), *COMMON)

    assert options["subcommand"] == name
    assert options["verbosity"] == 2
    assert options["settings"] == "tests.settings"
    assert options["pythonpath"] == "."
    assert options["traceback"] is options["no_color"] is options["force_color"] is True
    assert options["skip_checks"] is True


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_common_options_before_the_subcommand_stay(name: str) -> None:
    before = parse("-v", "0", "--traceback", name, *REQUIRED.get(name, []))
    assert before["verbosity"] == 0
    assert before["traceback"] is True

    assert parse("-v", "0", name, *REQUIRED.get(name, []), "-v", "3")["verbosity"] == 3
    assert parse(name, *REQUIRED.get(name, []))["verbosity"] == 1


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_a_description(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        parse(name, "--help")
    assert exit_status.value.code == 0

    text = " ".join(capsys.readouterr().out.split())
    assert f"assetpipe {name} [-h] [-v {{0,1,2,3}}]" in text
    assert " ".join(SUBCOMMANDS[name].description.split()) in text


def test_status_help_says_what_it_compares(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("status", "--help")
    assert "Exits with status 1 when they differ" in " ".join(capsys.readouterr().out.split())


def test_the_list_of_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    text = capsys.readouterr().out
    for name, entry in SUBCOMMANDS.items():
        assert f"{name}  " in text
        assert entry.help.split()[0] in text


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_entry_loads_its_subcommand(name: str) -> None:
    subcommand = load(name)
    assert callable(subcommand.add_arguments)
    assert callable(subcommand.handle)


def test_a_subcommands_own_options_are_parsed() -> None:
    options = parse("upload-media", "-v", "2", "--jobs", "3", "--dry-run")
    assert (options["verbosity"], options["jobs"], options["dry_run"]) == (2, 3, True)
