"""``python -m bench``: time collectstatic for each storage and print a Markdown table."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import local
from bench.tree import DEFAULT_CHANGE_FILE, DEFAULT_PACKAGES, build_tree


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    keys = [contender.key for contender in local.CONTENDERS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (default 3)")
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
        default=DEFAULT_CHANGE_FILE,
        metavar="RELPATH",
        help=f"the CSS file the one-CSS-change scenario modifies (default {DEFAULT_CHANGE_FILE})",
    )
    parser.add_argument(
        "--contender",
        action="append",
        choices=keys,
        help="run only these contenders (repeatable; default: all)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the tree and every contender's output here (must not exist); default: a "
        "temporary directory, removed afterwards",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.workdir is not None and args.workdir.exists():
        parser.error(f"--workdir {args.workdir} already exists")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    selected = set(args.contender or [c.key for c in local.CONTENDERS])
    contenders = [c for c in local.CONTENDERS if c.key in selected]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="assetpipe-bench-"))
    try:
        tree = build_tree(
            workdir / "tree",
            [*DEFAULT_PACKAGES, *args.package],
            [d.resolve() for d in args.add_dir],
        )
        results = local.run(tree, workdir, contenders, args.repeat, args.change_file)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(local.render(results))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
