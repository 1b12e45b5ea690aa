"""Import paths that moved in 0.2 fail with a message naming the new path."""

from __future__ import annotations

import importlib
import re

import pytest

from assetpipe import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_path_names_the_new_one(old: str, new: str) -> None:
    with pytest.raises(ModuleNotFoundError) as raised:
        importlib.import_module(old)
    assert str(raised.value).endswith(f"moved {old} to {new}")
    # The new path (the first one named) is there.
    importlib.import_module(new.split()[0])


def test_a_module_inside_a_moved_package_names_where_it_went() -> None:
    with pytest.raises(
        ModuleNotFoundError, match=re.escape("its settings to assetpipe.conf.images")
    ):
        importlib.import_module("assetpipe.images.settings")
    with pytest.raises(ModuleNotFoundError, match=re.escape("moved assetpipe.records to ")):
        importlib.import_module("assetpipe.records.webpack_stats")
