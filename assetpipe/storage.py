"""AssetPipeStorage: Django's manifest storage, made incremental, precompressed and publishable.

Only Django's hooks live here: ``post_process`` hands the collected files to the build
(``assetpipe.build.pipeline``), the copy phase's questions go to ``assetpipe.build.copy_phase``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import storage as django_storage
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.core.management.base import CommandError

from assetpipe.build import pipeline
from assetpipe.build.bundlers import prehashed as bundlers
from assetpipe.build.copy_phase import CopyPhase
from assetpipe.build.hashing import JS_MODULE_PATTERNS, Prehashed, compile_rules
from assetpipe.build.outputs import WriteError, save_through_temp, stamp_mtime, write_if_changed
from assetpipe.build.report import current_console
from assetpipe.build.state import resolve_state_dir
from assetpipe.build.staticfiles_json import manifest_bytes, manifest_extras, save_to_storage
from assetpipe.conf.options import parse_storage_options
from assetpipe.edge.negotiation import Negotiation
from assetpipe.serve.debug_names import DebugNames


class AssetPipeStorage(ManifestStaticFilesStorage):
    """Configure through ``STORAGES["staticfiles"]["OPTIONS"]`` (docs/reference/options.md)."""

    def __init__(
        self,
        location: str | os.PathLike[str] | None = None,
        base_url: str | None = None,
        *args: Any,
        **options: Any,
    ) -> None:
        parsed, django_options = parse_storage_options(options)
        self.options = parsed
        self.s3_config = parsed.s3
        self.cors = parsed.cors
        self.edge = parsed.cdn
        self.images = parsed.images
        self.integrity = parsed.integrity
        # Whether staticfiles.json carries keys of assetpipe's beside Django's.
        self.keeps_extras = any((parsed.integrity, parsed.images, parsed.dictionaries))
        self.negotiation = Negotiation.for_options(parsed, self.manifest_name)
        self.debug_names = DebugNames(parsed.debug_unknown_names)
        self.manifest_extras: dict[str, Any] = {}  # staticfiles.json's keys for the tags
        self.prehashed: frozenset[str] = frozenset()
        self.copy = CopyPhase(
            lambda: Path(self.path("")), lambda: self.state_dir, parsed.lock_timeout
        )
        self._manifest_from_bucket = False  # app servers that did not build read the bucket's
        if self.s3_config is not None:
            from assetpipe.publish.s3 import read_manifest_from_bucket  # the s3 extra's

            self._manifest_from_bucket = read_manifest_from_bucket(self.s3_config, django_options)
        super().__init__(location, base_url, *args, **django_options)
        if parsed.js_module_imports:
            self.patterns = (*type(self).patterns, JS_MODULE_PATTERNS)
        self.rules = compile_rules(
            self.patterns, self.default_template, getattr(django_storage, "_css_ignored_re", None)
        )

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

    # Django's copy phase: its writes and removals under the build lock, its questions answered
    # from one scan of STATIC_ROOT while assetpipe's collectstatic runs.

    @contextmanager
    def collecting(self) -> Iterator[None]:
        self.copy.collecting = True
        try:
            yield
        finally:
            self.copy.collecting = False
            self.copy.release()  # taken by the scan even when post_process never runs

    def delete(self, name: str) -> None:
        self.copy.take_lock()  # collectstatic --clear and the copy phase remove files
        self.copy.forget(name)
        super().delete(name)

    def exists(self, name: str) -> bool:
        scanned = self.copy.scan()
        return (scanned is not None and name in scanned) or super().exists(name)

    def get_modified_time(self, name: str) -> datetime:
        scanned = self.copy.scan()
        stamp = scanned.found.get(name) if scanned is not None else None
        if stamp is None:
            return super().get_modified_time(name)
        return self._datetime_from_timestamp(stamp_mtime(stamp))  # type: ignore[attr-defined,no-any-return]

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        # Django writes in place; a killed run would leave a truncated file that the next
        # run's modification-time check then skips. Write beside it and rename instead.
        self.copy.take_lock()
        save = super()._save  # type: ignore[misc]

        def save_as(temp: Path) -> Path:
            return Path(self.path(save(os.path.relpath(temp, self.location), content)))

        try:
            save_through_temp(Path(self.path(name)), save_as)
        except WriteError as exc:
            self.copy.release()
            raise CommandError(f"assetpipe: {exc}") from exc
        cleaned = self.clean_name(name.replace("\\", "/"))
        self.copy.wrote(cleaned)
        return cleaned

    # The manifest: Django's, with assetpipe's keys after its own.

    def read_manifest(self) -> str:
        # Django keeps only "paths" and "hash"; the tags need the rest of the same bytes.
        content: str = super().read_manifest()  # None when there is no manifest
        self.manifest_extras = manifest_extras(content) if self.keeps_extras else {}
        return content

    def save_manifest(self) -> None:
        # As Django writes it, but replaced atomically and only when it changed, so a
        # no-change run leaves it and its mtime alone.
        sorted_files = sorted(self.hashed_files.items())
        manifest_hash = self.file_hash(None, ContentFile(json.dumps(sorted_files).encode()))
        self.manifest_hash = manifest_hash  # type: ignore[assignment]
        extras = {
            **bundlers.manifest_extra(self.prehashed),
            **(self.manifest_extras if self.keeps_extras else {}),
        }
        contents = manifest_bytes(sorted_files, self.manifest_version, manifest_hash, extras)
        storage = self.manifest_storage
        # The bucket's manifest is read-only here: publishing uploads it after its files.
        if storage is not None and storage is not self and not self._manifest_from_bucket:
            save_to_storage(storage, self.manifest_name, contents)
        else:
            write_if_changed(Path(self.path(self.manifest_name)), contents)

    def save_built_manifest(
        self, names: dict[str, str], prehashed: frozenset[str], extras: dict[str, Any]
    ) -> None:
        self.hashed_files, self.prehashed, self.manifest_extras = names, prehashed, extras
        self.save_manifest()

    @property
    def state_dir(self) -> Path:
        return resolve_state_dir(Path(self.path("")), self.options.state_dir)

    def post_process(  # type: ignore[override]
        self, paths: dict[str, tuple[Storage, str]], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, bool | Exception]]:
        console = current_console()
        if dry_run:
            console.info("assetpipe: dry run, nothing hashed, compressed or published.")
            return
        try:
            with pipeline.without_cyclic_gc():
                self.copy.take_lock()
                root, build = Path(self.path("")), self.build_options()
                yield from pipeline.build(
                    paths, self, build, root, self.state_dir, self.copy, console
                )
        except WriteError as exc:
            raise CommandError(f"assetpipe: {exc}") from exc
        except pipeline.BuildError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            self.copy.release()

    def build_options(self) -> pipeline.BuildOptions:
        return pipeline.BuildOptions.from_options(
            self.options,
            negotiation=self.negotiation,
            content_addressed=type(self).file_hash is AssetPipeStorage.file_hash,
            plain_keys=type(self).hash_key is ManifestStaticFilesStorage.hash_key,
        )
