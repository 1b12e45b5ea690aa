"""A build's id: 12 hex digits of its manifest's MD5, however it is learned."""

from __future__ import annotations

from datetime import UTC, datetime

from assetpipe.digests import md5_bytes
from assetpipe.publish.history import (
    build_id,
    build_id_of_md5,
    history_entries,
    history_name,
    live_build,
)
from assetpipe.publish.listing import RemoteObject

MANIFEST = b'{"paths": {"app.js": "app.0123456789ab.js"}, "version": "1.1", "hash": "x"}'


def test_the_manifest_the_listing_and_the_history_name_give_one_id() -> None:
    # Publishing names the history copy from the bytes, prune and status read the live one
    # from the listing's ETag (the manifest's MD5): the three must agree.
    expected = md5_bytes(MANIFEST)[:12]
    live = RemoteObject(
        "static/staticfiles.json", len(MANIFEST), md5_bytes(MANIFEST), datetime.now(UTC)
    )
    (entry,) = history_entries([history_name(MANIFEST)])
    assert build_id(MANIFEST) == live_build(live) == entry.digest == expected
    assert build_id_of_md5(md5_bytes(MANIFEST)) == expected


def test_a_multipart_etag_is_a_build_of_its_own() -> None:
    live = RemoteObject("static/staticfiles.json", 1, "0" * 32 + "-2", datetime.now(UTC))
    assert live_build(live) == "0" * 32 + "-2"
