"""``python -m bench.memory``: peak memory (RSS) of a cold ``collectstatic``, side by side.

The tree is the one where memory used to grow with the bytes of the tree: ``--files`` files of
``--size`` MiB each, a sixth of them CSS/JS made of repeated text, the rest fonts of random bytes.
Each storage builds it once into an empty STATIC_ROOT, in its own process, measured by
``/usr/bin/time -v`` (or by the kernel's rusage where that tool is missing). ``--code DIR`` puts
another checkout's ``assetpipe`` first on the path, to compare before and after a change.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

STORAGES = {
    "assetpipe": "assetpipe.storage.AssetPipeStorage",
    "ManifestStaticFilesStorage": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    "StaticFilesStorage": "django.contrib.staticfiles.storage.StaticFilesStorage",
}
MIB = 1024 * 1024

SETTINGS = """\
SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "/static/"
STATIC_ROOT = {root!r}
STATICFILES_DIRS = [{source!r}]
STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
STORAGES = {{
    "default": {{"BACKEND": "django.core.files.storage.FileSystemStorage"}},
    "staticfiles": {{"BACKEND": {backend!r}, "OPTIONS": {options!r}}},
}}
"""

RUN = """\
import django
from django.core.management import call_command

django.setup()
call_command("collectstatic", interactive=False, verbosity=0)
"""


def build_tree(source: Path, files: int, size: int, font_extension: str) -> None:
    text_files = max(1, files // 6)
    for i in range(files):
        if i < text_files:
            extension = "css" if i % 2 else "js"
            line = f"/* {i} */ .rule-{i} {{ color: #{i:06x}; margin: {i}px; }}\n".encode()
            data = (line * (size // len(line) + 1))[:size]
        else:
            extension = font_extension
            data = os.urandom(size)
        path = source / extension / f"file{i:04}.{extension}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def peak_rss_kib(work: Path, key: str, code: Path | None) -> int:
    run_dir = work / key
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    options = {"state_dir": str(run_dir / "state")} if key == "assetpipe" else {}
    (run_dir / "bench_settings.py").write_text(
        SETTINGS.format(
            root=str(run_dir / "static"),
            source=str(work / "src"),
            backend=STORAGES[key],
            options=options,
        )
    )
    paths = [str(run_dir), *([str(code)] if code else []), str(Path(__file__).parent.parent)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
    }
    command = [sys.executable, "-c", RUN]
    if Path("/usr/bin/time").is_file():
        done = subprocess.run(
            ["/usr/bin/time", "-v", *command],
            env=env,
            cwd=run_dir,  # `python -c` puts the working directory first on the path
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        assert match, done.stderr
        return int(match.group(1))
    process = subprocess.Popen(command, env=env, cwd=run_dir)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--size", type=float, default=1.0, help="MiB per file (default 1)")
    parser.add_argument("--font-extension", default="woff2")
    parser.add_argument("--code", type=Path, action="append", default=[], metavar="DIR")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assetpipe-memory-") as tmp:
        work = Path(tmp)
        build_tree(work / "src", args.files, int(args.size * MIB), args.font_extension)
        rows = [("assetpipe" + (f" ({code})" if code else ""), code) for code in args.code]
        rows = rows or [("assetpipe", None)]
        results = [(label, peak_rss_kib(work, "assetpipe", code)) for label, code in rows]
        for key in list(STORAGES)[1:]:
            results.append((key, peak_rss_kib(work, key, None)))
    manifest = dict(results)["ManifestStaticFilesStorage"]
    print(f"{args.files} files of {args.size:g} MiB ({args.font_extension} fonts), cold build")
    print("| storage | peak RSS | vs Manifest |\n|---|---:|---:|")
    for label, kib in results:
        print(f"| {label} | {kib / 1024:.0f} MB | {kib / manifest:.2f} |")


if __name__ == "__main__":
    main()
