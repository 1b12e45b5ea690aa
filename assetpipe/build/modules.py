"""The module-graph step: which JS modules import which, statically and through ``import()``.

The import specifiers are found with the hash step's own ES-module patterns (``JS_MODULE_PATTERNS``,
comments and strings skipped the same way), whether or not ``js_module_imports`` rewrites them,
and read from the sources as written, so the graph is in manifest keys. Specifiers are cached by
the source's content digest, so a run where nothing changed reads no module.

The graph serves the template tags: ``{% importmap %}`` maps the modules chosen by the
``import_map`` patterns, ``{% modulepreload %}`` follows the static imports.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from assetpipe.build.hashing import JS_MODULE_PATTERNS, IgnoredBlocks, Rule, compile_rules
from assetpipe.build.sources import Source
from assetpipe.build.state import IntegrityState

DEFAULT_IMPORT_MAP = ("*.mjs",)
MODULE_PATTERNS = ("*.js", "*.mjs")

_RULES: list[Rule] = compile_rules((JS_MODULE_PATTERNS,), "", None)[JS_MODULE_PATTERNS[0]]

Specifiers = tuple[list[str], list[str]]  # (static imports, dynamic import() calls)


def find_specifiers(text: str) -> Specifiers:
    """The relative and absolute import specifiers of a module, in source order, each once."""
    static: list[str] = []
    dynamic: list[str] = []
    for rule in _RULES:
        found = dynamic if rule.template.startswith("import(") else static
        for url in _matches(rule.pattern, text, IgnoredBlocks(rule.ignored, text)):
            if url not in found:
                found.append(url)
    return static, dynamic


def _matches(pattern: re.Pattern[str], text: str, blocks: IgnoredBlocks) -> Iterator[str]:
    """Each match's ``url`` outside comments and strings (the hash step's rule). Unlike a plain
    ``finditer``, a match that starts in a comment (``// import maps ... from "./a.mjs"``) does
    not swallow the code after it: the search resumes where the comment ends."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        block = blocks.around(match.start())
        if block is not None:
            position = block[1]
            continue
        yield match.group("url")
        position = match.end()


def resolve_specifier(module: str, specifier: str, static_path: str) -> str | None:
    """The collected name ``specifier`` names from ``module``, or None if outside the static tree.

    ``static_path`` is STATIC_URL's path (``/static/``), for specifiers written from the root.
    """
    path = unquote(urlsplit(specifier).path)
    if path.startswith("/"):
        if not path.startswith(static_path):
            return None
        name = path[len(static_path) :]
    else:
        name = posixpath.join(posixpath.dirname(module), path)
    name = posixpath.normpath(name)
    if name.startswith("../") or name in ("..", "."):
        return None
    return name


def module_graph(
    sources: Mapping[str, Source],
    state: IntegrityState,
    *,
    import_map: Collection[str],
    static_path: str,
    key_for: Callable[[str], str],
) -> dict[str, dict[str, Any]]:
    """``staticfiles.json``'s ``"modules"``: for each mapped module and each JS module with
    imports, its manifest key -> ``{"mapped", "imports", "dynamic"}`` (manifest keys)."""
    patterns = re.compile("|".join(fnmatch.translate(p) for p in import_map) or "(?!)")
    scanned = re.compile("|".join(fnmatch.translate(p) for p in (*MODULE_PATTERNS, *import_map)))
    previous = state.imports
    kept: dict[str, Specifiers] = {}
    graph: dict[str, dict[str, Any]] = {}
    for key in sorted(sources):
        source = sources[key]
        if not scanned.match(source.name):
            continue
        specifiers = kept.get(source.digest) or previous.get(source.digest)
        if specifiers is None:
            specifiers = find_specifiers(source.load().decode("utf-8", "replace"))
        kept[source.digest] = specifiers
        imports, dynamic = (
            _keys(source.name, found, sources, static_path, key_for) for found in specifiers
        )
        mapped = patterns.match(source.name) is not None
        if mapped or imports or dynamic:
            graph[key] = {"mapped": mapped, "imports": imports, "dynamic": dynamic}
    state.imports = kept
    return graph


def _keys(
    module: str,
    specifiers: list[str],
    sources: Mapping[str, Source],
    static_path: str,
    key_for: Callable[[str], str],
) -> list[str]:
    keys: list[str] = []
    for specifier in specifiers:
        name = resolve_specifier(module, specifier, static_path)
        key = None if name is None else key_for(name)
        # A missing target is the hash step's to report; the graph only links collected files.
        if key is not None and key in sources and key not in keys:
            keys.append(key)
    return keys
