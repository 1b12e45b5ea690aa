"""The build: every step of ``collectstatic`` after Django's copy phase, in order.

    sources -> bundlers' names -> hash -> compress -> images -> integrity and modules
            -> staticfiles.json -> state -> report -> publish

Each step is a module of its own that takes plain data; this one only hands each step what the
ones before it made. Django's side (naming and rewriting, writing ``staticfiles.json``) comes in
through :class:`Storage`, which AssetPipeStorage is.
"""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO, cast
from urllib.parse import urlsplit

import django
from django.conf import settings
from django.core.files.storage import Storage as DjangoStorage

import assetpipe
from assetpipe.build.bundlers import prehashed as bundlers
from assetpipe.build.compress import (
    CACHE_VERSION,
    ENCODINGS,
    Compressor,
    Encoding,
)
from assetpipe.build.copy_phase import CopyPhase
from assetpipe.build.hashing import Hasher, HashResult, Naming, Rule, strict_error
from assetpipe.build.integrity import compute_integrity
from assetpipe.build.modules import module_graph
from assetpipe.build.outputs import Outputs, scan_tree
from assetpipe.build.report import WARNING_LINES, BuildReport, Console
from assetpipe.build.sources import Source, check_originals, digest_sources, loaders
from assetpipe.build.state import BuildState, DictionaryState, IntegrityState, state_path
from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.images import ImageSettings
from assetpipe.conf.options import StorageOptions
from assetpipe.conf.s3 import S3Config
from assetpipe.digests import md5_bytes
from assetpipe.naming import DICTIONARIES_KEY

if TYPE_CHECKING:
    from assetpipe.build.dictionaries import DictionaryStep
    from assetpipe.build.images.step import ImageStep
    from assetpipe.edge.negotiation import Negotiation
    from assetpipe.publish.bucket_cache import BucketVariants
    from assetpipe.publish.listing import RemoteObject

Processed = tuple[str, str | None, bool | Exception]  # what Django's post_process yields


@dataclass(frozen=True)
class BuildOptions:
    """What the steps need of the storage's options."""

    encodings: tuple[Encoding, ...]
    skip_extensions: frozenset[str]
    workers: int | None
    strict: bool
    prehashed_patterns: re.Pattern[str] | None
    record_files: tuple[str, ...]
    integrity: bool
    import_map: tuple[str, ...]
    images: ImageSettings | None
    dictionaries: DictionarySettings | None
    s3: S3Config | None
    # The CDN ("cloudfront", "cloudflare") picks variants by name alone: every file gets every
    # variant it may pick.
    edge: str | None
    negotiation: Negotiation | None
    # False with a custom file_hash(): a name no longer identifies content.
    content_addressed: bool
    # Whether manifest keys are the cleaned names, as with Django's own hash_key().
    plain_keys: bool
    # The kinds of files minified before hashing ("css", "js"); empty: off.
    minify: tuple[str, ...] = ()

    @classmethod
    def from_options(
        cls,
        options: StorageOptions,
        *,
        negotiation: Negotiation | None,
        content_addressed: bool,
        plain_keys: bool,
    ) -> BuildOptions:
        return cls(
            encodings=tuple(ENCODINGS[name] for name in options.encodings),
            skip_extensions=options.uncompressed_extensions,
            workers=options.workers,
            strict=options.missing_references == "fail",
            prehashed_patterns=bundlers.compile_patterns(options.prehashed),
            record_files=options.prehashed_records,
            integrity=options.integrity,
            import_map=options.import_map,
            images=options.images,
            dictionaries=options.dictionaries,
            s3=options.s3,
            edge=options.cdn,
            negotiation=negotiation,
            content_addressed=content_addressed,
            plain_keys=plain_keys,
            minify=options.minify,
        )


class Storage(Naming, Protocol):
    """What the build asks of the Django storage it runs for."""

    rules: dict[str, list[Rule]]
    manifest_name: str
    patterns: Any

    @property
    def base_url(self) -> str: ...

    def save_built_manifest(
        self, names: dict[str, str], prehashed: frozenset[str], extras: dict[str, Any]
    ) -> None: ...


def build(
    paths: dict[str, tuple[DjangoStorage, str]],
    storage: Storage,
    options: BuildOptions,
    root: Path,
    state_dir: Path,
    copy: CopyPhase,
    console: Console,
) -> Iterator[Processed]:
    """Build STATIC_ROOT from Django's collected ``paths``, yielding what post_process yields,
    then publish it."""
    started = time.perf_counter()
    path = state_path(state_dir, root.resolve())
    state = BuildState.load(path, fingerprint(storage, options), str(root.resolve()))
    existing = (
        copy.scanned.with_records(state.outputs)
        if copy.scanned is not None
        else scan_tree(root, state.outputs)
    )
    static_path = urlsplit(str(storage.base_url)).path

    sources, state.sources = digest_sources(
        paths, state.sources, storage.clean_name, None if options.plain_keys else storage.hash_key
    )
    detection = bundlers.detect(
        loaders(sources),
        options.prehashed_patterns,
        source_paths=lambda: {os.path.normpath(s.path): s.name for s in sources.values() if s.path},
        static_path=static_path,
        stats_files=bundlers.webpack_loader_stats(getattr(settings, "WEBPACK_LOADER", {})),
        static_root=str(root),
        record_files=options.record_files,
    )
    if options.strict and detection.problems:
        yield bundler_error(detection.problems)
        return
    saved: set[str] | frozenset[str] = copy.saved
    if options.minify:
        sources, minified = _minify(options.minify, sources, detection.prehashed, path, console)
        saved = saved - minified  # Django's copy phase wrote these unminified
    repaired = check_originals(sources, existing, saved)
    hashed = Hasher(
        storage, sources, storage.rules, state.hashing, existing, root,
        content_addressed=options.content_addressed,
        prehashed=detection.prehashed,
    ).run()  # fmt: skip
    error = strict_error(hashed) if options.strict else None
    if error is not None:
        yield error
        return
    yield from hashed.post_processed()

    bucket = _bucket_cache(options)
    compressor = Compressor(
        root,
        list(options.encodings),
        state.compressing,
        existing,
        # Every variant is kept for an edge: its own cache, so that a build without one
        # never reuses a variant that is not worth keeping.
        cache_dir=path.with_name(
            f"{path.stem}.compressed-{CACHE_VERSION}{'-all' if options.edge is not None else ''}"
        ),
        skip_extensions=options.skip_extensions,
        workers=options.workers,
        progress=console.progress("compressing"),
        every_variant=options.edge is not None,
        remote=bucket,
        local=options.s3 is None or options.s3.variants_in_static_root,
    )
    compressed = compressor.run(hashed.servables(sources, root))
    if bucket is not None:
        compressed.warnings.extend(bucket.problems)
    images = _images(options, root, hashed, sources, state, existing, path, console)
    deltas = _dictionaries(options, root, hashed, state, existing, path)
    extras = {
        **_template_extras(options, storage, static_path, hashed, sources, state, root, console),
        **_image_extras(options, storage, sources, state),
        **({DICTIONARIES_KEY: deltas[1]} if deltas is not None else {}),
    }
    storage.save_built_manifest(hashed.names, detection.prehashed, extras)
    state.outputs = existing.records()
    try:
        compressor.prune_cache()
        if images is not None:
            images.prune_cache()
        if deltas is not None:
            deltas[0].prune_cache()
        state.save(path)
    except OSError as exc:
        console.warn(f"assetpipe: could not save the build state to {path}: {exc}")

    report = BuildReport.from_steps(
        len(paths), hashed, compressed, repaired, images.stats if images else None
    )
    if deltas is not None:
        console.info(f"assetpipe: {deltas[0].stats.describe()}")
        for warning in deltas[0].warnings:
            console.warn(f"assetpipe: {warning}")
    report.bundler_problems = detection.problems
    report.undeclared = detection.undeclared
    for line in report.warnings(None if console.verbosity >= 2 else WARNING_LINES):
        console.warn(line)
    published = _publish(
        options, root, storage.manifest_name, state_dir, bucket.listed if bucket else None, console
    )
    report.seconds = time.perf_counter() - started
    console.info(f"assetpipe: {report.summary()}")
    if published:
        console.info(f"assetpipe: {published}")


def bundler_error(problems: list[str]) -> Processed:
    """What ``strict`` makes of the bundlers' records' problems, as post_process yields it."""
    lines = "\n".join(f"  {problem}" for problem in problems)
    count = len(problems)
    message = f"{count} bundler record problem{'s' if count != 1 else ''} (strict mode):\n{lines}"
    return problems[0].split(" (", 1)[0], None, ValueError(message)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The build allocates a few objects per file. With Django loaded, the cyclic garbage
    collector's passes over the whole heap then cost more than the build itself on a run where
    nothing changed; reference counting still frees everything as it goes."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def fingerprint(storage: Storage, options: BuildOptions) -> str:
    """What the state's records depend on beside the files: a change starts a new state."""
    parts = [
        assetpipe.__version__,
        django.get_version(),
        f"{type(storage).__module__}.{type(storage).__qualname__}",
        str(settings.STATIC_URL),
        str(storage.base_url),
        repr(storage.patterns),
        repr([e.name for e in options.encodings]),
        repr(sorted(options.skip_extensions)),
        # Only with an edge: the states of builds without one stay valid.
        *([repr(options.edge)] if options.edge is not None else []),
    ]
    return md5_bytes("\0".join(parts).encode())


def _bucket_cache(options: BuildOptions) -> BucketVariants | None:
    """The bucket as a cache of variants, where earlier builds published them: fetched into
    STATIC_ROOT or, with ``"variants": "bucket"``, left there."""
    s3 = options.s3
    if s3 is None or not (s3.variants_in_bucket and options.encodings):
        return None
    from assetpipe.publish.bucket_cache import BucketVariants

    return BucketVariants(s3)


def _minify(
    kinds: tuple[str, ...],
    sources: dict[str, Source],
    prehashed: frozenset[str],
    path: Path,
    console: Console,
) -> tuple[dict[str, Source], frozenset[str]]:
    """The sources with CSS/JS minified, and the names whose bytes that changed."""
    # Imported here: a project without the option never loads the minifier.
    from assetpipe.build.minify import MinifyStep, Tdewolff

    step = MinifyStep(kinds, path.with_name(f"{path.stem}.minified"), Tdewolff())
    result = step.run(sources, keep=prehashed)
    try:
        step.prune_cache()
    except OSError as exc:
        console.warn(f"assetpipe: could not prune the minify cache: {exc}")
    console.info(f"assetpipe: {result.summary()}")
    for warning in result.warnings:
        console.warn(f"assetpipe: {warning}")
    return result.sources, result.replaced


def _images(
    options: BuildOptions,
    root: Path,
    hashed: HashResult,
    sources: dict[str, Source],
    state: BuildState,
    existing: Outputs,
    path: Path,
    console: Console,
) -> ImageStep | None:
    """AVIF/WebP variants; with the option off, only the removal of earlier ones."""
    if options.images is None:
        if state.images:
            # Imported here: a project without images never loads Pillow's step.
            from assetpipe.build.images.step import remove_all_variants

            remove_all_variants(state.images, existing, {*sources, *hashed.names.values()})
        return None
    from assetpipe.build.images.step import ImageStep

    step = ImageStep(
        root,
        options.images,
        state.images,
        existing,
        cache_dir=path.with_name(f"{path.stem}.images"),
        every_format=options.edge is not None,
        progress=console.progress("images"),
    )
    step.run(hashed.servables(sources, root))
    return step


def _dictionaries(
    options: BuildOptions,
    root: Path,
    hashed: HashResult,
    state: BuildState,
    existing: Outputs,
    path: Path,
) -> tuple[DictionaryStep, dict[str, Any]] | None:
    """Deltas against earlier builds and ``staticfiles.json``'s ``dictionaries`` key; with the
    option off, only the removal of earlier deltas."""
    if options.dictionaries is None:
        for name in state.dictionaries.deltas:
            existing.remove(name)
        state.dictionaries = DictionaryState()
        return None
    from assetpipe.build.dictionaries import DictionaryStep, encoder_version

    earlier = None
    if options.s3 is not None:
        from assetpipe.publish.earlier_builds import EarlierBuilds

        earlier = EarlierBuilds(options.s3)
    step = DictionaryStep(
        root,
        options.dictionaries.previous_builds,
        state.dictionaries,
        existing,
        cache_dir=path.with_name(f"{path.stem}.deltas-{encoder_version()}"),
        earlier=earlier,
    )
    try:
        entries = step.run(hashed.outputs, hashed.names)
    finally:
        if earlier is not None:
            earlier.close()
            step.warnings.extend(earlier.problems)
    return step, dict(sorted(entries.items()))


def _template_extras(
    options: BuildOptions,
    storage: Storage,
    static_path: str,
    hashed: HashResult,
    sources: dict[str, Source],
    state: BuildState,
    root: Path,
    console: Console,
) -> dict[str, Any]:
    """``staticfiles.json``'s keys for the template tags; none with ``integrity`` off."""
    if not options.integrity:
        state.integrity = IntegrityState()
        return {}
    integrity = compute_integrity(hashed.servables(sources, root), root, state.integrity)
    modules = module_graph(
        sources,
        state.integrity,
        import_map=options.import_map,
        static_path=static_path,
        key_for=lambda name: storage.hash_key(storage.clean_name(name)),
    )
    console.info(
        f"assetpipe: integrity of {len(integrity.values)} files: "
        f"{integrity.computed} computed ({integrity.reused} reused)"
    )
    return {"integrity": dict(sorted(integrity.values.items())), "modules": modules}


def _image_extras(
    options: BuildOptions, storage: Storage, sources: dict[str, Source], state: BuildState
) -> dict[str, Any]:
    """``staticfiles.json``'s ``images`` key for ``{% static_picture %}``; none when off."""
    if options.images is None:
        return {}
    from assetpipe.build.images.picture_entries import manifest_images

    names = ((name, source.digest) for name, source in sources.items())
    key_for = lambda name: str(storage.hash_key(storage.clean_name(name)))  # noqa: E731
    return {"images": manifest_images(names, state.images, key_for)}


def _publish(
    options: BuildOptions,
    root: Path,
    manifest_name: str,
    state_dir: Path,
    listed: Mapping[str, RemoteObject] | None,
    console: Console,
) -> str | None:
    """Publish to S3, manifest last; the listing the bucket cache made saves listing again."""
    s3 = options.s3
    if s3 is None:
        return None
    if not s3.publish:
        return f"not published to {s3.where} (s3 option publish is False)"
    from assetpipe.publish.overlap import refuse_media_overlap
    from assetpipe.publish.s3 import PublishError, publish

    try:
        # Also when the system checks were skipped: never into another storage's prefix.
        refuse_media_overlap(s3.bucket_name, s3.prefix, "publish to")
        result = publish(
            root,
            manifest_name,
            s3,
            state_dir=state_dir,
            stdout=cast(TextIO, console.stdout),
            negotiation=options.negotiation,
            listed=listed,
        )
    except PublishError as exc:
        raise BuildError(str(exc)) from exc
    return result.summary()


class BuildError(Exception):
    """A failure the command reports as it is (its message names what and where)."""
