"""The state's images part: saved only while on, a round trip, and a bad part alone dropped."""

from __future__ import annotations

import json
from pathlib import Path

from assetpipe.build.state import BuildState, ImageRecord, ImageState


def with_images() -> BuildState:
    state = BuildState("fp")
    state.compressing.compressed["d3"] = {"br": 20, "gzip": None}
    state.images = ImageState(
        key="k",
        libraries="PIL;_avif.so:1:2\nPillow 13.0.0",
        images={
            "d1": ImageRecord(1200, 800, {"avif": 100, "webp": None}),
            "d2": ImageRecord(0, 0, {"avif": None, "webp": None}, "animated image"),
        },
        variants={"a.jpg": "d1"},
        cache_garbage=3,
    )
    return state


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with_images().save(path)
    assert BuildState.load(path, "fp") == with_images()


def test_not_saved_while_empty(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    BuildState("fp").save(path)
    assert "images" not in json.loads(path.read_bytes())


def test_a_bad_images_part_keeps_the_rest_and_the_names_of_its_variants(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with_images().save(path)
    raw = json.loads(path.read_bytes())
    del raw["images"]["libraries"]  # as a state written by another version
    path.write_text(json.dumps(raw))
    loaded = BuildState.load(path, "fp")
    assert loaded.compressing.compressed == {"d3": {"br": 20, "gzip": None}}
    assert loaded.images == ImageState(variants={"a.jpg": "d1"})
