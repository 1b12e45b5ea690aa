"""Delete hashed objects that no recent manifest references, and nothing else."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from assetpipe.bundlers import read_prehashed
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.config import PublishError, S3Config
from assetpipe.publish.display import format_bytes
from assetpipe.publish.history import history_entries, is_history
from assetpipe.publish.inventory import RemoteObject, list_prefix
from assetpipe.publish.local import VARIANTS, read_manifest_paths

DELETE_BATCH = 1000  # DeleteObjects' limit per request
# Django's hashed names: ``name.<12 hex of the MD5>.ext`` (or without the extension).
_HASHED = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")


@dataclass(frozen=True)
class PruneResult:
    where: str
    manifests: tuple[str, ...]  # the manifests whose references were kept
    deleted: tuple[str, ...]  # keys, or keys a dry run would delete
    deleted_bytes: int
    too_young: int  # unreferenced, but younger than min-age
    requests: Mapping[str, int]
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"pruned {self.where}: {verb} {len(self.deleted):,} unreferenced objects, "
            f"{format_bytes(self.deleted_bytes)} ({self.too_young:,} younger than min-age kept; "
            f"{len(self.manifests):,} manifests kept); {sum(self.requests.values()):,} requests"
        )


def looks_hashed(name: str) -> bool:
    """Whether ``name`` (or the file a .br/.gz variant compresses) has a Django hashed name."""
    for suffix in VARIANTS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return _HASHED.search(name.rsplit("/", 1)[-1]) is not None


def prune(
    config: S3Config,
    *,
    keep: int = 3,
    min_age: float = 3600,
    manifest_name: str = "staticfiles.json",
    dry_run: bool = False,
    stdout: TextIO | None = None,
    now: datetime | None = None,
) -> PruneResult:
    """Delete hashed objects under ``location`` unreferenced by the newest ``keep`` manifests
    and older than ``min_age`` seconds. The live manifest always counts among them."""
    if not config.location:
        raise PublishError(
            f"refusing to prune {config.where}: 'location' is empty, so the whole bucket would be "
            "in scope; publish static files under a prefix"
        )
    if keep < 1 or min_age < 0:
        raise PublishError(f"prune needs keep >= 1 and min_age >= 0, got {keep} and {min_age}")
    s3 = S3Client(config)
    remote = list_prefix(s3, config.prefix)
    manifests = _newest_manifests(remote, manifest_name, keep)
    if not manifests:
        raise PublishError(
            f"refusing to prune {config.where}: it has no {manifest_name} and no manifest "
            "history, so nothing is known to be in use"
        )
    referenced: set[str] = set()
    for name in manifests:
        paths = read_manifest_paths(
            _read(s3, remote[name].key), f"s3://{config.bucket_name}/{name}"
        )
        for path in (*paths, *paths.values()):
            referenced.add(path)
            referenced.update(path + suffix for suffix in VARIANTS)
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=min_age)
    unreferenced = [
        obj
        for name, obj in sorted(remote.items())
        if name not in referenced
        and name != manifest_name
        and not is_history(name)
        and looks_hashed(name)
    ]
    unreferenced += _old_prehashed(s3, remote, manifests, referenced, manifest_name)
    old = [obj for obj in unreferenced if obj.last_modified <= cutoff]
    if dry_run and stdout is not None:
        for obj in old:
            stdout.write(f"delete {obj.key} ({format_bytes(obj.size)}, {obj.last_modified:%c})\n")
    if not dry_run:
        _delete(s3, [obj.key for obj in old])
    return PruneResult(
        where=config.where,
        manifests=tuple(manifests),
        deleted=tuple(obj.key for obj in old),
        deleted_bytes=sum(obj.size for obj in old),
        too_young=len(unreferenced) - len(old),
        requests=dict(s3.requests),
        dry_run=dry_run,
    )


def _old_prehashed(
    s3: S3Client,
    remote: Mapping[str, RemoteObject],
    kept: list[str],
    referenced: set[str],
    manifest_name: str,
) -> list[RemoteObject]:
    """Unreferenced objects that an older manifest records as prehashed (a bundler's names).

    Only read when some unreferenced object has no Django hashed name: the history, newest
    first, until each such object is accounted for or the history ends.
    """
    unknown: dict[str, list[RemoteObject]] = {}
    for name, obj in remote.items():
        if name in referenced or name == manifest_name or is_history(name) or looks_hashed(name):
            continue
        original = next((name[: -len(s)] for s in VARIANTS if name.endswith(s)), name)
        unknown.setdefault(original, []).append(obj)
    found: list[RemoteObject] = []
    for entry in history_entries(remote) if unknown else ():
        if entry.name in kept:
            continue  # what a kept manifest lists is referenced
        for name in read_prehashed(_read(s3, remote[entry.name].key)) & unknown.keys():
            found += unknown.pop(name)
        if not unknown:
            break
    return sorted(found, key=lambda obj: obj.key)


def _newest_manifests(
    remote: Mapping[str, RemoteObject], manifest_name: str, keep: int
) -> list[str]:
    """The live manifest and the history, newest first, ``keep`` distinct builds."""
    candidates: list[tuple[str, str]] = []
    live = remote.get(manifest_name)
    if live is not None:
        # A multipart ETag is no digest; it then counts as a build of its own.
        candidates.append((manifest_name, live.etag if live.multipart else live.etag[:12]))
    candidates.extend((entry.name, entry.digest) for entry in history_entries(remote))
    chosen: dict[str, str] = {}
    for name, digest in candidates:
        if len(chosen) == keep:
            break
        chosen.setdefault(digest, name)
    return list(chosen.values())


def _read(s3: S3Client, key: str) -> bytes:
    try:
        body: bytes = s3.client.get_object(Bucket=s3.config.bucket_name, Key=key)["Body"].read()
    except S3_ERRORS as exc:
        raise s3.error(exc, "reading", key) from exc
    return body


def _delete(s3: S3Client, keys: list[str]) -> None:
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        try:
            response = s3.client.delete_objects(
                Bucket=s3.config.bucket_name,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
        except S3_ERRORS as exc:
            raise s3.error(exc, "deleting", batch[0]) from exc
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise PublishError(
                f"deleting s3://{s3.config.bucket_name}/{first.get('Key')} failed at "
                f"{s3.config.endpoint}: {first.get('Code')} {first.get('Message', '')} "
                f"({len(errors):,} keys not deleted)".replace("  ", " ")
            )
