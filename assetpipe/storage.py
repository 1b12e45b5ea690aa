"""AssetPipeStorage: Django's manifest storage, made incremental, precompressed and publishable.

``post_process`` only orchestrates: find (Django's copy phase has run) -> hash -> compress ->
manifest -> publish. Each step lives in its own module.
"""

from __future__ import annotations

import gc
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.staticfiles import storage as django_storage
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.management.base import CommandError

import assetpipe
from assetpipe import bundlers
from assetpipe.compress import (
    CACHE_VERSION,
    DEFAULT_SKIP_EXTENSIONS,
    ENCODINGS,
    Compressor,
)
from assetpipe.files import BuiltFile, scan_tree, temp_path_for, write_atomic
from assetpipe.hashing import (
    Hasher,
    HashResult,
    Prehashed,
    Resolver,
    Source,
    compile_rules,
    md5_hex,
)
from assetpipe.report import WARNING_LINES, BuildReport, Console, collectstatic_console
from assetpipe.state import BuildState, SourceStamp

# ES module import/export specifiers, as Django 6.1 rewrites them: the statement may span
# lines but not a ';', and nothing inside comments, strings or template literals is touched.
# Used on every supported Django version, so JS names do not depend on the Django release.
JS_IGNORED = re.compile(
    r"/\*.*?\*/"
    r"|//[^\n]*"
    r"|\\."
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|`(?:[^`\\]|\\.)*`",
    re.DOTALL,
)
JS_MODULE_PATTERNS = (
    "*.js",
    (
        (
            r"""(?P<matched>import(?P<import>[\s\{][^;]*?|\*\s*as\s*\w+)"""
            r"""\s*from\s*['"](?P<url>[./].*?)["'])""",
            'import%(import)s from "%(url)s"',
            JS_IGNORED,
        ),
        (
            r"""(?P<matched>export(?P<exports>[\s\{][^;]*?)\s*from\s*["'](?P<url>[./].*?)["'])""",
            'export%(exports)s from "%(url)s"',
            JS_IGNORED,
        ),
        (
            r"""(?P<matched>import\s*['"](?P<url>[./].*?)["'])""",
            'import"%(url)s"',
            JS_IGNORED,
        ),
        (
            r"""(?P<matched>import\(["'](?P<url>[./].*?)["']\))""",
            'import("%(url)s")',
            JS_IGNORED,
        ),
    ),
)

STATE_DIRNAME = ".assetpipe"


class AssetPipeStorage(ManifestStaticFilesStorage):
    """Configure through ``STORAGES["staticfiles"]["OPTIONS"]``; see the README for options."""

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        *args: Any,
        encodings: list[str] | tuple[str, ...] = ("br", "gzip"),
        strict: bool = False,
        js_module_imports: bool = False,
        skip_compress_extensions: list[str] | tuple[str, ...] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        compress_workers: int | None = None,
        s3: Mapping[str, Any] | None = None,
        prehashed: list[str] | tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        self.prehashed_patterns = bundlers.compile_patterns(prehashed)
        self.prehashed: frozenset[str] = frozenset()
        unknown = [e for e in encodings if e not in ENCODINGS]
        if unknown:
            raise ImproperlyConfigured(
                f"assetpipe: unknown encoding(s) {unknown} in STORAGES['staticfiles']['OPTIONS']"
                f"['encodings']; choose from {sorted(ENCODINGS)}"
            )
        self.encodings = [ENCODINGS[e] for e in encodings]
        self.strict = strict
        self.skip_compress_extensions = (
            DEFAULT_SKIP_EXTENSIONS
            if skip_compress_extensions is None
            else frozenset(e.lower().lstrip(".") for e in skip_compress_extensions)
        )
        self.compress_workers = compress_workers
        self._state_dir = state_dir
        self.s3_config = None
        self._manifest_from_bucket = False
        if s3 is not None:
            # Not publish.s3: building never needs botocore until it publishes.
            from assetpipe.publish.config import S3Config

            self.s3_config = S3Config.from_options(s3)
            self._manifest_from_bucket = (
                self.s3_config.read_manifest_from_bucket and "manifest_storage" not in kwargs
            )
            if self._manifest_from_bucket:
                from assetpipe.publish.s3 import remote_manifest_storage

                kwargs["manifest_storage"] = remote_manifest_storage(self.s3_config)
        super().__init__(location, base_url, *args, **kwargs)
        if js_module_imports:
            self.patterns = (*type(self).patterns, JS_MODULE_PATTERNS)
        self.rules = compile_rules(
            self.patterns,
            self.default_template,
            getattr(django_storage, "_css_ignored_re", None),
        )

    # -- Django hooks -------------------------------------------------------------------

    def file_hash(self, name: str | None, content: File | None = None) -> str | None:  # type: ignore[type-arg]
        if isinstance(content, Prehashed):
            return content.digest[:12]
        return super().file_hash(name, content)  # type: ignore[arg-type]

    def _stored_name(self, name: str, hashed_files: Any) -> str:
        if isinstance(hashed_files, Resolver):
            return hashed_files.stored_name(name)
        return super()._stored_name(name, hashed_files)  # type: ignore[misc,no-any-return]

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        # Django writes in place; a killed run would leave a truncated file that the next
        # run's modification-time check then skips. Write beside it and rename instead.
        full_path = Path(self.path(name))
        temp = temp_path_for(full_path)
        temp_name = os.path.relpath(temp, self.location)
        saved: str = super()._save(temp_name, content)  # type: ignore[misc]
        try:
            os.replace(self.path(saved), full_path)
        except BaseException:
            Path(self.path(saved)).unlink(missing_ok=True)
            raise
        return name.replace("\\", "/")

    def save_manifest(self) -> None:
        # As Django writes it (sorted, as Django 6.1 does), but replaced atomically and only
        # when it changed, so a no-change run leaves it and its mtime alone.
        sorted_files = sorted(self.hashed_files.items())
        manifest_hash = self.file_hash(None, ContentFile(json.dumps(sorted_files).encode()))
        self.manifest_hash = manifest_hash  # type: ignore[assignment]
        payload = {
            "paths": dict(sorted_files),
            "version": self.manifest_version,
            "hash": manifest_hash,
            **bundlers.manifest_extra(self.prehashed),
        }
        contents = json.dumps(payload).encode()
        manifest_storage: Any = self.manifest_storage
        # The bucket's manifest is read-only here: publishing uploads it after its files.
        if manifest_storage is not self and not self._manifest_from_bucket:
            if manifest_storage.exists(self.manifest_name):
                manifest_storage.delete(self.manifest_name)
            manifest_storage._save(self.manifest_name, ContentFile(contents))
            return
        path = Path(self.path(self.manifest_name))
        if path.is_file() and path.read_bytes() == contents:
            return
        write_atomic(path, contents)

    # -- the pipeline ---------------------------------------------------------------------

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
        ]
        return md5_hex("\0".join(parts).encode())

    def post_process(  # type: ignore[override]
        self, paths: dict[str, tuple[Storage, str]], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, bool | Exception]]:
        console = collectstatic_console()
        if dry_run:
            console.info("assetpipe: dry run, nothing hashed, compressed or published.")
            return
        # The build allocates a few objects per file. With Django loaded, the cyclic garbage
        # collector's passes over the whole heap then cost more than the build itself on a run
        # where nothing changed; reference counting still frees everything as it goes.
        collecting = gc.isenabled()
        gc.disable()
        try:
            yield from self._build(paths, console)
        finally:
            if collecting:
                gc.enable()

    def _build(
        self, paths: dict[str, tuple[Storage, str]], console: Console
    ) -> Iterator[tuple[str, str | None, bool | Exception]]:
        started = time.perf_counter()
        root = Path(self.path(""))
        state_dir = self.state_dir
        state_path = state_dir / f"{root.name or 'static'}.json"
        state = BuildState.load(state_path, self.state_fingerprint())
        existing = scan_tree(root)

        sources = self._sources(paths, state)
        content_addressed = type(self).file_hash is AssetPipeStorage.file_hash
        self.prehashed = bundlers.prehashed_names(
            {s.name: s.load for s in sources.values()}, self.prehashed_patterns
        )
        hashed = Hasher(
            self,
            sources,
            self.rules,
            state,
            existing,
            root,
            content_addressed=content_addressed,
            prehashed=self.prehashed,
        ).run()
        for name in hashed.prehashed_changed:
            console.warn(bundlers.changed_warning(name))

        error = self._strict_error(hashed)
        if error is not None:
            yield error
            return
        for name, output in sorted(hashed.outputs.items()):
            yield name, output.name, hashed.processed[name]

        compressor = Compressor(
            root,
            self.encodings,
            state,
            existing,
            cache_dir=state_dir / f"{state_path.stem}.compressed-{CACHE_VERSION}",
            skip_extensions=self.skip_compress_extensions,
            workers=self.compress_workers,
            progress=console.progress(),
        )
        compressed = compressor.run(self._servables(sources, hashed))

        self.hashed_files = hashed.names
        self.save_manifest()
        try:
            compressor.prune_cache()
            state.save(state_path)
        except OSError as exc:
            console.warn(f"assetpipe: could not save the build state to {state_path}: {exc}")

        report = BuildReport(
            files=len(paths),
            hashed=hashed.rewritten + hashed.copied,
            hashed_reused=len(paths) - hashed.rewritten - hashed.copied,
            compressed=compressed.compressed,
            compressed_reused=compressed.reused,
            saved_bytes=compressed.original_bytes - compressed.smallest_bytes,
            missing=hashed.missing,
            undecodable=sorted(hashed.undecodable),
            cycles=hashed.cycles,
        )
        for line in report.warnings(None if console.verbosity >= 2 else WARNING_LINES):
            console.warn(line)
        publish_summary = self._publish(root, console)
        report.seconds = time.perf_counter() - started
        console.info(f"assetpipe: {report.summary()}")
        if publish_summary:
            console.info(f"assetpipe: {publish_summary}")

    def _sources(
        self, paths: dict[str, tuple[Storage, str]], state: BuildState
    ) -> dict[str, Source]:
        """Digest every collected file, reading only those whose stat changed.

        This loop runs for every file on every run, so it stays lean: on a run where nothing
        changed it is most of what assetpipe adds to collectstatic.
        """
        old_stamps = state.stamps
        stamps: dict[str, SourceStamp] = {}
        sources: dict[str, Source] = {}
        clean_name, hash_key = self.clean_name, self.hash_key
        plain_keys = type(self).hash_key is ManifestStaticFilesStorage.hash_key
        locations: dict[int, str | None] = {}
        for name, (storage, path) in paths.items():
            location = locations.get(id(storage), "")
            if location == "":
                # The finders listed these names from this very directory; Storage.path()'s
                # safe_join checks cost more than the rest of this loop.
                location = str(storage.location) if isinstance(storage, FileSystemStorage) else None
                locations[id(storage)] = location
            fs_path: str | None
            if location is not None:
                fs_path = os.path.join(location, path)
            else:
                try:
                    fs_path = storage.path(path)
                except NotImplementedError:
                    fs_path = None
            loader = _Loader(storage, path, fs_path)
            if fs_path is not None:
                stat = os.stat(fs_path)
                size = stat.st_size
                stamp = old_stamps.get(fs_path)
                if stamp is None or stamp.size != size or stamp.mtime_ns != stat.st_mtime_ns:
                    stamp = SourceStamp(size, stat.st_mtime_ns, md5_hex(loader()))
                stamps[fs_path] = stamp
                digest = stamp.digest
            else:
                data = loader()
                digest, size = md5_hex(data), len(data)
            cleaned = clean_name(name)
            key = cleaned if plain_keys else hash_key(cleaned)
            sources[key] = Source(cleaned, key, digest, size, fs_path, loader)
        state.stamps = stamps
        return sources

    def _servables(self, sources: Mapping[str, Source], hashed: HashResult) -> Iterator[BuiltFile]:
        for source in sources.values():
            output = hashed.outputs[source.name]
            if output.name != source.name:
                yield BuiltFile(source.name, source.digest, source.size, source.load)
            yield output

    def _strict_error(self, hashed: HashResult) -> tuple[str, None, Exception] | None:
        if not self.strict:
            return None
        if hashed.undecodable:
            name = min(hashed.undecodable)
            return name, None, hashed.undecodable[name]
        if hashed.cycles:
            names = ", ".join(sorted({n for cycle in hashed.cycles for n in cycle}))
            return names, None, RuntimeError("Max post-process passes exceeded.")
        if hashed.missing:
            files = ", ".join(sorted({m.source for m in hashed.missing}))
            lines = "\n".join(f"  {m.describe()}" for m in hashed.missing)
            count = len(hashed.missing)
            message = (
                f"{count} reference{'s' if count != 1 else ''} to missing files "
                f"(strict mode):\n{lines}"
            )
            return files, None, ValueError(message)
        return None

    def _publish(self, root: Path, console: Console) -> str | None:
        if self.s3_config is None:
            return None
        from assetpipe.publish.s3 import PublishError, publish

        try:
            result = publish(root, self.manifest_name, self.s3_config, stdout=console.stdout)
        except PublishError as exc:
            raise CommandError(str(exc)) from exc
        return result.summary()


class _Loader:
    """Reads a source's bytes on first use and keeps them for the rest of the run."""

    def __init__(self, storage: Storage, path: str, fs_path: str | None) -> None:
        self.storage = storage
        self.path = path
        self.fs_path = fs_path
        self.data: bytes | None = None

    def __call__(self) -> bytes:
        if self.data is None:
            if self.fs_path is not None:
                with open(self.fs_path, "rb") as f:
                    self.data = f.read()
            else:
                with self.storage.open(self.path) as f:
                    self.data = f.read()
        return self.data
