"""Content-hashed names and rewritten references, computed once per file in dependency order.

Django's ``HashedFilesMixin`` reaches its fixed point by re-reading and rewriting every
CSS/JS file up to six times. Here each adjustable file is rewritten at most once: resolving a
reference to another adjustable file first finishes that file (a depth-first walk of the
reference graph), so every reference is written with its target's final name. The name of a
file is a function of its content and the names its references resolved to, so a file whose
digest and resolutions match the previous run's record is not read, rewritten or written.

The rewriting itself is Django's: its patterns, its ``url_converter`` and its name formatting,
so the names and bytes are the ones ``ManifestStaticFilesStorage`` produces for the installed
Django version.
"""

from __future__ import annotations

import bisect
import fnmatch
import hashlib
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.utils import matches_patterns
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from assetpipe.files import BuiltFile, copy_atomic, write_atomic
from assetpipe.state import BuildState, MissingReference, PlainRecord, RewriteRecord

if TYPE_CHECKING:
    from assetpipe.storage import AssetPipeStorage


class Rule(NamedTuple):
    pattern: re.Pattern[str]
    template: str
    ignored: re.Pattern[str] | None  # comments and strings the pattern must not rewrite in


def compile_rules(
    patterns: Any, default_template: str, default_ignored: re.Pattern[str] | None
) -> dict[str, list[Rule]]:
    """Django's ``patterns`` attribute as rules, for every Django version's entry shapes."""
    rules: dict[str, list[Rule]] = {}
    for extension, entries in patterns:
        for entry in entries:
            ignored = default_ignored
            if isinstance(entry, (tuple, list)):
                if len(entry) == 3:
                    pattern, template, ignored = entry
                else:
                    pattern, template = entry
            else:
                pattern, template = entry, default_template
            compiled = re.compile(pattern, re.IGNORECASE)
            if ignored is not None and not isinstance(ignored, re.Pattern):
                ignored = re.compile(ignored, re.DOTALL)
            rules.setdefault(extension, []).append(Rule(compiled, template, ignored))
    return rules


@dataclass
class Source:
    """A collected file: its name in STATIC_ROOT and where its bytes come from."""

    name: str
    key: str  # Django's hash_key(clean_name(name)): the manifest's key
    digest: str
    size: int
    path: str | None  # on the local file system, when the source storage has one
    load: Callable[[], bytes]


class Prehashed(ContentFile):  # type: ignore[type-arg]
    """Content whose MD5 is already known, so naming it needs no second pass over the bytes."""

    def __init__(self, content: bytes, digest: str) -> None:
        super().__init__(content)
        self.digest = digest


class MissingTarget(ValueError):
    pass


class _Cycle(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


@dataclass
class HashResult:
    names: dict[str, str] = field(default_factory=dict)  # manifest: key -> hashed name
    outputs: dict[str, BuiltFile] = field(default_factory=dict)  # collected name -> hashed file
    processed: dict[str, bool] = field(default_factory=dict)  # for collectstatic's report
    rewritten: int = 0
    reused: int = 0
    copied: int = 0
    missing: list[MissingReference] = field(default_factory=list)
    undecodable: dict[str, UnicodeDecodeError] = field(default_factory=dict)
    cycles: list[tuple[str, ...]] = field(default_factory=list)
    prehashed_changed: list[str] = field(default_factory=list)  # same name, other bytes


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Hasher:
    def __init__(
        self,
        storage: AssetPipeStorage,
        sources: Mapping[str, Source],
        rules: dict[str, list[Rule]],
        state: BuildState,
        existing: set[str],
        root: Path,
        *,
        content_addressed: bool,
        prehashed: frozenset[str] = frozenset(),
    ) -> None:
        self.storage = storage
        self.sources = sources  # by key
        self.rules = rules
        self.state = state
        self.existing = existing
        self.root = root
        # With a custom file_hash() a name no longer identifies content: always write.
        self.content_addressed = content_addressed
        self.result = HashResult()
        self.prehashed = prehashed  # collected names a bundler named: kept as they are
        self._in_progress: list[str] = []
        # One regex for all of Django's fnmatch patterns: matches_patterns() per file is slow.
        self._adjustable = re.compile("|".join(fnmatch.translate(p) for p in rules) or "(?!)")
        self._cycle_keys: set[frozenset[str]] = set()

    def run(self) -> HashResult:
        for key in sorted(self.sources):
            self.final_name(key)
        # Forget files that are no longer collected, so the state does not grow without bound.
        outputs = self.result.outputs
        self.state.plain = {n: r for n, r in self.state.plain.items() if n in outputs}
        self.state.rewrites = {n: r for n, r in self.state.rewrites.items() if n in outputs}
        return self.result

    def is_adjustable(self, source: Source) -> bool:
        return self._adjustable.match(source.name) is not None

    def final_name(self, key: str) -> str:
        known = self.result.names.get(key)
        if known is not None:
            return known
        source = self.sources[key]
        if source.name in self.prehashed:
            return self._finish_prehashed(source)
        if not self.is_adjustable(source):
            return self._finish_plain(source)
        if key in self._in_progress:
            raise _Cycle(key)
        self._in_progress.append(key)
        try:
            name = self._reuse(source) or self._rewrite(source)
        finally:
            self._in_progress.pop()
        return name

    # -- plain files: name from content, copied as they are ------------------------------

    def _name_for(
        self, name: str, content: bytes | None, digest: str, load: Callable[[], bytes]
    ) -> str:
        file: ContentFile[bytes]
        if self.content_addressed:
            file = Prehashed(b"", digest)
        else:
            file = ContentFile(content if content is not None else load())
        return self.storage.clean_name(self.storage.hashed_name(name, file))

    def _finish_plain(self, source: Source, content: bytes | None = None) -> str:
        record = self.state.plain.get(source.name)
        if (
            record is not None
            and record.digest == source.digest
            and self.content_addressed
            and record.hashed_name != source.name  # a prehashed file's record
        ):
            hashed = record.hashed_name
        else:
            hashed = self._name_for(source.name, content, source.digest, source.load)
            self.state.plain[source.name] = PlainRecord(source.digest, hashed)
        self.state.rewrites.pop(source.name, None)
        written = False
        if hashed != source.name and (hashed not in self.existing or not self.content_addressed):
            if content is None and source.path is not None:
                copy_atomic(Path(source.path), self.root / hashed)
            else:
                write_atomic(self.root / hashed, content if content is not None else source.load())
            self.existing.add(hashed)
            self.result.copied += 1
            written = True
        self._done(
            source, hashed, BuiltFile(hashed, source.digest, source.size, source.load), written
        )
        return hashed

    def _finish_prehashed(self, source: Source) -> str:
        # The bundler's name and bytes are final; the record only tells a later run whether
        # the bytes under this name changed, which no cache would notice.
        record = self.state.plain.get(source.name)
        if (
            record is not None
            and record.hashed_name == source.name
            and record.digest != source.digest
        ):
            self.result.prehashed_changed.append(source.name)
        self.state.plain[source.name] = PlainRecord(source.digest, source.name)
        self.state.rewrites.pop(source.name, None)
        output = BuiltFile(source.name, source.digest, source.size, source.load)
        self._done(source, source.name, output, False)
        return source.name

    def _done(self, source: Source, hashed: str, output: BuiltFile, processed: bool) -> None:
        self.result.names[source.key] = hashed
        self.result.outputs[source.name] = output
        self.result.processed[source.name] = processed

    # -- adjustable files -----------------------------------------------------------------

    def _reuse(self, source: Source) -> str | None:
        record = self.state.rewrites.get(source.name)
        if (
            record is None
            or not self.content_addressed
            or record.digest != source.digest
            or record.hashed_name not in self.existing
        ):
            return None
        for reference, resolved in record.refs.items():
            if self._resolve_quietly(reference) != resolved:
                return None
        self.result.missing.extend(record.missing)
        self.result.reused += 1
        output_path = self.root / record.hashed_name
        output = BuiltFile(
            record.hashed_name, record.output_digest, record.output_size, output_path.read_bytes
        )
        self._done(source, record.hashed_name, output, True)
        return record.hashed_name

    def _resolve_quietly(self, reference: str) -> str | None:
        try:
            return self.resolve(reference)
        except (MissingTarget, _Cycle):
            return None

    def _rewrite(self, source: Source) -> str:
        data = source.load()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Not text: hashed and copied as opaque bytes.
            self.result.undecodable[source.name] = exc
            return self._finish_plain(source, data)

        refs: dict[str, str | None] = {}
        missing: list[MissingReference] = []
        for extension, rules in self.rules.items():
            if not matches_patterns(source.name, (extension,)):
                continue
            for rule in rules:
                converter = self._converter(source.name, rule, text, refs, missing)
                text = rule.pattern.sub(converter, text)

        out = text.encode()
        digest = md5_hex(out)
        hashed = self._name_for(source.name, out, digest, lambda: out)
        if hashed not in self.existing or not self.content_addressed or hashed == source.name:
            write_atomic(self.root / hashed, out)
            self.existing.add(hashed)
        self.state.rewrites[source.name] = RewriteRecord(
            source.digest, refs, hashed, digest, len(out), tuple(missing)
        )
        self.state.plain.pop(source.name, None)
        self.result.missing.extend(missing)
        self.result.rewritten += 1
        self._done(source, hashed, BuiltFile(hashed, digest, len(out), lambda: out), True)
        return hashed

    def _converter(
        self,
        name: str,
        rule: Rule,
        text: str,
        refs: dict[str, str | None],
        missing: list[MissingReference],
    ) -> Callable[[re.Match[str]], str]:
        blocks = [m.span() for m in rule.ignored.finditer(text)] if rule.ignored else []
        starts = [start for start, _ in blocks]
        resolver = Resolver(self, refs)
        django_converter = self.storage.url_converter(name, resolver, rule.template)  # type: ignore[arg-type]

        def convert(match: re.Match[str]) -> str:
            matched = match.group("matched")
            position = match.start()
            # Django 6.1's rule: a match strictly inside a comment or string stays as it is.
            i = bisect.bisect_left(starts, position) - 1
            if i >= 0 and blocks[i][0] < position < blocks[i][1]:
                return matched
            try:
                return str(django_converter(match))
            except MissingTarget as exc:
                line = match.string.count("\n", 0, position) + 1
                missing.append(MissingReference(name, line, str(exc), matched))
                return matched
            except _Cycle as cycle:
                members = self._in_progress[self._in_progress.index(cycle.key) :]
                names = tuple(sorted(self.sources[k].name for k in members))
                if frozenset(names) not in self._cycle_keys:
                    self._cycle_keys.add(frozenset(names))
                    self.result.cycles.append(names)
                return matched

        return convert

    # -- resolving references -------------------------------------------------------------

    def resolve(self, reference: str) -> str:
        """The name Django's ``_stored_name`` gives ``reference`` once every file is final."""
        storage = self.storage
        normalized = posixpath.normpath(reference)
        key = storage.hash_key(storage.clean_name(normalized))
        if key in self.sources:
            return self.final_name(key)
        # Not a collected name as written (a query string, say): Django hashes the file's
        # unprocessed content, which is the collected source when there is one.
        path = urlsplit(unquote(normalized)).path.strip()
        source = self.sources.get(storage.hash_key(storage.clean_name(path)))
        if source is not None and source.name in self.prehashed:
            return normalized  # the bundler's name, query and fragment as written
        if source is not None:
            content = (
                Prehashed(b"", source.digest)
                if self.content_addressed
                else ContentFile(source.load())
            )
            return storage.clean_name(storage.hashed_name(normalized, content))
        try:
            return storage.clean_name(storage.hashed_name(normalized))
        except (ValueError, SuspiciousFileOperation):
            # SuspiciousFileOperation: the reference leads out of STATIC_ROOT.
            raise MissingTarget(normalized) from None


class Resolver(Mapping[str, str]):
    """Stands in for Django's ``hashed_files`` dict while one file is rewritten.

    ``AssetPipeStorage._stored_name`` sends lookups here, so Django's own ``url_converter``
    does the rewriting while the resolution (and the record of it) is ours.
    """

    def __init__(self, hasher: Hasher, refs: dict[str, str | None]) -> None:
        self.hasher = hasher
        self.refs = refs

    def stored_name(self, reference: str) -> str:
        try:
            resolved = self.hasher.resolve(reference)
        except (MissingTarget, _Cycle):
            self.refs[reference] = None
            raise
        self.refs[reference] = resolved
        return resolved

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
