"""``python -m bench.minify``: the minify step's cost and the bytes it saves after brotli.

The tree is the default bench tree (Django admin, Django REST framework, django-debug-toolbar;
``--package`` adds more). Two contenders, AssetPipeStorage with the ``minify`` option off and on
(``["css", "js"]``), each run as a complete ``collectstatic`` process, side by side:

* **cold**: output directory and build state (with the minify cache) removed first;
* **no-change**: run again on that output (the step reads its cache and minifies nothing).

Repeated ``--repeat`` times, the order rotating. Beside the whole runs, the step alone on the
same tree, in this process, cold (an empty cache) and warm, so its cost is not lost in the noise
of two processes. Then the bytes of the collected CSS and JS (each original name once) raw and
as sent with brotli (the ``.br`` variant where there is one, else the file), off and on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.local import log
from bench.runner import Contender, make_workspace, measure_collectstatic, warm_up
from bench.tree import DEFAULT_PACKAGES, build_tree
from bench.workdir import check_workdir, fresh_workdir

MARKER = ".assetpipe-bench-minify"
BACKEND = "assetpipe.storage.AssetPipeStorage"
CONTENDERS = (
    Contender("off", "minify off", BACKEND, {}, installed_apps=("assetpipe",)),
    Contender(
        "on", "minify css, js", BACKEND, {"minify": ["css", "js"]}, installed_apps=("assetpipe",)
    ),
)
KINDS = {"css": (".css",), "js": (".js", ".mjs", ".cjs")}


def sent_bytes(static_root: Path) -> dict[str, tuple[int, int, int]]:
    """Per kind: files, raw bytes, bytes sent to a brotli browser (the .br, else the file)."""
    import json

    paths = json.loads((static_root / "staticfiles.json").read_bytes())["paths"]
    table: dict[str, tuple[int, int, int]] = {}
    for name in paths:
        kind = next((k for k, ends in KINDS.items() if name.lower().endswith(ends)), None)
        if kind is None:
            continue
        raw = (static_root / name).stat().st_size
        variant = static_root / (name + ".br")
        sent = variant.stat().st_size if variant.is_file() else raw
        files, raws, sents = table.get(kind, (0, 0, 0))
        table[kind] = (files + 1, raws + raw, sents + sent)
    return table


def step_alone(tree_dirs: Sequence[Path]) -> tuple[float, float, int, int]:
    """The minify step on the tree's CSS/JS in this process: cold seconds, warm seconds, files
    minified, files kept."""
    from assetpipe.build.minify import MinifyStep, Tdewolff
    from assetpipe.build.sources import Source
    from assetpipe.digests import md5_file

    sources = {}
    for directory in tree_dirs:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix in (".css", ".js", ".mjs", ".cjs"):
                name = f"{directory.name}/{path.relative_to(directory).as_posix()}"
                size = path.stat().st_size
                sources[name] = Source(name, name, md5_file(path), size, str(path), path.read_bytes)
    minifier = Tdewolff()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        cold = MinifyStep(("css", "js"), Path(cache), minifier).run(sources, keep=())
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        MinifyStep(("css", "js"), Path(cache), minifier).run(sources, keep=())
        warm_seconds = time.perf_counter() - started
    return cold_seconds, warm_seconds, cold.minified, cold.kept


def render(
    times: dict[tuple[str, str], list[float]],
    alone: tuple[float, float, int, int],
    off: dict[str, tuple[int, int, int]],
    on: dict[str, tuple[int, int, int]],
    tree: str,
) -> str:
    lines = [
        f"## Minify step: {tree}\n",
        "| scenario | contender | median s | runs | ratio to off |",
        "|---|---|---|---|---|",
    ]
    for scenario in ("cold", "no-change"):
        base = statistics.median(times[(scenario, "off")])
        for contender in CONTENDERS:
            runs = times[(scenario, contender.key)]
            median = statistics.median(runs)
            shown = ", ".join(f"{r:.2f}" for r in runs)
            ratio = median / base
            lines.append(
                f"| {scenario} | {contender.label} | {median:.2f} | {shown} | {ratio:.2f}x |"
            )
    cold, warm, minified, kept = alone
    lines += [
        "",
        f"The step alone, in process: {minified} files minified, {kept} left as they are; "
        f"cold {cold * 1000:.0f} ms, warm (from its cache) {warm * 1000:.0f} ms.",
        "",
        "| kind | files | raw off | raw on | brotli off | brotli on | brotli on/off |",
        "|---|---|---|---|---|---|---|",
    ]
    totals = [0, 0, 0, 0, 0]
    for kind in sorted(off):
        files, raw_off, br_off = off[kind]
        _, raw_on, br_on = on.get(kind, (0, 0, 0))
        lines.append(
            f"| {kind} | {files} | {raw_off:,} | {raw_on:,} | {br_off:,} | {br_on:,} "
            f"| {br_on / br_off:.2f}x |"
        )
        for i, value in enumerate((files, raw_off, raw_on, br_off, br_on)):
            totals[i] += value
    files, raw_off, raw_on, br_off, br_on = totals
    lines.append(
        f"| all | {files} | {raw_off:,} | {raw_on:,} | {br_off:,} | {br_on:,} "
        f"| {br_on / br_off:.2f}x |"
    )
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.minify", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument("--package", action="append", default=[], metavar="MODULE")
    parser.add_argument("--workdir", type=Path, help="keep the tree and outputs here")
    args = parser.parse_args(argv)
    check_workdir(parser, args.workdir, MARKER)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with fresh_workdir(args.workdir, MARKER, "assetpipe-bench-minify-") as workdir:
        tree = build_tree(workdir / "tree", (*DEFAULT_PACKAGES, *args.package))
        workspaces = [make_workspace(workdir, contender, tree) for contender in CONTENDERS]
        for workspace in workspaces:
            warm_up(workspace)
        times: dict[tuple[str, str], list[float]] = {}
        for repeat in range(args.repeat):
            order = workspaces[repeat % 2 :] + workspaces[: repeat % 2]
            for workspace in order:
                workspace.wipe()
            for scenario in ("cold", "no-change"):
                for workspace in order:
                    seconds = measure_collectstatic(workspace).seconds
                    times.setdefault((scenario, workspace.contender.key), []).append(seconds)
                    log(f"{scenario} {workspace.contender.key}: {seconds:.2f} s")
        alone = step_alone(tree.dirs)
        off, on = (sent_bytes(w.static_root) for w in workspaces)
        label = f"{tree.files} files, {tree.bytes / 1e6:.1f} MB ({', '.join(tree.sources)})"
        sys.stdout.write(render(times, alone, off, on, label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
