"""What a build put in STATIC_ROOT, as the manifest describes it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from assetpipe.conf.s3 import PublishError
from assetpipe.digests import md5_bytes
from assetpipe.naming import (
    DELTA_ENCODING,
    IMAGE_VARIANTS,
    VARIANT_SUFFIXES,
    image_variant_name,
    is_raster_image,
    manifest_deltas,
    variant_name,
)


@dataclass(frozen=True)
class LocalFile:
    name: str  # path relative to STATIC_ROOT, with forward slashes
    root: Path  # STATIC_ROOT
    size: int
    hashed: bool  # content-addressed name: immutable once uploaded
    # set for a .br/.gz variant of ``name`` minus its suffix, and "dcz" for a delta
    encoding: str | None = None
    image_format: str | None = None  # set for an .avif/.webp variant of a raster image

    @property
    def path(self) -> Path:
        # Made when needed: a no-change run that one request settles opens no file, and
        # building thousands of paths up front would be most of its time.
        return self.root / self.name


@dataclass(frozen=True)
class Build:
    """The files a manifest describes: its originals, hashed copies and their variants.

    Anything else in STATIC_ROOT (copies left by earlier builds, Django's intermediate hashed
    files) is not part of the build and is never published.
    """

    root: Path
    manifest_name: str
    manifest: bytes
    files: dict[str, LocalFile]
    referenced: frozenset[str]  # hashed names the manifest points at
    originals: frozenset[str]

    @property
    def manifest_md5(self) -> str:
        return md5_bytes(self.manifest)


def read_manifest_paths(data: bytes, source: str) -> dict[str, str]:
    """The ``paths`` mapping of a Django staticfiles manifest."""
    try:
        paths = json.loads(data)["paths"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"{source} is not a Django staticfiles manifest: {exc}") from exc
    if not isinstance(paths, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in paths.items()
    ):
        raise PublishError(f"{source} is not a Django staticfiles manifest: bad 'paths'")
    return paths


def read_build(static_root: Path, manifest_name: str, *, with_encodings: bool) -> Build:
    manifest_path = static_root / manifest_name
    try:
        manifest = manifest_path.read_bytes()
    except FileNotFoundError:
        raise PublishError(
            f"{manifest_path} does not exist: run collectstatic before publishing"
        ) from None
    paths = read_manifest_paths(manifest, str(manifest_path))
    hashed = frozenset(paths.values())
    wanted = hashed | frozenset(paths)
    deltas: dict[str, list[str]] = {}
    if with_encodings:
        wanted |= {variant_name(name, e) for name in wanted for e in VARIANT_SUFFIXES}
        # Deltas against earlier builds (the dictionaries option), as the manifest lists them.
        deltas = {name: d for name, d in manifest_deltas(manifest).items() if name in hashed}
        wanted |= {delta for names in deltas.values() for delta in names}
    # Image variants are files of their own type, not encodings: published whatever
    # the s3 option "variants" says, as a page's <picture> and an edge name them.
    rasters = [name for name in hashed | frozenset(paths) if is_raster_image(name)]
    wanted |= {image_variant_name(name, f) for name in rasters for f in IMAGE_VARIANTS}
    sizes = _sizes(static_root, wanted)
    files: dict[str, LocalFile] = {}
    for name in hashed | frozenset(paths):
        if name not in sizes:
            continue
        files[name] = LocalFile(name, static_root, sizes[name], name in hashed)
        if not with_encodings:
            continue
        for encoding in VARIANT_SUFFIXES:
            variant = variant_name(name, encoding)
            if variant in sizes:
                files[variant] = LocalFile(
                    variant, static_root, sizes[variant], name in hashed, encoding
                )
    for name, names in deltas.items():
        for delta in names:
            if name in files and delta in sizes:
                files[delta] = LocalFile(delta, static_root, sizes[delta], True, DELTA_ENCODING)
    for name in rasters:
        if name not in files:
            continue
        for image_format in IMAGE_VARIANTS:
            variant = image_variant_name(name, image_format)
            if variant in sizes:
                files[variant] = LocalFile(
                    variant, static_root, sizes[variant], name in hashed, image_format=image_format
                )
    return Build(
        root=static_root,
        manifest_name=manifest_name,
        manifest=manifest,
        files=files,
        referenced=hashed,
        originals=frozenset(paths),
    )


def _sizes(root: Path, wanted: frozenset[str]) -> dict[str, int]:
    """The size of each file of ``wanted`` that exists under ``root``.

    One walk, and a stat only for the files wanted: STATIC_ROOT also holds variants that are not
    published and copies left by earlier builds."""
    sizes: dict[str, int] = {}
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = prefix + entry.name
                if entry.is_dir():
                    stack.append((entry.path, name + "/"))
                elif name in wanted:
                    sizes[name] = entry.stat().st_size
    return sizes
