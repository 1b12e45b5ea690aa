"""The build state: round trip, and anything unexpected means starting afresh."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assetpipe.build.outputs import output_record
from assetpipe.build.state import (
    FORMAT,
    BuildState,
    MissingReference,
    PlainRecord,
    RewriteRecord,
    SourceStamp,
    state_path,
)


def filled() -> BuildState:
    state = BuildState("fp")
    state.sources.stamps["/src/a.css"] = SourceStamp(10, 123, 456, 789, "d1")
    state.hashing.plain["img.png"] = PlainRecord("d2", "img.0123456789ab.png")
    state.hashing.rewrites["a.css"] = RewriteRecord(
        "d1", {"img.png": "img.0123456789ab.png", "gone.png": None}, "a.abc.css", "d3", 42,
        (MissingReference("a.css", 3, "gone.png", "url(gone.png)"),),
    )  # fmt: skip
    state.compressing.compressed["d3"] = {"br": 20, "gzip": None}
    state.compressing.variants["a.abc.css"] = "d3"
    state.compressing.cache_garbage = 7
    state.outputs["a.abc.css"] = output_record("d3", "2a.1.2.3")
    return state


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    filled().save(path)
    loaded = BuildState.load(path, "fp")
    assert loaded.sources == filled().sources
    assert loaded.hashing == filled().hashing
    assert loaded.compressing == filled().compressing
    assert loaded.outputs == filled().outputs


def test_each_step_change_is_saved(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    filled().save(path)
    for change in (
        lambda s: s.sources.stamps.pop("/src/a.css"),
        lambda s: s.hashing.plain.pop("img.png"),
        lambda s: setattr(s.compressing, "cache_garbage", 0),
        lambda s: s.outputs.pop("a.abc.css"),
    ):
        state = BuildState.load(path, "fp")
        change(state)
        state.save(path)
        assert BuildState.load(path, "fp") == state


def test_unchanged_state_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    filled().save(path)
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    BuildState.load(path, "fp").save(path)
    assert path.stat().st_mtime_ns == before - 10**9


def test_other_fingerprint_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    filled().save(path)
    assert BuildState.load(path, "other") == BuildState("other")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"[]",
        b"{}",
        b"null",
        b'{"format": 3, "fingerprint": "fp"}',
        f'{{"format": {FORMAT}, "fingerprint": "fp", "sources": []}}'.encode(),
        b"\xff\xfe",
    ],
)
def test_corrupt_state_starts_afresh(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    state = BuildState.load(path, "fp")
    assert state == BuildState("fp")


def test_state_of_another_root_starts_afresh(tmp_path: Path) -> None:
    state = filled()
    state.root = "/srv/a/static"
    path = tmp_path / "state.json"
    state.save(path)
    assert BuildState.load(path, "fp", "/srv/a/static") == state
    assert BuildState.load(path, "fp", "/srv/b/static") == BuildState("fp", "/srv/b/static")


def test_state_path_names_the_full_root(tmp_path: Path) -> None:
    a, b = state_path(tmp_path, Path("/srv/a/static")), state_path(tmp_path, Path("/srv/b/static"))
    assert a != b and a.parent == b.parent == tmp_path
    assert a.name.startswith("static-") and a.suffix == ".json"


def test_a_large_state_is_written_in_pieces_as_one_json_document(tmp_path: Path) -> None:
    state = filled()
    for index in range(10_000):  # more than one piece of outputs and of sources
        state.outputs[f"x/{index}.css"] = output_record(f"d{index}", f"{index:x}.1.2.3")
        state.sources.stamps[f"/src/x/{index}.css"] = SourceStamp(index, 1, 2, 3, f"d{index}")
    pieces = list(state.dump())
    written = b"".join(pieces)
    assert len(pieces) > 5
    assert (
        written == json.dumps(json.loads(written), separators=(",", ":"), sort_keys=True).encode()
    )
    state.save(tmp_path / "state.json")
    loaded = BuildState.load(tmp_path / "state.json", "fp")
    assert loaded.outputs == state.outputs
    assert loaded.sources == state.sources


def test_an_output_record_that_is_not_a_string_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    filled().save(path)
    raw = json.loads(path.read_bytes())
    raw["outputs"]["a.abc.css"] = [42, 1, 2, 3, "d3"]  # the format before this one
    path.write_text(json.dumps(raw))
    assert BuildState.load(path, "fp").outputs == {}
