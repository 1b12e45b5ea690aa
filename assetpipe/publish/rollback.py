"""Make an earlier build the live manifest again, once every object it references is there.

1. list the bucket under ``location`` (the same one listing a publish starts with);
2. pick the build: ``to`` names it, ``previous`` takes the newest build in the history that is
   not the live one;
3. read its history copy and check that every hashed name it references is in the listing:
   prune may have deleted some, and a manifest naming a missing object breaks pages;
4. only then write a new history copy (so prune sees it as the newest build) and the live
   manifest, in that order, as a publish does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from assetpipe.conf.s3 import BUILD_ID, PublishError, S3Config
from assetpipe.digests import md5_bytes
from assetpipe.naming import MANIFEST_NAME
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import (
    HistoryEntry,
    build_id_of_md5,
    find_build,
    history_entries,
    history_name,
    live_build,
    newest_builds,
)
from assetpipe.publish.inventory import list_prefix
from assetpipe.publish.listing import RemoteObject
from assetpipe.publish.local import read_manifest_paths
from assetpipe.publish.upload import put_manifest

MISSING_SHOWN = 5  # missing objects named in the refusal; the count says how many in all


@dataclass(frozen=True)
class RollbackResult:
    where: str
    build: str  # the build made live
    replaced: str | None  # the build that was live, if any
    checked: int  # objects the build references, all found in the bucket
    changed: bool  # False for a dry run, or when the build already was live
    requests: int

    def summary(self) -> str:
        was = f" (was {self.replaced})" if self.replaced else ""
        if self.replaced == self.build:
            head = f"build {self.build} is already live in {self.where}; nothing changed"
        elif self.changed:
            head = f"rolled back {self.where} to build {self.build}{was}"
        else:
            head = f"dry run: would roll back {self.where} to build {self.build}{was}"
        plural = "s" if self.requests != 1 else ""
        return (
            f"{head}; {self.checked:,} referenced objects present; "
            f"{self.requests:,} request{plural}"
        )


def rollback(
    config: S3Config,
    *,
    to: str | None = None,
    manifest_name: str = MANIFEST_NAME,
    dry_run: bool = False,
    stdout: TextIO | None = None,
) -> RollbackResult:
    """Make build ``to`` (or, with ``to=None``, the previous build) the live manifest.

    Raises PublishError, changing nothing, when the build is unknown or an object it references
    is missing; if writing fails, the live manifest is the old one or the new one, both complete.
    """
    with S3Client(config) as s3:
        remote = list_prefix(s3, config.prefix)
        live = remote.get(manifest_name)
        current = live_build(live) if live is not None else None
        target = _choose(config, history_entries(remote), to, current)
        manifest = _read_build(s3, target)
        checked = _check_objects(config, manifest, target, remote)
        changed = not dry_run and target.digest != current
        if changed:
            _make_live(s3, manifest, manifest_name)
    if dry_run and stdout is not None and target.digest != current:
        stdout.write(
            f"upload {config.key('manifests/')}<time>-{target.digest}-<sha256>.json (history)\n"
        )
        stdout.write(f"upload {config.key(manifest_name)} (build {target.digest}; after it)\n")
    return RollbackResult(
        where=config.where,
        build=target.digest,
        replaced=current,
        checked=checked,
        changed=changed,
        requests=sum(s3.requests.values()),
    )


def _choose(
    config: S3Config, history: list[HistoryEntry], to: str | None, current: str | None
) -> HistoryEntry:
    if to is not None:
        if not BUILD_ID.fullmatch(to):
            raise PublishError(f"{to!r} is not a build id (12 hex digits, as status shows)")
        entry = find_build(history, to)
        if entry is None:
            raise PublishError(
                f"{config.where} holds no build {to}; newest builds there: {newest_builds(history)}"
            )
        return entry
    # The history is in order of going live, so this is the build live before this one.
    entry = next((entry for entry in history if entry.digest != current), None)
    if entry is None:
        raise PublishError(
            f"{config.where} has no build before {current or 'the live one'} to roll back to; "
            f"builds there: {newest_builds(history)}"
        )
    return entry


def _read_build(s3: S3Client, entry: HistoryEntry) -> bytes:
    key = s3.config.key(entry.name)
    try:
        data: bytes = s3.client.get_object(Bucket=s3.config.bucket_name, Key=key)["Body"].read()
    except S3_ERRORS as exc:
        raise s3.error(exc, "reading", key) from exc
    if not entry.holds(data):
        raise PublishError(
            f"s3://{s3.config.bucket_name}/{key} does not hold build {entry.digest}: it was "
            "changed after publishing; nothing was changed"
        )
    return data


def _check_objects(
    config: S3Config, manifest: bytes, entry: HistoryEntry, remote: dict[str, RemoteObject]
) -> int:
    """How many hashed names the build references, after checking the bucket has each."""
    source = f"s3://{config.bucket_name}/{config.key(entry.name)}"
    referenced = set(read_manifest_paths(manifest, source).values())
    missing = sorted(config.key(name) for name in referenced if name not in remote)
    if missing:
        shown = ", ".join(missing[:MISSING_SHOWN])
        more = f" and {len(missing) - MISSING_SHOWN:,} more" if len(missing) > MISSING_SHOWN else ""
        raise PublishError(
            f"cannot roll back {config.where} to build {entry.digest}: {len(missing):,} of the "
            f"{len(referenced):,} objects it references are no longer in the bucket (pruned?): "
            f"{shown}{more}; nothing was changed. Publish that build again instead."
        )
    return len(referenced)


def _make_live(s3: S3Client, manifest: bytes, manifest_name: str) -> None:
    md5 = md5_bytes(manifest)
    try:
        # History first, as a publish does: prune then keeps the build before it is live.
        put_manifest(s3, s3.config.key(history_name(manifest)), manifest, md5)
        put_manifest(s3, s3.config.key(manifest_name), manifest, md5)
    except PublishError as exc:
        raise PublishError(
            f"{exc}; the live manifest is the one before or build {build_id_of_md5(md5)}, "
            "each complete: run the rollback again"
        ) from exc
