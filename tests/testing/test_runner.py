"""``manage.py test`` with assetpipe's runner, on the shop's own suite, in a subprocess."""

from __future__ import annotations

from tests.testing.conftest import RUNNER, Shop, output

SPAWNING_MANAGE = """\
import multiprocessing
import runpy
import sys

multiprocessing.set_start_method("spawn")  # macOS's default: workers start from nothing
sys.argv = ["manage.py", *sys.argv[1:]]
runpy.run_path("manage.py", run_name="__main__")
"""


def test_django_s_runner_fails_for_want_of_a_manifest(shop: Shop) -> None:
    result = shop.manage_test()
    assert result.returncode == 1, output(result)
    assert "ValueError: Missing staticfiles manifest entry for 'shop/site.css'" in result.stderr
    assert "FAILED (errors=2)" in result.stderr


def test_the_runner_builds_first_and_the_next_run_is_a_no_change_build(shop: Shop) -> None:
    first = shop.manage_test("--testrunner", RUNNER)
    assert first.returncode == 0, output(first)
    root = shop.base / ".assetpipe-test/static"
    assert f"assetpipe: built the test STATIC_ROOT {root} in " in first.stdout
    assert "assetpipe: 3 files: 3 hashed (0 reused), 2 files compressed (0 reused)" in first.stdout
    assert "Ran 2 tests" in first.stderr
    assert (shop.base / ".assetpipe-test/.gitignore").read_text().endswith("\n*\n")

    second = shop.manage_test("--testrunner", RUNNER)
    assert second.returncode == 0, output(second)
    assert "assetpipe: 3 files: 0 hashed (3 reused), 0 files compressed (2 reused)" in (
        second.stdout
    )


def test_spawned_parallel_workers_use_the_build(shop: Shop) -> None:
    (shop.base / "spawning_manage.py").write_text(SPAWNING_MANAGE)
    result = shop.python("spawning_manage.py", "test", "--testrunner", RUNNER, "--parallel", "2")
    assert result.returncode == 0, output(result)
    assert "Ran 2 tests" in result.stderr


def test_a_missing_reference_under_strict_stops_the_command(shop: Shop) -> None:
    shop.break_a_reference()
    result = shop.manage_test("--testrunner", RUNNER)
    assert result.returncode == 1, output(result)
    assert "CommandError: assetpipe: the build of the test STATIC_ROOT" in result.stderr
    assert 'shop/site.css:3: url("missing.png") -> shop/missing.png (not found)' in result.stderr
    assert "Ran " not in result.stderr
