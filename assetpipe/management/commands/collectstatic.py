"""Django's collectstatic, with its output streams and verbosity handed to assetpipe's build.

Django runs the command of the first app in INSTALLED_APPS that has one, so this one is used
when ``assetpipe`` comes before ``django.contrib.staticfiles``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any, SupportsIndex

from django.contrib.staticfiles.management.commands import collectstatic

from assetpipe.build.report import Console, reporting_to


class Command(collectstatic.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django asks "already copied / already unmodified?" of these lists once per file:
        # quadratic in the tree (seconds on 20,000 files), constant with a set beside them.
        self.copied_files = PathList()
        self.symlinked_files = PathList()
        self.unmodified_files = PathList()

    def handle(self, **options: Any) -> str | None:
        console = Console(self.stdout, self.stderr, int(options["verbosity"]))
        # Links are made by the command itself, past the storage, so its scan would not see
        # them; a dry run changes nothing and takes no lock.
        collecting = getattr(self.storage, "collecting", None)
        if collecting is None or options["link"] or options["dry_run"]:
            collecting = nullcontext
        with reporting_to(console), collecting():
            return super().handle(**options)


class PathList(list[str]):
    """A list of paths whose ``in`` is a set lookup; every change keeps the set in step."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        super().__init__(paths)
        self._members = set(self)

    def __contains__(self, path: object) -> bool:
        return path in self._members

    def append(self, path: str) -> None:
        super().append(path)
        self._members.add(path)

    def extend(self, paths: Iterable[str]) -> None:
        super().extend(paths)
        self._members = set(self)

    def insert(self, index: SupportsIndex, path: str) -> None:
        super().insert(index, path)
        self._members.add(path)

    def remove(self, path: str) -> None:
        super().remove(path)
        self._members = set(self)

    def pop(self, index: SupportsIndex = -1) -> str:
        path = super().pop(index)
        self._members = set(self)
        return path

    def clear(self) -> None:
        super().clear()
        self._members.clear()

    def __iadd__(self, paths: Iterable[str]) -> PathList:  # type: ignore[override,misc]
        self.extend(paths)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._members = set(self)

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._members = set(self)
