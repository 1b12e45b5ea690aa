"""The validation kit every option group is read with: one message format, one did-you-mean.

A check takes the option's place in the settings (``where``, as the user writes it) and its value,
and returns the value normalised or raises ``ImproperlyConfigured``. Every message reads the same:

    assetpipe: STORAGES["staticfiles"]["OPTIONS"]["s3"]["workers"] is 0 (int); expected an
    integer >= 1.

An unknown key is named with its closest match, and a key renamed or removed in a release says
what replaced it, so an upgrade fails at start-up (and in ``manage.py check``) with the fix.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

# Where the static storage's options live; every group is a key below it.
OPTIONS = 'STORAGES["staticfiles"]["OPTIONS"]'

# The release that renamed or removed the options listed as retired.
RENAMED_IN = "0.2"

Check = Callable[[str, object], T]


def key(where: str, name: object) -> str:
    """``where`` one level down: ``OPTIONS["s3"]``."""
    return f'{where}["{name}"]' if isinstance(name, str) else f"{where}[{name!r}]"


def invalid(where: str, value: object, expected: str) -> ImproperlyConfigured:
    """The one message for a value that is not accepted."""
    return ImproperlyConfigured(
        f"assetpipe: {where} is {value!r} ({type(value).__name__}); expected {expected}."
    )


def conflict(where: str, problem: str) -> ImproperlyConfigured:
    """A value valid alone that the other options make wrong: ``problem`` says why and how."""
    return ImproperlyConfigured(f"assetpipe: {where} {problem}.")


def did_you_mean(word: object, choices: Collection[str]) -> str:
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, choices, n=1)
    return f' (did you mean "{matches[0]}"?)' if matches else ""


def quoted(names: Collection[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


# --- checks ----------------------------------------------------------------------------------


def boolean(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise invalid(where, value, "True or False")
    return value


def integer(low: int, high: int | None = None) -> Check[int]:
    """An int (not a bool) from ``low`` up to ``high`` included."""
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"

    def check(where: str, value: object) -> int:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            raise invalid(where, value, expected)
        return value

    return check


def workers(where: str, value: object) -> int | None:
    """A thread count; None for one per core."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(where, value, "None (one thread per core) or an integer >= 1")
    return value


def seconds(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(where, value, "a number of seconds >= 0")
    return float(value)


def string(*, empty: bool = False) -> Check[str]:
    expected = "a string" if empty else "a non-empty string"

    def check(where: str, value: object) -> str:
        if not isinstance(value, str) or (not empty and not value):
            raise invalid(where, value, expected)
        return value

    return check


def optional(check: Check[T], meaning: str = "") -> Check[T | None]:
    """None, or what ``check`` accepts; ``meaning`` says what None does."""

    def check_optional(where: str, value: object) -> T | None:
        if value is None:
            return None
        try:
            return check(where, value)
        except ImproperlyConfigured as error:
            expected = str(error).rpartition("; expected ")[2].rstrip(".")
            none = f"None ({meaning})" if meaning else "None"
            raise invalid(where, value, f"{none} or {expected}") from None

    return check_optional


def choice(*choices: str) -> Check[str]:
    """One of ``choices``, spelt exactly."""

    def check(where: str, value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            raise invalid(where, value, f"one of {quoted(choices)}{hint}")
        return value

    return check


def names_from(choices: Collection[str], what: str) -> Check[tuple[str, ...]]:
    """A list of names from ``choices``, each at most once; ``what`` names one in messages."""

    def check(where: str, value: object) -> tuple[str, ...]:
        listed = f"a list of {what}s from {quoted(choices)}"
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise invalid(where, value, listed)
        for name in value:
            if name not in choices:
                hint = did_you_mean(name, choices)
                raise invalid(where, value, f"{listed}; {name!r} is none of them{hint}")
        if len(set(value)) != len(value):
            raise invalid(where, value, f"each {what} at most once")
        return tuple(value)

    return check


def globs(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise invalid(where, value, 'a list of glob patterns, e.g. ["*.mjs", "app/js/*.js"]')
    if not all(isinstance(p, str) and p for p in value):
        raise invalid(where, value, "a list of non-empty glob pattern strings")
    return tuple(value)


def extensions(where: str, value: object) -> frozenset[str]:
    """File extensions, lower case and without their dot."""
    expected = 'a list of file extensions, e.g. ["pdf", "svgz"]'
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise invalid(where, value, expected)
    if not all(isinstance(e, str) and e.lstrip(".") for e in value):
        raise invalid(where, value, expected)
    return frozenset(e.lower().lstrip(".") for e in value)


def directory(where: str, value: object) -> str | None:
    if value is None:
        return None
    path = os.fspath(value) if isinstance(value, str | os.PathLike) else None
    if not isinstance(path, str) or not path:
        raise invalid(where, value, "None or a directory path (a str or pathlib.Path)")
    return path


def paths(where: str, value: object) -> tuple[str, ...]:
    expected = 'a list of file paths, e.g. [BASE_DIR / "frontend" / "meta.json"]'
    if isinstance(value, str | os.PathLike) or not isinstance(value, list | tuple):
        raise invalid(where, value, expected)
    if not all(isinstance(path, str | os.PathLike) and str(path) for path in value):
        raise invalid(where, value, expected)
    return tuple(os.fspath(path) for path in value)


# --- groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retired:
    """An option renamed or removed: what the message says after "was ... in assetpipe 0.2"."""

    # The new name in the same group, or another group's option as its full place; None: removed.
    replacement: str | None
    instead: str = ""  # what to write instead; for a removed option, what to do

    def message(self, where: str) -> str:
        if self.replacement is None:
            return f"assetpipe: {where} was removed in assetpipe {RENAMED_IN}: {self.instead}."
        how = f": {self.instead}" if self.instead else ""
        if "[" in self.replacement:  # another group's option, written as its full place
            renamed = f"was moved to {self.replacement} in assetpipe {RENAMED_IN}"
        else:
            renamed = f'was renamed to "{self.replacement}" in assetpipe {RENAMED_IN}'
        return f"assetpipe: {where} {renamed}{how}."


def renamed(replacement: str, instead: str = "") -> Retired:
    return Retired(replacement, instead)


def removed(instead: str) -> Retired:
    return Retired(None, instead)


@dataclass
class Group:
    """A dict of options read with a check per key: the values given, checked; every problem."""

    values: dict[str, Any] = field(default_factory=dict)
    rest: dict[str, Any] = field(default_factory=dict)  # keys passed on as they are
    problems: list[ImproperlyConfigured] = field(default_factory=list)

    def raise_first(self) -> None:
        if self.problems:
            raise self.problems[0]


def read_group(
    where: str,
    value: object,
    checks: Mapping[str, Check[Any]],
    *,
    retired: Mapping[str, Retired] | None = None,
    required: Mapping[str, str] | None = None,
    passed_on: Collection[str] = (),
    passed_on_to: str = "",
) -> Group:
    """Check each key of the dict ``value`` with its check. ``retired``: keys that fail naming
    their replacement; ``required``: keys that must be there, with what each expects;
    ``passed_on``: keys kept in ``rest`` unchecked, for ``passed_on_to`` (named in messages)."""
    group = Group()
    if not isinstance(value, Mapping):
        group.problems.append(invalid(where, value, "a dict"))
        return group
    retired = retired or {}
    for name, item in value.items():
        here = key(where, name)
        if name in checks:
            try:
                group.values[name] = checks[name](here, item)
            except ImproperlyConfigured as problem:
                group.problems.append(problem)
        elif name in passed_on:
            group.rest[name] = item
        elif name in retired:
            group.problems.append(ImproperlyConfigured(retired[name].message(here)))
        else:
            group.problems.append(_unknown(here, name, checks, passed_on, passed_on_to))
    for name, expected in (required or {}).items():
        if name not in value:
            group.problems.append(ImproperlyConfigured(
                f"assetpipe: {key(where, name)} is missing; expected {expected}."
            ))  # fmt: skip
    return group


def _unknown(
    where: str,
    name: object,
    checks: Collection[str],
    passed_on: Collection[str],
    passed_on_to: str,
) -> ImproperlyConfigured:
    known = ", ".join(sorted(checks))
    others = f"; {passed_on_to} takes {', '.join(sorted(passed_on))}" if passed_on else ""
    return ImproperlyConfigured(
        f"assetpipe: {where} is not an option{did_you_mean(name, [*checks, *passed_on])}; "
        f"expected one of {known}{others}."
    )
