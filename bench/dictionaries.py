"""``python -m bench.dictionaries``: what a returning visitor downloads after a deploy, with and
without the ``dictionaries`` option, on real version histories; and what the option costs.

The tree is real releases: the minified dist files of consecutive patch releases of bootstrap
(JS bundle and CSS), jQuery, htmx and Chart.js, installed with npm from the committed lock in
``tests/build/releases``. Release k-1 is deployed, then release k. Three tables:

* **returning visitor**: per changed file, what a browser holding release k-1 downloads for
  release k: the brotli variant without the option, the ``dcz`` delta with it;
* **plain zstd**: zstd 19 and 22 against brotli 11 over the text files of the default bench
  tree (Django admin, DRF, debug-toolbar) and the releases: why assetpipe writes no ``.zst``;
* **cost**: the deploy of release k as a complete ``collectstatic`` process, option off against
  on (the latter making the deltas), ``--repeat`` times in alternating order, and the bytes the
  deltas add to STATIC_ROOT and the bucket.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import brotli

from bench.local import log
from bench.runner import REPO_ROOT, Contender, make_workspace, measure_collectstatic, warm_up
from bench.tree import DEFAULT_PACKAGES, Tree, build_tree
from bench.workdir import check_workdir, fresh_workdir

MARKER = ".assetpipe-bench-dictionaries"
SPEC = REPO_ROOT / "tests" / "build" / "releases"
BACKEND = "assetpipe.storage.AssetPipeStorage"
CONTENDERS = (
    Contender("off", "dictionaries off", BACKEND, {}, installed_apps=("assetpipe",)),
    Contender(
        "on", "dictionaries on", BACKEND, {"dictionaries": {}}, installed_apps=("assetpipe",)
    ),
)
# Static name -> [package alias of release k-1, of release k, file in the package], shared with
# tests/build/test_dictionaries_releases.py.
RELEASES: dict[str, list[str]] = json.loads((SPEC / "releases.json").read_text())
TEXT = (".css", ".js", ".mjs", ".svg", ".html", ".txt", ".json", ".map")


def install_releases(workdir: Path) -> Path:
    """``node_modules`` of the committed releases spec, installed with npm into ``workdir``."""
    target = workdir / "npm"
    target.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(SPEC / name, target / name)
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=target,
        check=True,
        capture_output=True,
    )
    return target / "node_modules"


def write_release(tree: Path, modules: Path, release: int) -> None:
    for name, (*aliases, path) in RELEASES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / aliases[release] / path, tree / name)


def visitor_table(static_root: Path) -> list[str]:
    from assetpipe.naming import delta_name, dictionary_hash, dictionary_id

    built = json.loads((static_root / "staticfiles.json").read_bytes())
    rows = ["| file | raw | brotli 11 | dcz delta | delta / brotli |", "|---|---:|---:|---:|---:|"]
    totals = [0, 0, 0]
    for name in RELEASES:
        hashed = built["paths"][name]
        deltas = built["dictionaries"][hashed]["deltas"]
        sha256 = dictionary_hash(deltas[0]) if deltas else None
        raw = (static_root / hashed).stat().st_size
        br = (static_root / (hashed + ".br")).stat().st_size
        delta = (
            br
            if sha256 is None
            else (static_root / delta_name(hashed, dictionary_id(sha256))).stat().st_size
        )
        totals = [totals[0] + raw, totals[1] + br, totals[2] + delta]
        rows.append(f"| {name} | {raw:,} | {br:,} | {delta:,} | {delta / br:.1%} |")
    raw, br, delta = totals
    rows.append(f"| **all** | {raw:,} | **{br:,}** | **{delta:,}** | **{delta / br:.1%}** |")
    return rows


def zstd_table(dirs: Sequence[Path]) -> list[str]:
    import zstandard

    texts = [
        path.read_bytes()
        for directory in dirs
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.suffix.lower() in TEXT
    ]
    raw = sum(map(len, texts))
    sizes = {
        "brotli 11": sum(len(brotli.compress(t, quality=11)) for t in texts),
        "zstd 19": sum(len(zstandard.ZstdCompressor(level=19).compress(t)) for t in texts),
        "zstd 22": sum(len(zstandard.ZstdCompressor(level=22).compress(t)) for t in texts),
    }
    base = sizes["brotli 11"]
    rows = [
        f"{len(texts)} text files, {raw:,} bytes",
        "",
        "| encoding | bytes | against brotli 11 |",
        "|---|---:|---:|",
    ]
    rows += [f"| {name} | {size:,} | {size / base:.3f}x |" for name, size in sizes.items()]
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dictionaries", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="deploys per contender (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep the trees and output here")
    args = parser.parse_args(argv)
    check_workdir(parser, args.workdir, MARKER)
    with fresh_workdir(args.workdir, MARKER, "assetpipe-bench-dictionaries-") as workdir:
        log("installing the releases with npm")
        modules = install_releases(workdir)
        source = workdir / "releases"
        tree = Tree(
            root=source, dirs=(source,), sources=("releases",), files=len(RELEASES), bytes=0
        )
        workspaces = [make_workspace(workdir, c, tree) for c in CONTENDERS]
        seconds: dict[str, list[float]] = {c.key: [] for c in CONTENDERS}
        peaks: dict[str, list[int]] = {c.key: [] for c in CONTENDERS}
        for run in range(args.repeat):
            order = workspaces if run % 2 == 0 else workspaces[::-1]
            for workspace in order:
                workspace.wipe()
                write_release(source, modules, 0)
                warm_up(workspace)
                measure_collectstatic(workspace)  # release k-1, untimed: the dictionaries
                write_release(source, modules, 1)
                measured = measure_collectstatic(workspace)
                seconds[workspace.contender.key].append(measured.seconds)
                peaks[workspace.contender.key].append(measured.peak_rss)
        on = next(w for w in workspaces if w.contender.key == "on")
        lines = ["## A returning visitor (holds release k-1) loads release k", ""]
        lines += visitor_table(on.static_root)
        off_s, on_s = (statistics.median(seconds[key]) for key in ("off", "on"))
        off_mb, on_mb = (statistics.median(peaks[key]) / 1e6 for key in ("off", "on"))
        delta_bytes = sum(p.stat().st_size for p in on.static_root.rglob("*.dcz"))
        all_bytes = sum(p.stat().st_size for p in on.static_root.rglob("*") if p.is_file())
        lines += [
            "",
            f"## Cost: the deploy of release k, median of {args.repeat}",
            "",
            "| contender | seconds | ratio | peak RSS (MB) | ratio |",
            "|---|---:|---:|---:|---:|",
            f"| dictionaries off | {off_s:.2f} | 1.00x | {off_mb:.0f} | 1.00x |",
            f"| dictionaries on | {on_s:.2f} | {on_s / off_s:.2f}x | {on_mb:.0f} "
            f"| {on_mb / off_mb:.2f}x |",
            "",
            f"Deltas: {delta_bytes:,} bytes of {all_bytes:,} in STATIC_ROOT "
            f"({delta_bytes / all_bytes:.1%}).",
            "",
            "## Plain zstd against brotli 11",
            "",
        ]
        bench_tree = build_tree(workdir / "bench-tree", DEFAULT_PACKAGES)
        lines += zstd_table([*bench_tree.dirs, source])
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
