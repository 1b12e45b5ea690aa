"""Delete hashed objects that no recent manifest references, and nothing else."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from assetpipe.build.report import format_bytes
from assetpipe.conf.s3 import PublishError, S3Config
from assetpipe.naming import (
    IMAGE_VARIANTS,
    MANIFEST_NAME,
    VARIANT_SUFFIXES,
    image_variant_name,
    immutable_names,
    is_raster_image,
    looks_hashed_or_variant,
    manifest_deltas,
    read_paths,
    variant_name,
    variant_original,
)
from assetpipe.publish.client import S3_ERRORS, S3Client
from assetpipe.publish.history import history_entries, is_history, live_build, newest_builds
from assetpipe.publish.inventory import list_prefix
from assetpipe.publish.listing import RemoteObject
from assetpipe.publish.local import read_manifest_paths

DELETE_BATCH = 1000  # DeleteObjects' limit per request


@dataclass(frozen=True)
class KeptBuild:
    digest: str  # the build id
    name: str  # the manifest copy read for its references: the live one or a history copy
    reasons: tuple[str, ...]  # why prune keeps it, e.g. ("live", "among the newest 3")

    def describe(self) -> str:
        return f"keep build {self.digest} ({', '.join(self.reasons)})"


@dataclass(frozen=True)
class PruneResult:
    where: str
    manifests: tuple[str, ...]  # the manifests whose references were kept
    deleted: tuple[str, ...]  # keys, or keys a dry run would delete
    deleted_bytes: int
    too_young: int  # unreferenced, but younger than min-age
    requests: Mapping[str, int]
    dry_run: bool = False
    builds: tuple[KeptBuild, ...] = ()  # the builds whose references were kept, newest first

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"pruned {self.where}: {verb} {len(self.deleted):,} unreferenced objects, "
            f"{format_bytes(self.deleted_bytes)} ({self.too_young:,} younger than min-age kept; "
            f"{len(self.manifests):,} builds kept); {sum(self.requests.values()):,} requests"
        )


def prune(
    config: S3Config,
    *,
    keep: int = 3,
    min_age: float = 3600,
    keep_builds: Collection[str] = (),
    manifest_name: str = MANIFEST_NAME,
    dry_run: bool = False,
    stdout: TextIO | None = None,
    now: datetime | None = None,
) -> PruneResult:
    """Delete hashed objects under ``location`` unreferenced by the newest ``keep`` manifests
    and older than ``min_age`` seconds. The live manifest always counts among them, and so do
    the builds named in ``keep_builds`` (pinned app servers) and builds published (or rolled
    back to) within ``min_age``."""
    _check_arguments(config, keep, min_age)
    with S3Client(config) as s3:
        remote = list_prefix(s3, config.prefix)
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=min_age)
        builds = kept_builds(remote, manifest_name, keep, keep_builds, cutoff)
        _check_pinned(config, remote, builds, keep_builds)
        manifests = [build.name for build in builds]
        if not manifests:
            raise PublishError(
                f"refusing to prune {config.where}: it has no {manifest_name} and no manifest "
                "history, so nothing is known to be in use"
            )
        referenced = _referenced(s3, remote, manifests)
        kept = {build.digest for build in builds}
        unreferenced = _old_outputs(s3, remote, kept, referenced, manifest_name)
        old = [obj for obj in unreferenced if obj.last_modified <= cutoff]
        if not dry_run:
            _delete(s3, [obj.key for obj in old])
    if dry_run and stdout is not None:
        for obj in old:
            stdout.write(f"delete {obj.key} ({format_bytes(obj.size)}, {obj.last_modified:%c})\n")
        for build in builds:
            stdout.write(build.describe() + "\n")
    return PruneResult(
        where=config.where,
        manifests=tuple(manifests),
        deleted=tuple(obj.key for obj in old),
        deleted_bytes=sum(obj.size for obj in old),
        too_young=len(unreferenced) - len(old),
        requests=dict(s3.requests),
        dry_run=dry_run,
        builds=tuple(builds),
    )


def _check_arguments(config: S3Config, keep: int, min_age: float) -> None:
    if not config.location:
        raise PublishError(
            f"refusing to prune {config.where}: 'location' is empty, so the whole bucket would be "
            "in scope; publish static files under a prefix"
        )
    if keep < 1 or min_age < 0:
        raise PublishError(f"prune needs keep >= 1 and min_age >= 0, got {keep} and {min_age}")


def kept_builds(
    remote: Mapping[str, RemoteObject],
    manifest_name: str,
    keep: int,
    keep_builds: Collection[str] = (),
    cutoff: datetime | None = None,
) -> list[KeptBuild]:
    """The builds prune keeps, newest first, each with its reasons: the live one, the newest
    ``keep`` distinct builds (the live one first), those in ``keep_builds``, and those whose
    newest history copy was written after ``cutoff``."""
    candidates: list[tuple[str, str, datetime]] = []
    live = remote.get(manifest_name)
    if live is not None:
        candidates.append((manifest_name, live_build(live), live.last_modified))
    candidates.extend(
        (entry.name, entry.digest, remote[entry.name].last_modified)
        for entry in history_entries(remote)
    )
    kept: dict[str, KeptBuild] = {}
    for rank, (name, digest, written) in enumerate(_distinct(candidates)):
        reasons = [
            reason
            for reason, applies in (
                ("live", live is not None and rank == 0),
                (f"among the newest {keep}", rank < keep),
                ("named with --keep-build", digest in keep_builds),
                ("published within min-age", cutoff is not None and written > cutoff),
            )
            if applies
        ]
        if reasons:
            kept[digest] = KeptBuild(digest, name, tuple(reasons))
    return list(kept.values())


def _distinct(candidates: list[tuple[str, str, datetime]]) -> list[tuple[str, str, datetime]]:
    """The first (newest) copy of each build, in order."""
    seen: dict[str, tuple[str, str, datetime]] = {}
    for candidate in candidates:
        seen.setdefault(candidate[1], candidate)
    return list(seen.values())


def _check_pinned(
    config: S3Config,
    remote: Mapping[str, RemoteObject],
    builds: list[KeptBuild],
    keep_builds: Collection[str],
) -> None:
    # A pinned build that is not in the bucket is a typo or a pruned build: deleting on would
    # break the servers it was named for.
    unknown = sorted(set(keep_builds) - {build.digest for build in builds})
    if unknown:
        raise PublishError(
            f"refusing to prune {config.where}: it has no build {unknown[0]} to keep "
            f"(--keep-build); newest builds there: {newest_builds(history_entries(remote))}"
        )


def _referenced(s3: S3Client, remote: Mapping[str, RemoteObject], manifests: list[str]) -> set[str]:
    """Every name the ``manifests`` reference, originals and hashed, with their variants."""
    referenced: set[str] = set()
    for name in manifests:
        data = _read(s3, remote[name].key)
        paths = read_manifest_paths(data, f"s3://{s3.config.bucket_name}/{name}")
        # Deltas against earlier builds (the dictionaries option), as the manifest lists them.
        referenced.update(delta for deltas in manifest_deltas(data).values() for delta in deltas)
        for path in (*paths, *paths.values()):
            referenced.add(path)
            referenced.update(variant_name(path, e) for e in VARIANT_SUFFIXES)
            if is_raster_image(path):
                # Immutable like their originals (looks_hashed_or_variant): kept with them.
                referenced.update(image_variant_name(path, f) for f in IMAGE_VARIANTS)
    return referenced


def _old_outputs(
    s3: S3Client,
    remote: Mapping[str, RemoteObject],
    kept: set[str],
    referenced: set[str],
    manifest_name: str,
) -> list[RemoteObject]:
    """Unreferenced objects that an older build named as one of its hashed or prehashed outputs,
    and orphans: hashed-looking objects that no manifest names at all (a publish cut short).

    Whether a name is hashed is a fact of the build that wrote it, not of its spelling, so an
    unhashed original that merely looks hashed (``jquery.0123456789ab.js``) is never deleted: its
    build names it as an original. The history is read newest first, only until every
    unreferenced object is accounted for.
    """
    candidates = {
        name: obj
        for name, obj in remote.items()
        if name not in referenced and name != manifest_name and not is_history(name)
    }
    found: list[RemoteObject] = []
    named: set[str] = set()  # originals and outputs of the manifests read
    for entry in history_entries(remote) if candidates else ():
        if entry.digest in kept:
            continue  # a kept build: its names are referenced
        data = _read(s3, remote[entry.name].key)
        outputs = immutable_names(data)
        named.update(read_paths(data), outputs)
        for name in [n for n in candidates if n in outputs or variant_original(n) in outputs]:
            found.append(candidates.pop(name))
        if not candidates:
            break
    found += [
        obj
        for name, obj in candidates.items()
        if looks_hashed_or_variant(name) and variant_original(name) not in named
    ]
    return sorted(found, key=lambda obj: obj.key)


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
