"""AssetPipeStorage: Django's manifest storage, made incremental, precompressed and publishable.

The storage only wires Django's hooks to the steps, each in its own module: find (Django's copy
phase has run) -> digest sources (``sources``) -> hash (``hashing``) -> compress (``compress``)
-> image variants (``images``, opt-in) -> manifest (``manifest``) -> publish (``publish``),
reporting through ``report``.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast
from urllib.parse import urlsplit

import django
from django.conf import settings
from django.contrib.staticfiles import storage as django_storage
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.core.management.base import CommandError

import assetpipe
from assetpipe.build.bundlers import prehashed as bundlers
from assetpipe.build.compress import CACHE_VERSION, ENCODINGS, Compressor
from assetpipe.build.hashing import (
    JS_MODULE_PATTERNS,
    Hasher,
    HashResult,
    Prehashed,
    compile_rules,
    strict_error,
)
from assetpipe.build.integrity import compute_integrity
from assetpipe.build.lock import BuildLock, LockTimeout
from assetpipe.build.modules import module_graph
from assetpipe.build.outputs import (
    Outputs,
    WriteError,
    save_through_temp,
    scan_tree,
    stamp_mtime,
    write_if_changed,
)
from assetpipe.build.report import WARNING_LINES, BuildReport, Console, current_console
from assetpipe.build.sources import Source, check_originals, digest_sources, loaders
from assetpipe.build.state import BuildState, IntegrityState, state_path
from assetpipe.build.staticfiles_json import manifest_bytes, manifest_extras, save_to_storage
from assetpipe.conf.options import parse_storage_options
from assetpipe.digests import md5_bytes
from assetpipe.serve.debug_names import DebugNames

if TYPE_CHECKING:
    from assetpipe.build.images.step import ImageStep
    from assetpipe.conf.s3 import S3Config
    from assetpipe.publish.bucket_cache import BucketVariants
    from assetpipe.publish.listing import RemoteObject

STATE_DIRNAME = ".assetpipe"


def bundler_error(problems: list[str]) -> tuple[str, None, Exception]:
    """What ``strict`` makes of the bundlers' records' problems, as post_process yields it."""
    lines = "\n".join(f"  {problem}" for problem in problems)
    count = len(problems)
    message = f"{count} bundler record problem{'s' if count != 1 else ''} (strict mode):\n{lines}"
    return problems[0].split(" (", 1)[0], None, ValueError(message)


class AssetPipeStorage(ManifestStaticFilesStorage):
    """Configure through ``STORAGES["staticfiles"]["OPTIONS"]``; every option is in
    docs/reference/options.md."""

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        *args: Any,
        **options: Any,
    ) -> None:
        parsed, django_options = parse_storage_options(options)
        self.prehashed_patterns = bundlers.compile_patterns(parsed.prehashed)
        self.prehashed: frozenset[str] = frozenset()
        self.bundler_records = parsed.prehashed_records
        self.encodings = [ENCODINGS[e] for e in parsed.encodings]
        self.strict = parsed.missing_references == "fail"
        self.skip_compress_extensions = parsed.uncompressed_extensions
        self.compress_workers = parsed.workers
        self.lock_timeout = parsed.lock_timeout
        self._state_dir = parsed.state_dir
        self.integrity = parsed.integrity
        self.import_map = parsed.import_map
        # The manifest's keys beside Django's, for the template tags; set by read_manifest.
        self.manifest_extras: dict[str, Any] = {}
        self._lock: BuildLock | None = None
        self._saved: set[str] = set()  # written by Django's copy phase in this run
        # During assetpipe's collectstatic: STATIC_ROOT as one scan found it, under the lock.
        self._collecting = False
        self._scanned: Outputs | None = None
        # The bucket's listing the build made, if it used the bucket as its cache: publishing
        # plans with it instead of listing again.
        self._listed: Mapping[str, RemoteObject] | None = None
        self.cors = parsed.cors
        self.edge = parsed.cdn
        self.negotiation = parsed.negotiation(self.manifest_name)
        self.images = parsed.images
        self.debug_names = DebugNames(parsed.debug_unknown_names)
        self._configure_s3(parsed.s3, django_options)
        super().__init__(location, base_url, *args, **django_options)
        if parsed.js_module_imports:
            self.patterns = (*type(self).patterns, JS_MODULE_PATTERNS)
        self.rules = compile_rules(
            self.patterns,
            self.default_template,
            getattr(django_storage, "_css_ignored_re", None),
        )

    def _configure_s3(self, s3: S3Config | None, kwargs: dict[str, Any]) -> None:
        """Sets ``s3_config``; with ``read_manifest_from_bucket``, Django's manifest_storage."""
        self.s3_config = s3
        self._manifest_from_bucket = False
        if self.s3_config is None:
            return
        self._manifest_from_bucket = (
            self.s3_config.read_manifest_from_bucket and "manifest_storage" not in kwargs
        )
        if self._manifest_from_bucket:
            from assetpipe.publish.s3 import remote_manifest_storage

            kwargs["manifest_storage"] = remote_manifest_storage(self.s3_config)

    # -- Django hooks -------------------------------------------------------------------

    def file_hash(self, name: str | None, content: File | None = None) -> str | None:  # type: ignore[type-arg]
        if isinstance(content, Prehashed):
            return content.digest[:12]
        return super().file_hash(name, content)  # type: ignore[arg-type]

    def url(self, name: str | None, force: bool = False) -> str:
        # DEBUG renders plain names; refuse (or warn about) those production's manifest lacks.
        if settings.DEBUG and not force and self.manifest_strict and name is not None:
            self.debug_names.check(name)
        return super().url(name, force)  # type: ignore[arg-type]

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # A collected file replaces what is there (through a temporary file and a rename);
        # Django's renaming to a free name would leave stray copies when two runs meet.
        return name

    def delete(self, name: str) -> None:
        self._take_lock()  # collectstatic --clear and the copy phase remove files
        self._forget_scanned(name)
        super().delete(name)

    # Django's copy phase asks, for every file, whether its copy in STATIC_ROOT exists and how
    # old it is: two stat calls and three safe_join()s per file. While assetpipe's collectstatic
    # runs, the answers come from one scan of the tree, which the build then reuses; a name the
    # scan did not find, or that this run has written or deleted since, is asked of the disk.

    @contextmanager
    def collecting(self) -> Iterator[None]:
        self._collecting = True
        try:
            yield
        finally:
            self._collecting = False
            self._release_lock()  # taken by the scan even when post_process never runs

    def exists(self, name: str) -> bool:
        scanned = self._scan()
        return (scanned is not None and name in scanned) or super().exists(name)

    def get_modified_time(self, name: str) -> datetime:
        scanned = self._scan()
        stamp = scanned.found.get(name) if scanned is not None else None
        if stamp is None:
            return super().get_modified_time(name)
        return self._datetime_from_timestamp(stamp_mtime(stamp))  # type: ignore[attr-defined,no-any-return]

    def _scan(self) -> Outputs | None:
        if not self._collecting:
            return None
        if self._scanned is None:
            self._take_lock()  # the scan removes stale temporary files
            self._scanned = scan_tree(Path(self.path("")))
        return self._scanned

    def _forget_scanned(self, name: str) -> None:
        if self._scanned is not None:
            self._scanned.replaced(name.replace("\\", "/"))

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        # Django writes in place; a killed run would leave a truncated file that the next
        # run's modification-time check then skips. Write beside it and rename instead.
        self._take_lock()
        save = super()._save  # type: ignore[misc]

        def save_as(temp: Path) -> Path:
            return Path(self.path(save(os.path.relpath(temp, self.location), content)))

        try:
            save_through_temp(Path(self.path(name)), save_as)
        except WriteError as exc:
            self._release_lock()
            raise CommandError(f"assetpipe: {exc}") from exc
        cleaned = name.replace("\\", "/")
        self._saved.add(self.clean_name(cleaned))
        self._forget_scanned(cleaned)
        return cleaned

    def read_manifest(self) -> str:
        # Django keeps only "paths" and "hash"; the tags need the rest of the same bytes.
        content: str = super().read_manifest()  # None when there is no manifest
        self.manifest_extras = (
            manifest_extras(content) if self.integrity or self.images is not None else {}
        )
        return content

    def save_manifest(self) -> None:
        # As Django writes it, but replaced atomically and only when it changed, so a
        # no-change run leaves it and its mtime alone.
        sorted_files = sorted(self.hashed_files.items())
        manifest_hash = self.file_hash(None, ContentFile(json.dumps(sorted_files).encode()))
        self.manifest_hash = manifest_hash  # type: ignore[assignment]
        contents = manifest_bytes(
            sorted_files,
            self.manifest_version,
            manifest_hash,
            {
                **bundlers.manifest_extra(self.prehashed),
                **(self.manifest_extras if self.integrity or self.images is not None else {}),
            },
        )
        manifest_storage = self.manifest_storage
        # The bucket's manifest is read-only here: publishing uploads it after its files.
        if (
            manifest_storage is not None
            and manifest_storage is not self
            and not self._manifest_from_bucket
        ):
            save_to_storage(manifest_storage, self.manifest_name, contents)
        else:
            write_if_changed(Path(self.path(self.manifest_name)), contents)

    @property
    def state_dir(self) -> Path:
        root = Path(self.path("")).resolve()
        if self._state_dir is None:
            return root.parent / STATE_DIRNAME
        state_dir = Path(self._state_dir).resolve()
        if state_dir == root or root in state_dir.parents:
            # WhiteNoise serves every file below STATIC_ROOT, dotfiles included.
            raise ImproperlyConfigured(
                f"assetpipe: state_dir {state_dir} is inside STATIC_ROOT {root}, where it "
                "would be served; put it beside STATIC_ROOT instead"
            )
        return state_dir

    def state_fingerprint(self) -> str:
        parts = [
            assetpipe.__version__,
            django.get_version(),
            f"{type(self).__module__}.{type(self).__qualname__}",
            str(settings.STATIC_URL),
            str(self.base_url),
            repr(self.patterns),
            repr([e.name for e in self.encodings]),
            repr(sorted(self.skip_compress_extensions)),
            # Only with an edge: the states of builds without one stay valid.
            *([repr(self.edge)] if self.edge is not None else []),
        ]
        return md5_bytes("\0".join(parts).encode())

    def post_process(  # type: ignore[override]
        self, paths: dict[str, tuple[Storage, str]], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, bool | Exception]]:
        console = current_console()
        if dry_run:
            console.info("assetpipe: dry run, nothing hashed, compressed or published.")
            return
        # The build allocates a few objects per file. With Django loaded, the cyclic garbage
        # collector's passes over the whole heap then cost more than the build itself on a run
        # where nothing changed; reference counting still frees everything as it goes.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._take_lock()
            yield from self._build(paths, console)
        except WriteError as exc:
            raise CommandError(f"assetpipe: {exc}") from exc
        finally:
            self._release_lock()
            if collecting:
                gc.enable()

    # -- one build at a time ----------------------------------------------------------------

    def _take_lock(self) -> None:
        if self._lock is not None:
            return
        console = current_console()
        self._lock = BuildLock(self.state_dir, Path(self.path("")).resolve())
        try:
            self._lock.acquire(self.lock_timeout, console.warn)
        except LockTimeout as exc:
            self._lock = None
            raise CommandError(f"assetpipe: {exc}") from exc
        except OSError as exc:
            # A read-only state_dir: the state cannot be saved either; build without the lock.
            console.warn(f"assetpipe: could not lock {self._lock.path}: {exc}")

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        self._saved = set()
        self._scanned = None  # true only under the lock
        if lock is not None:
            lock.release()

    # -- wiring the steps -----------------------------------------------------------------

    def _build(
        self, paths: dict[str, tuple[Storage, str]], console: Console
    ) -> Iterator[tuple[str, str | None, bool | Exception]]:
        started = time.perf_counter()
        root = Path(self.path(""))
        path = state_path(self.state_dir, root.resolve())
        state = BuildState.load(path, self.state_fingerprint(), str(root.resolve()))
        existing = (
            self._scanned.with_records(state.outputs)
            if self._scanned is not None
            else scan_tree(root, state.outputs)
        )

        sources, state.sources = digest_sources(
            paths, state.sources, self.clean_name, None if self._plain_keys() else self.hash_key
        )
        detection = bundlers.detect(
            loaders(sources),
            self.prehashed_patterns,
            source_paths=lambda: {
                os.path.normpath(s.path): s.name for s in sources.values() if s.path
            },
            static_path=urlsplit(str(self.base_url)).path,
            stats_files=bundlers.webpack_loader_stats(getattr(settings, "WEBPACK_LOADER", {})),
            static_root=str(root),
            record_files=self.bundler_records,
        )
        if self.strict and detection.problems:
            yield bundler_error(detection.problems)
            return
        self.prehashed = detection.prehashed
        repaired = check_originals(sources, existing, self._saved)
        hashed = Hasher(
            self, sources, self.rules, state.hashing, existing, root,
            content_addressed=type(self).file_hash is AssetPipeStorage.file_hash,
            prehashed=self.prehashed,
        ).run()  # fmt: skip
        error = strict_error(hashed) if self.strict else None
        if error is not None:
            yield error
            return
        yield from hashed.post_processed()

        bucket = self._bucket_cache()
        self._listed = None
        compressor = Compressor(
            root,
            self.encodings,
            state.compressing,
            existing,
            # Every variant is kept for an edge: its own cache, so that a build without one
            # never reuses a variant that is not worth keeping.
            cache_dir=path.with_name(
                f"{path.stem}.compressed-{CACHE_VERSION}{'-all' if self.edge else ''}"
            ),
            skip_extensions=self.skip_compress_extensions,
            workers=self.compress_workers,
            progress=console.progress("compressing"),
            every_variant=self.edge is not None,
            remote=bucket,
            local=self.s3_config is None or self.s3_config.local_variants,
        )
        compressed = compressor.run(hashed.servables(sources, root))
        if bucket is not None:
            compressed.warnings.extend(bucket.problems)
            self._listed = bucket.listed
        images = self._images(hashed, sources, state, existing, path, console)
        self.manifest_extras = {
            **self._template_extras(hashed, sources, state, root, console),
            **self._image_extras(sources, state),
        }
        self.hashed_files = hashed.names
        self.save_manifest()
        state.outputs = existing.records()
        try:
            compressor.prune_cache()
            if images is not None:
                images.prune_cache()
            state.save(path)
        except OSError as exc:
            console.warn(f"assetpipe: could not save the build state to {path}: {exc}")
        report = BuildReport.from_steps(
            len(paths), hashed, compressed, repaired, images.stats if images else None
        )
        report.bundler_problems = detection.problems
        report.undeclared = detection.undeclared
        self._report(report, root, console, started)

    def _template_extras(
        self,
        hashed: HashResult,
        sources: dict[str, Source],
        state: BuildState,
        root: Path,
        console: Console,
    ) -> dict[str, Any]:
        """``staticfiles.json``'s keys for the template tags; none with ``integrity`` off."""
        if not self.integrity:
            state.integrity = IntegrityState()
            return {}
        integrity = compute_integrity(hashed.servables(sources, root), root, state.integrity)
        modules = module_graph(
            sources,
            state.integrity,
            import_map=self.import_map,
            static_path=urlsplit(str(self.base_url)).path,
            key_for=lambda name: self.hash_key(self.clean_name(name)),
        )
        console.info(
            f"assetpipe: integrity of {len(integrity.values)} files: "
            f"{integrity.computed} computed ({integrity.reused} reused)"
        )
        return {"integrity": dict(sorted(integrity.values.items())), "modules": modules}

    def _bucket_cache(self) -> BucketVariants | None:
        """The bucket as a cache of variants, where earlier builds published them: fetched
        (``fetch_variants``) or, without ``local_variants``, left there."""
        s3 = self.s3_config
        if s3 is None or not (s3.upload_encodings and self.encodings):
            return None
        if s3.local_variants and not s3.fetch_variants:
            return None
        from assetpipe.publish.bucket_cache import BucketVariants

        return BucketVariants(s3)

    def _images(
        self,
        hashed: HashResult,
        sources: dict[str, Source],
        state: BuildState,
        existing: Outputs,
        path: Path,
        console: Console,
    ) -> ImageStep | None:
        """AVIF/WebP variants; with the option off, only the removal of earlier ones."""
        if self.images is None:
            if state.images:
                from assetpipe.build.images.step import remove_all_variants

                collected = {*sources, *hashed.names.values()}
                remove_all_variants(state.images, existing, collected)
            return None
        from assetpipe.build.images.step import ImageStep

        root = Path(self.path(""))
        step = ImageStep(
            root,
            self.images,
            state.images,
            existing,
            cache_dir=path.with_name(f"{path.stem}.images"),
            # An edge picks .avif/.webp by name alone: every image gets every format's file.
            every_format=self.edge is not None,
            progress=console.progress("images"),
        )
        step.run(hashed.servables(sources, root))
        return step

    def _image_extras(self, sources: dict[str, Source], state: BuildState) -> dict[str, Any]:
        """``staticfiles.json``'s ``images`` key for ``{% static_picture %}``; none when off."""
        if self.images is None:
            return {}
        # Imported here, like the step: a project without images never loads them.
        from assetpipe.build.images.picture_entries import manifest_images

        names = ((name, source.digest) for name, source in sources.items())
        return {
            "images": manifest_images(
                names, state.images, lambda name: str(self.hash_key(self.clean_name(name)))
            )
        }

    def _plain_keys(self) -> bool:
        """Whether manifest keys are the cleaned names, as with Django's own ``hash_key``."""
        return type(self).hash_key is ManifestStaticFilesStorage.hash_key

    def _report(self, report: BuildReport, root: Path, console: Console, started: float) -> None:
        for line in report.warnings(None if console.verbosity >= 2 else WARNING_LINES):
            console.warn(line)
        publish_summary = self._publish(root, console)
        report.seconds = time.perf_counter() - started
        console.info(f"assetpipe: {report.summary()}")
        if publish_summary:
            console.info(f"assetpipe: {publish_summary}")

    def _publish(self, root: Path, console: Console) -> str | None:
        if self.s3_config is None:
            return None
        if not self.s3_config.publish:
            return f"not published to {self.s3_config.where} (s3 option publish is False)"
        from assetpipe.publish.overlap import refuse_media_overlap
        from assetpipe.publish.s3 import PublishError, publish

        stdout = cast(TextIO, console.stdout)
        try:
            # Also when the system checks were skipped: never into another storage's prefix.
            refuse_media_overlap(self.s3_config.bucket_name, self.s3_config.prefix, "publish to")
            result = publish(
                root,
                self.manifest_name,
                self.s3_config,
                state_dir=self.state_dir,
                stdout=stdout,
                negotiation=self.negotiation,
                listed=self._listed,
            )
        except PublishError as exc:
            raise CommandError(str(exc)) from exc
        return result.summary()
