"""``python -m bench.images``: the image step's cost and the bytes it saves, on real images.

The tree is the default bench tree (Django admin, Django REST framework, django-debug-toolbar;
``--package ckeditor`` adds CKEditor 4's 147 PNG and GIF files) plus photographs: scikit-image's
bundled samples (PNG and JPEG photographs: astronaut, chelsea, coffee, camera, motorcycle,
rocket, the Hubble deep field, a retina scan) and a few large photos drawn deterministically with
Pillow (gradients, shapes, blur and grain from a fixed seed, saved as JPEG quality 90), made once
into the work directory. Three contenders, AssetPipeStorage with the ``images`` option off, with
the fixed qualities and every PNG lossless (``"floor": None, "lossless": True``: the step before
the perceptual floor) and with its defaults (the floor, PNG photographs lossy), each run as a
complete ``collectstatic`` process:

* **cold**: output directory and build state removed first;
* **no-change**: run again on that output.

Repeated ``--repeat`` times, the contenders' order rotating. Then, for the fixed qualities and
for the floor side by side, a table of the bytes per source format: the raster images' original
bytes; their AVIF variants where there is one (else the original); what a browser that accepts
AVIF gets (the AVIF variant, else the WebP one, else the original: the order ``<picture>`` and
the server offer them in); what a WebP-only browser gets. Fails if any variant is not smaller
than its original.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.local import log
from bench.runner import Contender, make_workspace, measure_collectstatic, warm_up
from bench.tree import DEFAULT_PACKAGES, build_tree
from bench.workdir import check_workdir, fresh_workdir

MARKER = ".assetpipe-bench-images"
BACKEND = "assetpipe.storage.AssetPipeStorage"
FIXED = {"images": {"floor": None, "lossless": True}}
CONTENDERS = (
    Contender("off", "images off", BACKEND, {}, installed_apps=("assetpipe",)),
    Contender("fixed", "fixed quality", BACKEND, FIXED, installed_apps=("assetpipe",)),
    Contender("floor", "floor (defaults)", BACKEND, {"images": {}}, installed_apps=("assetpipe",)),
)
# scikit-image's bundled photographs (skimage/data), copied as they are.
SAMPLES = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "camera.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "retina.jpg",
)
# (width, height) of the generated photos, one seed each.
PHOTOS = ((2400, 1600), (1920, 1280), (1600, 1067), (1200, 800), (800, 1200), (640, 427))
# What a browser gets, by the variants it prefers in order (as <picture> and nginx pick them).
COLUMNS = {"avif_only": (".avif",), "avif": (".avif", ".webp"), "webp": (".webp",)}
RASTER = (".jpg", ".jpeg", ".png", ".gif")


def synthetic_photo(seed: int, width: int, height: int) -> bytes:
    """A photo-like JPEG, the same bytes for the same seed and Pillow."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB",
        (
            gradient.rotate(rng.randrange(360)),
            Image.radial_gradient("L").resize((width, height)),
            gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(20, width // 3), rng.randrange(20, height // 3)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(6))
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    grain = grain.filter(ImageFilter.GaussianBlur(0.6))
    image = Image.merge("RGB", [Image.blend(c, grain, 0.12) for c in image.split()])
    draw = ImageDraw.Draw(image)
    for _ in range(200):
        x, y = rng.randrange(width), rng.randrange(height)
        end = (x + rng.randrange(-40, 40), y + rng.randrange(-40, 40))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.line((x, y, *end), fill=colour, width=rng.randrange(1, 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, subsampling=0)
    return out.getvalue()


def make_photos(directory: Path) -> Path:
    photos = directory / "bench_photos"
    if not photos.is_dir():
        staging = directory / "bench_photos.tmp"
        (staging / "photos").mkdir(parents=True, exist_ok=True)
        for seed, (width, height) in enumerate(PHOTOS):
            data = synthetic_photo(seed, width, height)
            (staging / "photos" / f"photo-{seed}-{width}x{height}.jpg").write_bytes(data)
        from importlib.resources import files

        for name in SAMPLES:
            data = files("skimage.data").joinpath(name).read_bytes()
            (staging / "photos" / f"sample-{name}").write_bytes(data)
        staging.rename(photos)
    return photos


def served_bytes(static_root: Path) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per source format: original bytes and bytes served per column; and the bad variants."""
    paths = json.loads((static_root / "staticfiles.json").read_bytes())["paths"]
    table: dict[str, dict[str, int]] = {}
    larger: list[str] = []
    for name in paths:  # each collected image once, as its original name
        if not name.lower().endswith(RASTER):
            continue
        original = (static_root / name).stat().st_size
        sizes = {}
        for suffix in (".avif", ".webp"):
            variant = static_root / (name + suffix)
            if variant.is_file():
                sizes[suffix] = variant.stat().st_size
                if sizes[suffix] >= original:
                    larger.append(f"{name}{suffix}: {sizes[suffix]} >= {original}")
        kind = name.rpartition(".")[2].lower().replace("jpeg", "jpg")
        row = table.setdefault(kind, dict.fromkeys(("files", "original", *COLUMNS), 0))
        row["files"] += 1
        row["original"] += original
        for column, preference in COLUMNS.items():
            # What that browser gets: the first variant it prefers that exists, else the original.
            row[column] += next((sizes[s] for s in preference if s in sizes), original)
    return table, larger


def render(
    times: dict[tuple[str, str], list[float]],
    tables: dict[str, dict[str, dict[str, int]]],
    tree: str,
) -> str:
    lines = [
        f"## Image step: {tree}\n",
        "| scenario | contender | median s | runs | ratio to off |",
    ]
    lines.append("|---|---|---|---|---|")
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
    lines += [
        "",
        "| contender | images | files | original bytes | AVIF or original "
        "| AVIF browser (AVIF, else WebP) | WebP-only browser |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, table in tables.items():
        total = dict.fromkeys(("files", "original", *COLUMNS), 0)
        for kind, row in sorted(table.items()):
            lines.append(f"| {label} {_bytes_row(kind, row)}")
            for key in total:
                total[key] += row[key]
        lines.append(f"| {label} {_bytes_row('all', total)}")
    return "\n".join(lines) + "\n"


def _bytes_row(label: str, row: dict[str, int]) -> str:
    def cell(key: str) -> str:
        saved = 1 - row[key] / row["original"] if row["original"] else 0.0
        return f"{row[key]:,} (-{saved:.0%})"

    cells = " | ".join(cell(column) for column in COLUMNS)
    return f"| {label} | {row['files']} | {row['original']:,} | {cells} |"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.images", description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (default 1)")
    parser.add_argument("--package", action="append", default=[], metavar="MODULE")
    parser.add_argument("--workdir", type=Path, help="keep the tree and outputs here")
    args = parser.parse_args(argv)
    check_workdir(parser, args.workdir, MARKER)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with fresh_workdir(args.workdir, MARKER, "assetpipe-bench-images-") as workdir:
        photos = make_photos(workdir)
        tree = build_tree(workdir / "tree", (*DEFAULT_PACKAGES, *args.package), extra_dirs=[photos])
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
        tables, larger = {}, []
        for workspace in workspaces[1:]:
            table, bad = served_bytes(workspace.static_root)
            tables[workspace.contender.label] = table
            larger += bad
        label = f"{tree.files} files, {tree.bytes / 1e6:.1f} MB ({', '.join(tree.sources)})"
        sys.stdout.write(render(times, tables, label))
        if larger:
            sys.stdout.write("\nVariants not smaller than their original:\n")
            sys.stdout.writelines(f"- {line}\n" for line in larger)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
