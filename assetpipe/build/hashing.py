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

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles.utils import matches_patterns
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from assetpipe.build import large_text
from assetpipe.build.outputs import (
    LARGE_FILE,
    BuiltFile,
    Outputs,
    copy_atomic,
    move_atomic,
    staging,
    write_atomic,
)
from assetpipe.build.sources import Source
from assetpipe.build.state import HashState, MissingReference, PlainRecord, RewriteRecord
from assetpipe.digests import md5_bytes

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


# A percent-encoded '?' or '#' in a reference's path: part of a file name, not a delimiter.
ENCODED_DELIMITER = re.compile("%(?:3f|23)", re.IGNORECASE)
# What Django's url_converter leaves alone before resolving: a scheme (data:, https:),
# protocol-relative and fragment-only URLs.
NOT_A_FILE = re.compile(r"^(?:[a-z]+:|//|#)", re.IGNORECASE)


class Rule(NamedTuple):
    pattern: re.Pattern[str]
    template: str
    ignored: re.Pattern[str] | None  # comments and strings the pattern must not rewrite in


class IgnoredBlocks:
    """A rule's comments and strings in one text, found as its matches advance.

    Matches come in text order, so one lazy pass over the blocks answers every question and
    no list of them is kept: a 20 MB bundle has millions, and most texts have no match at all.
    """

    def __init__(self, pattern: re.Pattern[str] | None, text: str) -> None:
        self._blocks = pattern.finditer(text) if pattern is not None else iter(())
        self._current: tuple[int, int] | None = (0, 0)

    def around(self, position: int) -> tuple[int, int] | None:
        """The block strictly around ``position``, if any; positions must not decrease."""
        current = self._current
        while current is not None and current[1] <= position:
            block = next(self._blocks, None)
            current = block.span() if block is not None else None
        self._current = current
        # Blocks do not overlap: only the first one ending after ``position`` can hold it.
        return current if current is not None and current[0] < position else None


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


class Naming(Protocol):
    """What the hash step needs from a Django manifest storage: its naming and rewriting."""

    def clean_name(self, name: str) -> str: ...

    def hash_key(self, name: str) -> str: ...

    def hashed_name(
        self,
        name: str,
        content: File[Any] | None = None,
        filename: str | None = None,
    ) -> str: ...

    def url_converter(
        self, name: str, hashed_files: Any, template: str | None = None
    ) -> Callable[[re.Match[str]], str]: ...


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
    copied: int = 0
    missing: list[MissingReference] = field(default_factory=list)
    undecodable: dict[str, UnicodeDecodeError] = field(default_factory=dict)
    cycles: list[tuple[str, ...]] = field(default_factory=list)
    prehashed_changed: list[str] = field(default_factory=list)  # same name, other bytes

    def post_processed(self) -> Iterator[tuple[str, str, bool]]:
        """What ``post_process`` yields to collectstatic: (original, hashed, processed)."""
        for name, output in sorted(self.outputs.items()):
            yield name, output.name, self.processed[name]

    def servables(self, sources: Mapping[str, Source], root: Path) -> Iterator[BuiltFile]:
        """Every file of the build in STATIC_ROOT: each original and its hashed copy."""
        for source in sources.values():
            output = self.outputs[source.name]
            if output.name != source.name:
                # The original in STATIC_ROOT, which check_originals made the source's bytes.
                yield BuiltFile(source.name, source.digest, source.size, source.load, root)
            yield output


def strict_error(result: HashResult) -> tuple[str, None, Exception] | None:
    """The failure Django's storage would report for this result, as post_process yields it."""
    if result.undecodable:
        name = min(result.undecodable)
        return name, None, result.undecodable[name]
    if result.cycles:
        names = ", ".join(sorted({n for cycle in result.cycles for n in cycle}))
        return names, None, RuntimeError("Max post-process passes exceeded.")
    if result.missing:
        files = ", ".join(sorted({m.source for m in result.missing}))
        lines = "\n".join(f"  {m.describe()}" for m in result.missing)
        count = len(result.missing)
        message = (
            f"{count} reference{'s' if count != 1 else ''} to missing files (strict mode):\n{lines}"
        )
        return files, None, ValueError(message)
    return None


class Hasher:
    def __init__(
        self,
        naming: Naming,
        sources: Mapping[str, Source],
        rules: dict[str, list[Rule]],
        state: HashState,
        existing: Outputs,
        root: Path,
        *,
        content_addressed: bool,
        prehashed: frozenset[str] = frozenset(),
    ) -> None:
        self.naming = naming
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
        state = self.state
        state.plain = {n: r for n, r in state.plain.items() if n in outputs}
        state.rewrites = {n: r for n, r in state.rewrites.items() if n in outputs}
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
        return self.naming.clean_name(self.naming.hashed_name(name, file))

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
        if hashed != source.name and (
            not self.existing.holds(hashed, source.digest) or not self.content_addressed
        ):
            # Where it can, the hashed copy is the original in STATIC_ROOT under a second name.
            if content is not None or not self.existing.link(source.name, hashed, source.digest):
                if content is None and source.path is not None:
                    copy_atomic(Path(source.path), self.root / hashed)
                else:
                    write_atomic(
                        self.root / hashed, content if content is not None else source.load()
                    )
                self.existing.wrote(hashed, source.digest)
            self.result.copied += 1
            written = True
        output = BuiltFile(hashed, source.digest, source.size, source.load, self.root)
        self._done(source, hashed, output, written)
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
            or not self.existing.holds(record.hashed_name, record.output_digest)
        ):
            return None
        for key, resolved in record.refs.items():
            if self._resolve_quietly(key) != resolved:
                return None
        self.result.missing.extend(record.missing)
        output = BuiltFile(
            record.hashed_name, record.output_digest, record.output_size, None, self.root
        )
        self._done(source, record.hashed_name, output, True)
        return record.hashed_name

    def _resolve_quietly(self, key: str) -> str | None:
        try:
            return self.resolve(key)
        except (MissingTarget, _Cycle):
            return None

    def _rules_for(self, name: str) -> list[Rule]:
        return [
            rule
            for extension, rules in self.rules.items()
            if matches_patterns(name, (extension,))
            for rule in rules
        ]

    def _rewrite(self, source: Source) -> str:
        if source.size > LARGE_FILE and source.path is not None and self.content_addressed:
            hashed = self._rewrite_large(source, Path(source.path))
            if hashed is not None:
                return hashed
        data = source.load()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.result.undecodable[source.name] = exc
            text = None
        if text is None:
            # Not text: hashed and copied as opaque bytes (outside the except block, so a
            # failed write does not carry the decoding error along).
            return self._finish_plain(source, data)
        del data  # a large file is then held twice at most: the text and its rewrite

        refs: dict[str, str | None] = {}
        missing: list[MissingReference] = []
        for rule in self._rules_for(source.name):
            # The converter (and the blocks it holds) goes with the old text.
            text = rule.pattern.sub(self._converter(source.name, rule, text, refs, missing), text)

        out = text.encode()
        del text
        digest = md5_bytes(out)
        hashed = self._name_for(source.name, out, digest, lambda: out)
        if self._needs_writing(source, hashed, digest):
            write_atomic(self.root / hashed, out)
            self.existing.wrote(hashed, digest)
        return self._finish_rewrite(source, hashed, digest, len(out), refs, missing)

    def _rewrite_large(self, source: Source, path: Path) -> str | None:
        """A file over LARGE_FILE, rewritten without holding it, or None where that cannot be
        shown to give the whole-text rewrite's bytes (large_text)."""
        try:
            rules = large_text.active_rules(path, self._rules_for(source.name))
        except large_text.Undecodable:
            return None  # the whole-text rewrite reports it as Django does
        refs: dict[str, str | None] = {}
        missing: list[MissingReference] = []
        if not rules:  # nothing to rewrite: the output is the source's bytes
            hashed = self._name_for(source.name, None, source.digest, source.load)
            if self._needs_writing(source, hashed, source.digest):
                copy_atomic(path, self.root / hashed)
                self.existing.wrote(hashed, source.digest)
            return self._finish_rewrite(source, hashed, source.digest, source.size, refs, missing)
        if not large_text.rewritable_in_pieces(rules):
            return None

        def rewrite(text: str, first_line: int) -> str:
            for rule in rules:
                convert = self._converter(source.name, rule, text, refs, missing, first_line)
                text = rule.pattern.sub(convert, text)
            return text

        # Written beside the original, then renamed once its digest has named it.
        with staging(self.root / source.name) as temp:
            with open(temp, "wb") as out:
                digest, size = large_text.rewrite_in_pieces(path, rules, rewrite, out)
            hashed = self._name_for(source.name, None, digest, source.load)
            if self._needs_writing(source, hashed, digest):
                move_atomic(temp, self.root / hashed)
                self.existing.wrote(hashed, digest)
        return self._finish_rewrite(source, hashed, digest, size, refs, missing)

    def _needs_writing(self, source: Source, hashed: str, digest: str) -> bool:
        return (
            not self.existing.holds(hashed, digest)
            or not self.content_addressed
            or hashed == source.name
        )

    def _finish_rewrite(
        self,
        source: Source,
        hashed: str,
        digest: str,
        size: int,
        refs: dict[str, str | None],
        missing: list[MissingReference],
    ) -> str:
        self.state.rewrites[source.name] = RewriteRecord(
            source.digest, refs, hashed, digest, size, tuple(missing)
        )
        self.state.plain.pop(source.name, None)
        self.result.missing.extend(missing)
        self.result.rewritten += 1
        # Read back from disk when compressed: the rewritten bytes are not kept for the run.
        output = BuiltFile(hashed, digest, size, None, self.root)
        self._done(source, hashed, output, True)
        return hashed

    def _converter(
        self,
        name: str,
        rule: Rule,
        text: str,
        refs: dict[str, str | None],
        missing: list[MissingReference],
        first_line: int = 1,
    ) -> Callable[[re.Match[str]], str]:
        blocks = IgnoredBlocks(rule.ignored, text)
        resolver = Resolver(self.resolve, refs)
        django_converter = self.naming.url_converter(name, resolver, rule.template)

        def convert(match: re.Match[str]) -> str:
            matched = match.group("matched")
            position = match.start()
            # Django 6.1's rule: a match strictly inside a comment or string stays as it is.
            if blocks.around(position) is not None:
                return matched
            url = match.groupdict().get("url") or ""
            path = url.partition("?")[0].partition("#")[0]
            if not NOT_A_FILE.match(url) and ENCODED_DELIMITER.search(path):
                # Django would split the decoded name at the '?' or '#' and write a URL that
                # 404s; as written, the URL still reaches the unhashed original.
                line = first_line + match.string.count("\n", 0, position)
                reason = "a '?' or '#' in a file name cannot be hashed; left unhashed"
                missing.append(MissingReference(name, line, url, matched, reason))
                return matched
            try:
                return str(django_converter(match))
            except MissingTarget as exc:
                line = first_line + match.string.count("\n", 0, position)
                missing.append(MissingReference(name, line, str(exc), matched))
            except _Cycle as cycle:
                self._record_cycle(cycle.key)
            return matched

        return convert

    def _record_cycle(self, key: str) -> None:
        members = self._in_progress[self._in_progress.index(key) :]
        names = tuple(sorted(self.sources[k].name for k in members))
        if frozenset(names) not in self._cycle_keys:
            self._cycle_keys.add(frozenset(names))
            self.result.cycles.append(names)

    # -- resolving references -------------------------------------------------------------

    def resolve(self, key: str) -> str:
        """The final name of the file under manifest key ``key``, as Django's
        ``_stored_name`` gives it once every file is final."""
        if key in self.sources:
            return self.final_name(key)
        # Not a collected name as written (a query string, say): Django hashes the file's
        # unprocessed content, which is the collected source's. Only this build's sources
        # count: an old copy left in STATIC_ROOT is not part of the build, and prune may
        # delete it from the bucket.
        naming = self.naming
        path = urlsplit(unquote(key)).path.strip()
        source = self.sources.get(naming.hash_key(naming.clean_name(path)))
        if source is None:
            raise MissingTarget(key)
        if source.name in self.prehashed:
            return key  # the bundler's name, query and fragment as written
        content: ContentFile[bytes] = (
            Prehashed(b"", source.digest) if self.content_addressed else ContentFile(source.load())
        )
        try:
            return naming.clean_name(naming.hashed_name(key, content))
        except (ValueError, SuspiciousFileOperation):
            # ValueError: no such file; SuspiciousFileOperation: it leads out of STATIC_ROOT.
            raise MissingTarget(key) from None


class Resolver:
    """Stands in for Django's ``hashed_files`` dict while one file is rewritten.

    Django's ``_stored_name`` looks a reference up as ``hashed_files.get(hash_key)``: answering
    that here lets Django's own ``url_converter`` do the rewriting while the resolution, and the
    record of it, stay the hash step's. A missing target or a cycle raises through Django's code.
    """

    def __init__(self, resolve: Callable[[str], str], refs: dict[str, str | None]) -> None:
        self._resolve = resolve
        self.refs = refs

    def get(self, key: str, default: str | None = None) -> str:
        try:
            resolved = self._resolve(key)
        except (MissingTarget, _Cycle):
            self.refs[key] = None
            raise
        self.refs[key] = resolved
        return resolved
