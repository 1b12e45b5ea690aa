"""The bucket as a build cache: a fresh runner fetches the variants the last build published.

Each "runner" is a STATIC_ROOT and a state directory of its own, built from the same sources
against the same bucket; the first publishes with ``"variants": "static_root_and_bucket"``, the
next ones start with nothing local. Every request goes through the test proxy, which logs what
was sent.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from assetpipe.build.compress import ENCODINGS
from assetpipe.publish.bucket_cache import DIRECT_GETS
from assetpipe.publish.s3 import S3Config
from tests.publish.conftest import FaultProxy, Respond, bucket_keys

STORAGE = "assetpipe.storage.AssetPipeStorage"
# Each content is in STATIC_ROOT twice, original and hashed copy: "2 files compressed" is one.
# Enough contents that a fresh runner lists the bucket rather than asking file by file.
FILES = {
    **{
        f"css/part{i}.css": (f".part{i} {{ color: #{i:03x}; margin: {i}px; }}\n" * 40).encode()
        for i in range(12)
    },
    **{
        f"js/mod{i}.js": (f"export const value{i} = {i};\nconsole.log(value{i});\n" * 30).encode()
        for i in range(12)
    },
    "css/site.css": b'@import url("part0.css");\nbody { background: url("../img/dot.png"); }\n'
    * 20,
    "img/dot.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
}


def variant_gets(proxy: FaultProxy) -> list[str]:
    return [r.key for r in proxy.log if r.kind == "GET" and r.key.endswith((".br", ".gz"))]


class Runner:
    """One machine's build of the shared sources: its own STATIC_ROOT and state."""

    def __init__(self, base: Path, source: Path, settings: Settings, s3: dict[str, Any]) -> None:
        self.root = base / "static"
        self.state_dir = base / "state"
        self.source = source
        self.settings = settings
        self.s3 = s3

    def collect(self, cdn: str | None = None, **s3_overrides: Any) -> str:
        self.settings.STATICFILES_DIRS = [str(self.source)]
        self.settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
        self.settings.STATIC_ROOT = str(self.root)
        self.settings.STORAGES = {
            **self.settings.STORAGES,
            "staticfiles": {
                "BACKEND": STORAGE,
                "OPTIONS": {
                    "state_dir": str(self.state_dir),
                    "s3": {**self.s3, **s3_overrides},
                    **({"cdn": cdn} if cdn is not None else {}),
                },
            },
        }
        out = io.StringIO()
        call_command("collectstatic", interactive=False, verbosity=1, stdout=out, stderr=out)
        return out.getvalue()

    def hashed(self, name: str) -> str:
        paths: dict[str, str] = json.loads((self.root / "staticfiles.json").read_text())["paths"]
        return paths[name]

    def variants(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for p in sorted(self.root.rglob("*"))
            if p.suffix in {".br", ".gz"}
        }


@pytest.fixture
def runners(
    tmp_path: Path, settings: Settings, config: Callable[..., S3Config]
) -> Callable[[str], Runner]:
    source = tmp_path / "source"
    for name, data in FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    cfg = config()
    s3 = {
        "bucket_name": cfg.bucket_name,
        "location": cfg.location,
        "endpoint_url": cfg.endpoint_url,
        "workers": 4,
        "variants": "static_root_and_bucket",
    }
    return lambda name: Runner(tmp_path / name, source, settings, s3)


def test_a_fresh_runner_fetches_every_variant_and_uploads_nothing(
    runners: Callable[[str], Runner], proxy: FaultProxy
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    proxy.clear()

    fresh = runners("fresh")
    output = fresh.collect()

    compressible = len(deploy.variants()) // 2
    assert f"0 files compressed (0 reused, {compressible} fetched from the bucket)" in output
    # The same bytes as the build that compressed them, on another machine.
    assert fresh.variants() == deploy.variants()
    counts = proxy.counts()
    assert counts["PUT"] == 0  # the bucket had everything
    # Found by listing, not a request per file; publishing plans with the same listing.
    assert counts["LIST"] == 1
    # One GET per content, of its brotli variant (gzip is cheaper to make than to fetch), by
    # its hashed name: not again for its unhashed copy (site.css's original is another content
    # than its rewritten, hashed copy).
    gets = variant_gets(proxy)
    brotli_variants = {v for name, v in deploy.variants().items() if name.endswith(".br")}
    assert len(gets) == len(set(gets)) == len(brotli_variants)
    assert all(key.endswith(".br") for key in gets)
    assert {f"static/{name}" for name in deploy.variants()} >= set(gets)
    assert not {"static/css/part0.css.br", "static/js/mod0.js.gz"} & set(gets)
    # The next run on that runner is a no-change run: nothing fetched again.
    proxy.clear()
    assert "fetched" not in fresh.collect()
    assert proxy.counts()["GET"] + proxy.counts()["LIST"] <= 2


def test_an_altered_variant_in_the_bucket_is_detected_and_compressed_again(
    runners: Callable[[str], Runner], s3_client: Any, config: Callable[..., S3Config]
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    hashed = deploy.hashed("css/part3.css")
    key = f"static/{hashed}.br"
    bucket = config().bucket_name
    # Valid brotli, the right encoder's tag: only the bytes it decodes to give it away.
    s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=brotli.compress(b"body { display: none }"),
        Metadata={"encoder": ENCODINGS["br"].tag},
    )

    fresh = runners("fresh")
    output = fresh.collect()

    assert f"s3://{bucket}/{key} is not a br encoding of {hashed}" in output
    assert "2 files compressed" in output
    original = (fresh.root / hashed).read_bytes()
    assert brotli.decompress((fresh.root / f"{hashed}.br").read_bytes()) == original
    assert (fresh.root / f"{hashed}.br").read_bytes() == (deploy.root / f"{hashed}.br").read_bytes()


def test_a_corrupt_variant_is_never_used(
    runners: Callable[[str], Runner], s3_client: Any, config: Callable[..., S3Config]
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    hashed = deploy.hashed("js/mod5.js")
    key = f"static/{hashed}.br"
    good = (deploy.root / f"{hashed}.br").read_bytes()
    s3_client.put_object(
        Bucket=config().bucket_name,
        Key=key,
        Body=good[: len(good) // 2],
        Metadata={"encoder": ENCODINGS["br"].tag},
    )

    fresh = runners("fresh")
    output = fresh.collect()

    assert f"{key} is not a br encoding of {hashed}" in output
    assert brotli.decompress((fresh.root / f"{hashed}.br").read_bytes()) == FILES["js/mod5.js"]
    assert gzip.decompress((fresh.root / f"{hashed}.gz").read_bytes()) == FILES["js/mod5.js"]


def test_a_variant_another_encoder_made_is_compressed_here_without_a_warning(
    runners: Callable[[str], Runner], s3_client: Any, config: Callable[..., S3Config]
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    hashed = deploy.hashed("css/part1.css")
    original = (deploy.root / hashed).read_bytes()
    s3_client.put_object(
        Bucket=config().bucket_name,
        Key=f"static/{hashed}.br",
        Body=brotli.compress(original, quality=4),
        Metadata={"encoder": "brotli quality=4"},
    )

    output = runners("fresh").collect()

    assert "2 files compressed" in output
    assert "is not a" not in output
    assert (runners("fresh").root / f"{hashed}.br").read_bytes() == (
        deploy.root / f"{hashed}.br"
    ).read_bytes()


def test_a_few_missing_contents_are_asked_for_directly_without_listing(
    runners: Callable[[str], Runner], proxy: FaultProxy
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    (deploy.source / "css/new.css").write_bytes(b".new { color: red }\n" * 50)
    proxy.clear()

    output = deploy.collect()

    assert "2 files compressed" in output
    counts = proxy.counts()
    assert counts["LIST"] <= 1  # the publish's own listing only
    assert len(variant_gets(proxy)) == 1 <= DIRECT_GETS  # its brotli variant's 404


def test_a_read_only_runner_builds_from_the_bucket_and_writes_nothing(
    runners: Callable[[str], Runner], proxy: FaultProxy
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    # What S3 answers a pull request's read-only credentials for any write.
    proxy.rule = lambda request: (
        Respond(403, "AccessDenied") if request.kind in {"PUT", "POST", "DELETE"} else None
    )
    proxy.clear()
    (deploy.source / "css/part2.css").write_bytes(b".changed { color: blue }\n" * 40)

    reader = runners("pull-request")
    output = reader.collect(publish=False)

    assert "not published to" in output
    assert "fetched from the bucket" in output and "2 files compressed" in output
    assert proxy.counts()["PUT"] == proxy.counts()["POST"] == proxy.counts()["DELETE"] == 0
    assert gzip.decompress((reader.root / f"{reader.hashed('css/part2.css')}.gz").read_bytes()) == (
        b".changed { color: blue }\n" * 40
    )


def test_with_variants_in_static_root_a_fresh_runner_compresses_everything(
    runners: Callable[[str], Runner], proxy: FaultProxy
) -> None:
    runners("deploy").collect()
    proxy.clear()

    # The bucket is not the build's cache when the variants are not published.
    output = runners("fresh").collect(variants="static_root")

    assert "fetched" not in output
    assert variant_gets(proxy) == []


def test_with_variants_in_the_bucket_a_fresh_runner_leaves_them_there(
    runners: Callable[[str], Runner],
    proxy: FaultProxy,
    s3_client: Any,
    config: Callable[..., S3Config],
) -> None:
    deploy = runners("deploy")
    deploy.collect()
    published = bucket_keys(s3_client, config().bucket_name)
    (deploy.source / "css/part7.css").write_bytes(b".new { color: green }\n" * 40)
    proxy.clear()

    fresh = runners("fresh")
    output = fresh.collect(variants="bucket")

    changed = fresh.hashed("css/part7.css")
    assert "2 files compressed (0 reused, 48 left in the bucket)" in output
    # Only the changed content's variants are in STATIC_ROOT, and they were uploaded.
    assert set(fresh.variants()) == {
        f"{name}{suffix}" for name in ("css/part7.css", changed) for suffix in (".br", ".gz")
    }
    assert variant_gets(proxy) == []
    uploaded_variants = {key for key in proxy.puts() if key.endswith((".br", ".gz"))}
    assert uploaded_variants == {
        f"static/{name}{suffix}" for name in ("css/part7.css", changed) for suffix in (".br", ".gz")
    }
    assert published <= bucket_keys(s3_client, config().bucket_name)

    # The next run knows what the bucket holds: no listing for it, nothing written.
    proxy.clear()
    again = fresh.collect(variants="bucket")
    assert "0 files compressed (2 reused, 48 left in the bucket)" in again
    assert proxy.counts()["LIST"] + proxy.counts()["GET"] <= 2  # the publish's own check

    # Serving STATIC_ROOT again: the variants are fetched (and verified) into it.
    output = fresh.collect()
    assert "48 fetched from the bucket" in output
    assert set(fresh.variants()) == set(deploy.variants()) - {
        f"{name}{suffix}"
        for name in ("css/part7.css", deploy.hashed("css/part7.css"))
        for suffix in (".br", ".gz")
    } | {f"{name}{suffix}" for name in ("css/part7.css", changed) for suffix in (".br", ".gz")}


def test_a_cdn_build_with_variants_in_the_bucket_completes_it(
    runners: Callable[[str], Runner],
    proxy: FaultProxy,
    s3_client: Any,
    config: Callable[..., S3Config],
) -> None:
    deploy = runners("deploy")
    deploy.collect(cdn="cloudfront")
    proxy.clear()

    output = runners("fresh").collect(cdn="cloudfront", variants="bucket")

    assert "left in the bucket" in output and "published build" in output
    assert not [key for key in proxy.puts() if key.endswith((".br", ".gz"))]

    # A variant the edge would ask for goes missing from the bucket: the next build makes
    # that content's variants and publishes them, so the edge never meets a missing key.
    hashed = deploy.hashed("js/mod3.js")
    s3_client.delete_object(Bucket=config().bucket_name, Key=f"static/{hashed}.gz")
    proxy.clear()
    output = runners("another").collect(cdn="cloudfront", variants="bucket")
    assert "2 files compressed" in output
    assert f"static/{hashed}.gz" in proxy.puts()
    assert f"static/{hashed}.gz" in bucket_keys(s3_client, config().bucket_name)


def test_a_brotli_bomb_in_the_bucket_is_refused_with_bounded_memory(
    runners: Callable[[str], Runner], s3_client: Any, config: Callable[..., S3Config]
) -> None:
    """A few hundred bytes that decode to 256 MiB, under a variant's key with this build's
    encoder tag: decoding stops past the original's size, so the run's peak stays far below."""
    deploy = runners("deploy")
    deploy.collect()
    hashed = deploy.hashed("css/part3.css")
    key = f"static/{hashed}.br"
    bucket = config().bucket_name
    expanded = 256 << 20
    bomb = brotli.compress(bytes(expanded), quality=5)
    assert len(bomb) < 1000
    s3_client.put_object(
        Bucket=bucket, Key=key, Body=bomb, Metadata={"encoder": ENCODINGS["br"].tag}
    )

    fresh = runners("fresh")
    tracemalloc.start()
    try:
        output = fresh.collect()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert f"s3://{bucket}/{key} is not a br encoding of {hashed}" in output
    assert peak < expanded // 8
    original = (fresh.root / hashed).read_bytes()
    assert brotli.decompress((fresh.root / f"{hashed}.br").read_bytes()) == original
    # Publishing from the fresh runner put this build's bytes back over the bomb.
    assert (
        s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        == (fresh.root / f"{hashed}.br").read_bytes()
    )
