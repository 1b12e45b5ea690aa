"""``python -m bench``: time collectstatic for each storage and print a Markdown table."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import local
from bench.generated import SCALE_CHANGE_FILE, mib_tree, scale_tree
from bench.tree import DEFAULT_CHANGE_FILE, DEFAULT_PACKAGES, Tree, build_tree

TREES = ("packages", "scale", "mib")
CHANGE_FILES = {
    "packages": DEFAULT_CHANGE_FILE,
    "scale": SCALE_CHANGE_FILE,
    "mib": "css/styles-00.css",
}
# Marks a directory as a benchmark's work directory, which a later run may reuse.
MARKER = ".assetpipe-bench"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    keys = [contender.key for contender in local.CONTENDERS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
    _add_tree_arguments(parser)
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="MODULE",
        help=f"an installed package whose static/ to add (always: {', '.join(DEFAULT_PACKAGES)})",
    )
    parser.add_argument(
        "--add-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a directory of static files to add to the tree (repeatable)",
    )
    parser.add_argument(
        "--change-file",
        metavar="RELPATH",
        help=f"the CSS file the one-CSS-change scenario modifies (default {DEFAULT_CHANGE_FILE}; "
        f"{SCALE_CHANGE_FILE} on the scale tree)",
    )
    parser.add_argument(
        "--contender",
        action="append",
        choices=keys,
        help="run only these contenders (repeatable; default: all)",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="also run AssetPipeStorage as imported from the checkout DIR (e.g. a git worktree "
        "of an earlier commit), labelled LABEL: before/after ratios from one run (repeatable)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the trees and every contender's output here: a new directory, or one an "
        "earlier run used, whose cache/ (generated trees) is reused; default: a temporary "
        "directory, removed afterwards",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    workdir = args.workdir
    reused = workdir is not None and (workdir / MARKER).exists()
    if workdir is not None and workdir.exists() and not reused:
        parser.error(f"--workdir {workdir} exists and is no earlier benchmark's")
    args.change_file = args.change_file or CHANGE_FILES[args.tree]
    baselines = []
    for value in args.baseline:
        label, _, directory = value.partition("=")
        if not label or not (Path(directory) / "assetpipe" / "storage.py").is_file():
            parser.error(f"--baseline {value}: expected LABEL=DIR, DIR an assetpipe checkout")
        baselines.append(local.baseline(label, Path(directory).resolve()))
    args.baseline = baselines
    return args


def _add_tree_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tree",
        choices=TREES,
        default="packages",
        help="packages: installed packages' statics (default); scale: 20,000+ files, 1 GB+; "
        "mib: 240 files of 1 MiB. Generated trees are kept in WORKDIR/cache",
    )
    parser.add_argument(
        "--scale", action="store_const", const="scale", dest="tree", help="the same as --tree scale"
    )


def prepare_workdir(workdir: Path) -> None:
    """Mark ``workdir`` as a benchmark's; remove an earlier run's output, keep its cache."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).touch()
    for name in ("out", "settings", "tree"):
        shutil.rmtree(workdir / name, ignore_errors=True)


def make_tree(args: argparse.Namespace, workdir: Path) -> Tree:
    if args.tree == "scale":
        return scale_tree(workdir / "cache")
    if args.tree == "mib":
        return mib_tree(workdir / "cache")
    return build_tree(
        workdir / "tree",
        [*DEFAULT_PACKAGES, *args.package],
        [d.resolve() for d in args.add_dir],
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    selected = set(args.contender or [c.key for c in local.CONTENDERS])
    contenders = [c for c in local.CONTENDERS if c.key in selected] + args.baseline
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="assetpipe-bench-"))
    try:
        prepare_workdir(workdir)
        tree = make_tree(args, workdir)
        results = local.run(tree, workdir, contenders, args.repeat, args.change_file)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(local.render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
