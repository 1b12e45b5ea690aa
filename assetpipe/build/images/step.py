"""The image step: AVIF and WebP variants beside each raster image in STATIC_ROOT.

It runs beside compression and works the same way: servable files are grouped by content digest,
each content is decoded at most once per run (the unhashed original and its hashed copy share one
encode), the state records per content which formats were kept, their sizes and the image's size,
and encoded bytes go to a cache outside STATIC_ROOT (``assetpipe.build.images.cache``), so a later
run, or one with a deleted STATIC_ROOT and a persisted state, copies instead of encoding. Variants
already in place are left alone; those of a content that changed, or of a format no longer
configured, are removed.

Each content is encoded lossless or lossy (``encode``: the ``lossless``/``lossy`` patterns,
matched against every name the content has, then its source format and pixels), each lossy
variant at the fixed quality or at the perceptual floor (``floor``). A variant is kept only when
it is smaller than the original by ``min_saving``; one that cannot reach the floor is not kept.
With an edge CDN in front (``every_format``), which picks ``.avif``/``.webp`` by name alone and
cannot check that a key exists, every raster image gets every configured format's file: a byte
copy of the original where no smaller variant exists. Those copies are never listed for
``<picture>``.

Unreadable images (corrupt, over Pillow's pixel limit) are warnings naming the file; the
original is served as it is. Encoding runs in a thread pool (Pillow releases the GIL in its
codecs), one decoded image per worker at a time, largest first.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field, replace
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assetpipe.build.images.cache import ImageCache
from assetpipe.build.outputs import BuiltFile, Outputs, copy_atomic, replacing, write_atomic
from assetpipe.build.state import ImageRecord, ImageState
from assetpipe.conf.images import ImageSettings
from assetpipe.digests import md5_bytes
from assetpipe.naming import IMAGE_VARIANTS, image_variant_name, is_raster_image, suffixes_fit

if TYPE_CHECKING:
    from assetpipe.build.images.encode import Encoded

# Part of the step's key: a change to how variants are made or cached must change it.
CACHE_VERSION = 2
# Why an image got no variants, when that is no problem of the image's.
ANIMATED = "animated image, served as it is"
EMPTY = "empty file"  # only an edge's build groups these, to give them copies


class ProgressBar(Protocol):
    def advance(self, size: int) -> None: ...

    def close(self) -> None: ...


@dataclass
class ImageStats:
    decoded: int = 0  # unique contents decoded and encoded in this run
    # Files with at least one kept variant, counted once each whatever the number of formats:
    converted: int = 0  # from bytes encoded in this run
    reused: int = 0  # already in place, or copied from the cache
    written: int = 0  # variant files written (byte copies for an edge included)
    original_bytes: int = 0  # of the files that have kept variants
    smallest_bytes: int = 0  # of their smallest variant
    problems: list[str] = field(default_factory=list)  # images served without variants
    warnings: list[str] = field(default_factory=list)  # about the cache, never fatal


def step_key(settings: ImageSettings, versions: str) -> str:
    """The settings, encoder versions and (with a floor) the metric's that decide the bytes."""
    if settings.floor is not None:
        from assetpipe.build.images.floor import metric_versions

        versions = f"{versions}; {metric_versions()}"
    return md5_bytes(f"{CACHE_VERSION}\0{settings.describe()}\0{versions}".encode())


def encoder_versions(state: ImageState) -> str:
    """Pillow's and its codecs' versions; asked of Pillow (which loads every codec) only when
    the installed Pillow's files are not the ones the state saw."""
    identity = _pillow_files()
    seen, _, versions = state.libraries.partition("\n")
    if identity and seen == identity and versions:
        return versions
    from assetpipe.build.images.encode import library_versions

    versions = library_versions()
    state.libraries = f"{identity}\n{versions}"
    return versions


def _pillow_files() -> str:
    """Pillow's version file and compiled modules, by name, size and mtime; "" if unknown."""
    spec = find_spec("PIL")
    if spec is None or spec.origin is None:
        return ""
    directory = Path(spec.origin).parent
    try:
        with os.scandir(directory) as entries:
            stamps = sorted(
                f"{entry.name}:{entry.stat().st_size}:{entry.stat().st_mtime_ns}"
                for entry in entries
                if entry.name.endswith((".so", ".pyd")) or entry.name == "_version.py"
            )
    except OSError:
        return ""
    return f"{directory};{','.join(stamps)}"


def variants_fit(name: str) -> bool:
    return suffixes_fit(name, (suffix for suffix, _ in IMAGE_VARIANTS.values()))


def remove_all_variants(
    state: ImageState, existing: Outputs, collected: Container[str] = ()
) -> None:
    """With the option off: remove the variants an earlier build wrote, and forget them.
    ``collected``: the build's own files, which are never removed, whatever their names."""
    for name in state.variants:
        for image_format in IMAGE_VARIANTS:
            variant = image_variant_name(name, image_format)
            if variant not in collected:
                existing.remove(variant)
    state.key, state.libraries, state.images, state.variants = "", "", {}, {}
    state.cache_garbage = 0


class ImageStep:
    def __init__(
        self,
        root: Path,
        settings: ImageSettings,
        state: ImageState,
        existing: Outputs,
        *,
        cache_dir: Path | None,
        every_format: bool = False,
        progress: Callable[[int, int], ProgressBar] | None = None,
    ) -> None:
        self.root = root
        self.settings = settings
        self.state = state
        self.existing = existing
        self.every_format = every_format
        self.progress = progress
        self.workers = settings.workers or os.cpu_count() or 1
        self.key = step_key(settings, encoder_versions(state))
        # Files whose variants were made under other settings or encoders.
        self._stale_names: set[str] = set()
        if state.key != self.key:
            # Nothing recorded under another key is true any more.
            state.cache_garbage += len(state.images)
            self._stale_names = set(state.variants)
            state.key, state.images, state.variants = self.key, {}, {}
        self.cache_root = cache_dir
        self.cache = ImageCache(None if cache_dir is None else cache_dir / self.key[:16])
        self.stats = ImageStats()

    def run(self, files: Iterable[BuiltFile]) -> ImageStats:
        groups = self._group(files)
        pending: dict[str, list[BuiltFile]] = {}
        for digest, servables in groups.items():
            record = self._known(digest, self._forced(servables))
            for servable in servables:
                if record is None or not self._place(servable, record, encoded=None):
                    pending.setdefault(digest, []).append(servable)
        self._encode_all(pending)
        self._forget_others(groups)
        self._count(groups)
        self.stats.warnings.extend(self.cache.warnings)
        return self.stats

    # -- grouping -------------------------------------------------------------------------

    def _group(self, files: Iterable[BuiltFile]) -> dict[str, list[BuiltFile]]:
        groups: dict[str, list[BuiltFile]] = {}
        servables = list(files)
        names = {servable.name for servable in servables}
        for servable in servables:
            name = servable.name
            if not is_raster_image(name):
                continue
            collides = any(image_variant_name(name, f) in names for f in IMAGE_VARIANTS)
            if collides:
                # A collected file already has a variant's name: it is never overwritten.
                self.stats.problems.append(
                    f"{name}: a collected file has the name of one of its image variants; "
                    "no variants written"
                )
            elif (servable.size or self.every_format) and variants_fit(name):
                groups.setdefault(servable.digest, []).append(servable)
                continue
            for image_format in IMAGE_VARIANTS:
                variant = image_variant_name(name, image_format)
                if variant not in names:  # a collected file is the build's, not a variant
                    self.existing.remove(variant)
            self.state.variants.pop(name, None)
        return groups

    def _forced(self, servables: list[BuiltFile]) -> str:
        """How the ``lossless``/``lossy`` patterns encode one content, by all of its names (an
        image and its hashed copy are one content): lossless if a name is a lossless one."""
        forced = {self.settings.forced(servable.name) for servable in servables}
        return next((mode for mode in ("lossless", "lossy") if mode in forced), "")

    def _known(self, digest: str, forced: str) -> ImageRecord | None:
        record = self.state.images.get(digest)
        if record is None:
            record = self.cache.record(digest)
            if record is None or set(record.sizes) != set(self.settings.formats):
                return None
            self.state.images[digest] = record
        if record.forced != forced:
            return None  # renamed into or out of a pattern: encoded again
        return record

    # -- placing --------------------------------------------------------------------------

    def _identity(self, digest: str, image_format: str, kept: bool, forced: str) -> str:
        """What a variant file holds, as the output records spell it: encoded bytes are
        specific to the step's key and to a pattern's choice; a copy of the original is the
        original's content."""
        if not kept:
            return digest
        return f"{digest}.{image_format}.{self.key[:12]}" + (f".{forced}" if forced else "")

    def _place(
        self,
        servable: BuiltFile,
        record: ImageRecord,
        encoded: Encoded | None,
        twin: BuiltFile | None = None,
    ) -> bool:
        """Put ``servable``'s variants in place; False if cached bytes were missing. Where it
        can, a variant is a hard link: to ``twin``'s (the same image under another name) or,
        for an edge's copy, to the original itself."""
        name, digest = servable.name, servable.digest
        for image_format in IMAGE_VARIANTS:
            variant = image_variant_name(name, image_format)
            if image_format not in self.settings.formats:
                self.existing.remove(variant)
                continue
            size = None if record.skipped else record.sizes.get(image_format)
            if size is None and not self.every_format:
                self.existing.remove(variant)
                continue
            identity = self._identity(digest, image_format, size is not None, record.forced)
            if self.existing.holds(variant, identity):
                continue
            source = image_variant_name(twin.name, image_format) if twin is not None else None
            linked = (size is None and self.existing.link(name, variant, identity)) or (
                source is not None and self.existing.link(source, variant, identity)
            )
            if not linked:
                if size is None:
                    # For an edge: the original's bytes under the variant's name.
                    if servable.path is not None:
                        copy_atomic(servable.path, self.root / variant)
                    else:
                        write_atomic(self.root / variant, servable.read())
                elif encoded is not None:
                    blob = encoded.blobs[image_format]
                    assert blob is not None
                    with replacing(self.root / variant) as temp:
                        temp.write_bytes(blob)
                elif not self.cache.copy(digest, image_format, size, self.root / variant):
                    return False
                self.existing.wrote(variant, identity)
            self.stats.written += 1
        self.state.variants[name] = digest
        if _kept(record):
            if encoded is None:
                self.stats.reused += 1
            else:
                self.stats.converted += 1
        return True

    def _remove_variants(self, name: str) -> None:
        for image_format in IMAGE_VARIANTS:
            self.existing.remove(image_variant_name(name, image_format))

    # -- encoding -------------------------------------------------------------------------

    def _encode_all(self, pending: dict[str, list[BuiltFile]]) -> None:
        if not pending:
            return
        # Imported here: a run where every image is known never loads the codecs.
        from concurrent.futures import ThreadPoolExecutor, as_completed

        from PIL import Image, features

        from assetpipe.build.images.encode import Skipped, encode_image

        for image_format in self.settings.formats:
            # A codec that cannot load is no image's fault: fail rather than record every
            # image as unreadable.
            if not features.check_module(image_format):
                raise RuntimeError(f"Pillow cannot encode {image_format}: its codec did not load")

        order = sorted(pending, key=lambda d: -pending[d][0].size)
        progress = (
            self.progress(len(order), sum(pending[d][0].size for d in order))
            if self.progress
            else None
        )

        def encode(servable: BuiltFile) -> Encoded | str:
            if not servable.size:
                return EMPTY
            try:
                forced = self._forced(pending[servable.digest])
                return encode_image(servable.path or servable.read(), self.settings, forced)
            except Skipped as skipped:
                return str(skipped)

        # Over Pillow's pixel limit is a skipped image, not a warning printed by Python; the
        # filter is the process's, so it is set only while the pool runs.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                futures = {pool.submit(encode, pending[d][0]): d for d in order}
                for future in as_completed(futures):
                    digest = futures.pop(future)  # a finished future holds its bytes
                    self._store(digest, future.result(), pending[digest])
                    if progress:
                        progress.advance(pending[digest][0].size)
        if progress:
            progress.close()

    def _store(self, digest: str, result: Encoded | str, servables: list[BuiltFile]) -> None:
        self.stats.decoded += 1
        formats = self.settings.formats
        blobs: dict[str, bytes | None] = {}
        forced = self._forced(servables)
        if isinstance(result, str):
            record = ImageRecord(0, 0, dict.fromkeys(formats), result, forced)
        else:
            limit = servables[0].size * (1 - self.settings.min_saving)
            blobs = {
                f: (b if b is not None and len(b) <= limit else None)
                for f, b in result.blobs.items()
            }
            sizes = {f: (len(b) if b is not None else None) for f, b in blobs.items()}
            quality = {f: q for f, q in result.quality.items() if blobs.get(f) is not None}
            record = ImageRecord(result.width, result.height, sizes, "", forced, quality)
            result = replace(result, blobs=blobs)
        self.state.images[digest] = record
        self.cache.store(digest, record, blobs)
        encoded = None if isinstance(result, str) else result
        first, *twins = servables
        self._place(first, record, encoded)
        for twin in twins:
            self._place(twin, record, encoded, twin=first)

    # -- what the state keeps -------------------------------------------------------------

    def _forget_others(self, groups: dict[str, list[BuiltFile]]) -> None:
        state = self.state
        state.cache_garbage += len(state.images.keys() - groups.keys())
        state.images = {d: state.images[d] for d in groups if d in state.images}
        current = {s.name for group in groups.values() for s in group}
        # Files whose variants were made under other settings and that are not images of
        # this build any more: their old variants go.
        for name in self._stale_names - current:
            self._remove_variants(name)
        state.variants = {n: d for n, d in state.variants.items() if n in current}

    def _count(self, groups: dict[str, list[BuiltFile]]) -> None:
        for digest, servables in groups.items():
            record = self.state.images.get(digest)
            if record is None:
                continue
            if record.skipped and record.skipped not in (ANIMATED, EMPTY):
                self.stats.problems.extend(f"{s.name}: {record.skipped}" for s in servables)
            kept = [size for size in record.sizes.values() if size is not None]
            if kept and not record.skipped:
                self.stats.original_bytes += servables[0].size * len(servables)
                self.stats.smallest_bytes += min(kept) * len(servables)

    def prune_cache(self) -> None:
        """Drop cached images no file of the build has, once enough of them piled up, and
        the caches of other settings."""
        state = self.state
        if self.cache_root is None or state.cache_garbage <= 64 + len(state.images) // 4:
            return
        state.cache_garbage = 0
        try:
            if self.cache_root.is_dir():
                import shutil

                for other in self.cache_root.iterdir():
                    if other.name != self.key[:16]:
                        shutil.rmtree(other, ignore_errors=True)
            self.cache.prune(state.images)
        except OSError as exc:
            self.stats.warnings.append(f"could not prune the image cache: {exc}")


def _kept(record: ImageRecord) -> bool:
    return not record.skipped and any(size is not None for size in record.sizes.values())
