"""The example project's demo, run to completion the way the README tells a new user to."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tests.serve.conftest import example_env, run_example

SUMMARY = re.compile(
    r"^assetpipe: (\d+) files: (\d+) hashed \((\d+) reused\), "
    r"(\d+) files compressed \((\d+) reused\)",
    re.MULTILINE,
)


def test_demo_builds_twice_publishes_and_lists_the_buckets(tmp_path: Path) -> None:
    result = run_example(example_env(tmp_path), "demo", "--no-serve")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    cold, warm = SUMMARY.findall(out)
    files, hashed, _, compressed, compressed_reused = map(int, cold)
    assert files > 100  # the admin's files and the shop's own
    assert hashed == files and compressed > 0
    files_again, hashed_again, reused, compressed_again, reused_again = map(int, warm)
    assert (files_again, hashed_again, reused, compressed_again) == (files, 0, files, 0)
    # One unit on both runs: the same files have variants, made then reused.
    assert compressed + compressed_reused == reused_again

    published = re.findall(
        r"^assetpipe: published build [0-9a-f]{12} to s3://acme-static/static: (\d+) uploaded",
        out,
        re.MULTILINE,
    )
    assert len(published) == 2
    assert int(published[0]) > 0 and published[1] == "0"

    # The listing shows the published static files, hashed and not, and the tenant's media.
    assert re.search(r"^  static/acme/js/app\.[0-9a-f]{12}\.js ", out, re.MULTILINE)
    assert re.search(r"^  static/acme/js/greeting\.[0-9a-f]{12}\.js ", out, re.MULTILINE)
    assert "\n  static/staticfiles.json " in out
    assert "\n  media/acme-corp/welcome.txt " in out
    assert re.search(
        r"^Signed URL: http://127\.0\.0\.1:\d+/acme-media/media/acme-corp/welcome\.txt\?.*X-Amz-Signature=",
        out,
        re.MULTILINE,
    )

    # The entry module imports its dependency by hashed name.
    root = tmp_path / "build" / "static" / "acme" / "js"
    (app,) = (p for p in root.glob("app.*.js") if re.fullmatch(r"app\.[0-9a-f]{12}\.js", p.name))
    (greeting,) = (
        p for p in root.glob("greeting.*.js") if re.fullmatch(r"greeting\.[0-9a-f]{12}\.js", p.name)
    )
    assert f'from "./{greeting.name}";' in app.read_text()
    # The build state is kept beside STATIC_ROOT, never inside it.
    assert (tmp_path / "build" / ".assetpipe").is_dir()
    assert not list((tmp_path / "build" / "static").rglob(".assetpipe*"))


def test_demo_refuses_a_busy_s3_port(tmp_path: Path) -> None:
    env = example_env(tmp_path)
    port = int(env["ACME_S3_ENDPOINT"].rsplit(":", 1)[1])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = run_example(env, "demo", "--no-serve")
    assert result.returncode != 0
    assert f"Port {port} is in use" in result.stderr
