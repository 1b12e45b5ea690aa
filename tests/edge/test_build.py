"""With an edge, the build writes every variant the edge may ask for, and publishing checks it.

The edge code decides by name alone (assetpipe.edge.negotiation), so a file that compresses
badly, an empty file and a tiny file must have their .br/.gz too, in STATIC_ROOT and in the
bucket; a build without them must never reach the bucket.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import pytest

from assetpipe.edge.negotiation import Negotiation
from assetpipe.publish.s3 import PublishError, S3Config, publish
from assetpipe.publish.status import status
from tests.conftest import StaticProject
from tests.publish.conftest import bucket_keys

# Bytes that do not compress: without an edge they get no variants.
NOISE = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(128))
DECODE = {".br": brotli.decompress, ".gz": gzip.decompress}


def variants(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*.br")} | {
        str(p.relative_to(root)) for p in root.rglob("*.gz")
    }


@pytest.fixture
def tree(project: StaticProject, s3_endpoint: str, make_bucket: Callable[[], str]) -> StaticProject:
    project.write("css/site.css", "body { color: red; }\n" * 40)
    project.write("js/empty.js", "")
    project.write("data/noise.txt", NOISE)
    project.write("img/logo.png", b"\x89PNG\r\n\x1a\n" + NOISE)
    project.configure(
        s3={
            "bucket_name": make_bucket(),
            "location": "static",
            "endpoint_url": s3_endpoint,
            "region_name": "us-east-1",
            # A CDN picks the variants in the bucket.
            "variants": "static_root_and_bucket",
        }
    )
    return project


def negotiation_of(project: StaticProject) -> Negotiation:
    from django.contrib.staticfiles.storage import staticfiles_storage

    negotiation = staticfiles_storage.negotiation  # type: ignore[attr-defined]
    assert isinstance(negotiation, Negotiation)
    return negotiation


def test_without_an_edge_variants_are_kept_only_when_worth_it(tree: StaticProject) -> None:
    tree.collect()
    found = variants(tree.root)
    assert "css/site.css.br" in found
    assert not {n for n in found if n.startswith(("data/noise", "js/empty"))}


def test_every_negotiable_file_has_every_variant_locally_and_in_the_bucket(
    tree: StaticProject, s3_client: Any
) -> None:
    tree.configure(cdn="cloudfront")
    tree.collect()
    negotiation = negotiation_of(tree)
    built = {name for pair in tree.manifest().items() for name in pair}
    negotiable = {name for name in built if negotiation.negotiable(f"static/{name}")}
    assert {"data/noise.txt", "js/empty.js", "css/site.css"} <= negotiable
    assert not {name for name in negotiable if name.endswith(".png")}
    for name in negotiable:
        original = (tree.root / name).read_bytes()
        for suffix, decode in DECODE.items():
            assert decode((tree.root / (name + suffix)).read_bytes()) == original, name + suffix

    bucket = str(tree.options["s3"]["bucket_name"])  # type: ignore[index]
    keys = bucket_keys(s3_client, bucket, "static/")
    for key in keys:
        if negotiation.negotiable(key):
            assert {key + ".br", key + ".gz"} <= keys, key
    head = s3_client.head_object(
        Bucket=bucket, Key=f"static/{tree.manifest()['data/noise.txt']}.br"
    )
    assert head["ContentEncoding"] == "br"
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert "immutable" in head["CacheControl"]


def test_turning_the_edge_off_drops_the_variants_that_are_not_worth_it(
    tree: StaticProject,
) -> None:
    tree.configure(cdn="cloudflare")
    tree.collect()
    assert "data/noise.txt.br" in variants(tree.root)
    tree.options.pop("cdn")
    tree.configure()
    tree.collect()
    assert not {n for n in variants(tree.root) if n.startswith("data/noise")}
    tree.configure(cdn="cloudflare")
    tree.collect()
    assert {"data/noise.txt.br", "data/noise.txt.gz"} <= variants(tree.root)


def test_a_build_missing_a_variant_the_edge_needs_is_never_published(
    tree: StaticProject, s3_client: Any
) -> None:
    bucket = str(tree.options["s3"]["bucket_name"])  # type: ignore[index]
    s3 = dict(tree.options.pop("s3"))  # type: ignore[call-overload]
    tree.configure()
    tree.collect()  # no edge: data/noise.txt has no variants
    config = S3Config.from_options({**s3, "variants": "static_root_and_bucket"})
    negotiation = Negotiation("static/", ("br", "gzip"), frozenset({"png"}))
    with pytest.raises(PublishError) as raised:
        publish(tree.root, "staticfiles.json", config, negotiation=negotiation)
    message = str(raised.value)
    assert ".br is missing" in message or ".gz is missing" in message
    assert "nothing was published" in message
    assert not bucket_keys(s3_client, bucket)


def test_status_names_the_variants_an_edge_would_miss_in_the_bucket(tree: StaticProject) -> None:
    tree.collect()  # published without an edge: data/noise.txt has no variants in the bucket
    old = tree.manifest()["data/noise.txt"]
    s3 = dict(tree.options["s3"])  # type: ignore[call-overload]
    negotiation = Negotiation("static/", ("br", "gzip"), frozenset({"png"}))
    before = status(
        tree.root, "staticfiles.json", S3Config.from_options(s3), negotiation=negotiation
    )
    assert {"data/noise.txt.br", f"{old}.gz"} <= set(before.edge_missing)
    assert not before.in_sync
    assert any(line.startswith("edge: ") and "are missing" in line for line in before.lines())

    tree.write("data/noise.txt", NOISE[::-1])
    tree.configure(cdn="cloudfront")
    tree.collect()  # every variant of this build; the old build's hashed noise lacks its own
    config = S3Config.from_options({**s3, "variants": "static_root_and_bucket"})
    after = status(tree.root, "staticfiles.json", config, negotiation=negotiation)
    assert after.edge_missing == [f"{old}.br", f"{old}.gz"]
    assert not after.in_sync
