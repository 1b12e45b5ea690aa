"""Publish a built STATIC_ROOT to S3 with the fewest requests, manifest last.

0. when the build is the one the last completed publish made live (``record``), one
   conditional request (``live_check``) asks whether it is live still; if so, that is all;
1. list the bucket under ``location`` (one request per 1,000 keys, never a HEAD per file);
2. plan: hashed names the bucket lacks or holds other bytes under (its listing's ETags say so),
   and unhashed names whose MD5 differs;
3. upload the plan in parallel;
4. only then upload the manifest, after a copy under ``manifests/`` that keeps deploys known.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assetpipe.build.report import Progress, format_bytes, unwrapped
from assetpipe.conf.s3 import PublishError, S3Config
from assetpipe.publish.history import build_id, history_name, is_history
from assetpipe.publish.last_publish import (
    expected,
    forget_record,
    matching_etag,
    record_path,
    save_record,
)
from assetpipe.publish.live_check import live_etag_is
from assetpipe.publish.local import Build, read_build

if TYPE_CHECKING:
    from django.core.files.storage import Storage

    from assetpipe.edge.negotiation import Negotiation
    from assetpipe.publish.client import S3Client
    from assetpipe.publish.listing import RemoteObject
    from assetpipe.publish.plan import Plan

__all__ = [
    "PublishError",
    "PublishResult",
    "S3Config",
    "publish",
    "remote_manifest_storage",
]


@dataclass(frozen=True)
class PublishResult:
    where: str  # s3://bucket/location
    uploaded: int
    uploaded_bytes: int
    present: int
    manifest_uploaded: bool
    requests: Mapping[str, int]  # HTTP requests by S3 operation, retries included
    dry_run: bool = False
    build: str = ""  # the build id: 12 hex digits of the manifest's MD5
    listed: bool = True  # False: one request showed the last publish's manifest still live
    # Content-addressed objects the bucket held other bytes under, uploaded again (among
    # ``uploaded``): planted or altered there, or corrupt.
    repaired: tuple[str, ...] = ()

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    def summary(self) -> str:
        """One line: ``published build 0123456789ab to s3://b/static: 3 uploaded (1,531
        present), 41.2 kB; ...``"""
        requests = f"{self.request_count:,} request{'s' if self.request_count != 1 else ''}"
        if self.dry_run:
            head = f"dry run of build {self.build} for {self.where}: {self.uploaded:,} to upload"
        else:
            head = f"published build {self.build} to {self.where}: {self.uploaded:,} uploaded"
        manifest = ""
        if not self.listed:
            manifest = ", manifest unchanged (live since the last publish; not listed)"
        elif not self.manifest_uploaded:
            manifest = ", manifest unchanged"
        elif self.dry_run:
            manifest = ", manifest to update"
        repaired = ""
        if self.repaired:
            verb = "to repair" if self.dry_run else "repaired"
            repaired = (
                f", {len(self.repaired):,} {verb}: the bucket held other bytes than this build's, "
                f"e.g. {self.repaired[0]}"
            )
        return (
            f"{head} ({self.present:,} present{repaired}), {format_bytes(self.uploaded_bytes)}"
            f"{manifest}; {requests}"
        )


def publish(
    static_root: Path,
    manifest_name: str,
    config: S3Config,
    *,
    dry_run: bool = False,
    verify: bool = False,
    state_dir: Path | None = None,
    stdout: TextIO | None = None,
    negotiation: Negotiation | None = None,
    listed: Mapping[str, RemoteObject] | None = None,
) -> PublishResult:
    """Make the bucket hold the build in ``static_root``; ``dry_run`` prints the plan only.

    With ``state_dir``, a completed publish is recorded there, and the next run of the same
    build checks with one request that the live manifest is still the recorded one instead of
    listing the bucket; ``verify`` lists regardless. With ``negotiation`` (an edge picks
    variants by name), a build lacking a variant the edge may ask for is refused before any
    request. ``listed``: the prefix as this run's build listed it moments ago (the bucket as its
    cache), planned with instead of listing again. Raises PublishError; whatever happened, the
    bucket's manifest then still references only objects that exist.
    """
    build = read_build(Path(static_root), manifest_name, with_encodings=config.variants_in_bucket)
    if negotiation is not None and config.variants_in_static_root:
        check_variants(build, config, negotiation)
    clashes = sorted(name for name in build.files if is_history(name))
    if clashes:
        raise PublishError(
            f"{static_root / clashes[0]} would be published where {config.where} keeps its "
            "manifest history (manifests/); rename that directory"
        )
    record = record_path(state_dir, build.root, config) if state_dir is not None else None
    checked: dict[str, int] = {}
    if record is not None and not dry_run and not verify:
        etag = matching_etag(record, build, config)
        if etag is not None:
            live, checked = live_etag_is(config, config.key(manifest_name), etag)
            if live:
                return _still_live(build, config, checked)
    # Without local variants the bucket's listing completes the build: checked once listed.
    late_check = negotiation if not config.variants_in_static_root else None
    result, live_etag = _publish_listed(build, config, dry_run, stdout, late_check, listed)
    if record is not None and not dry_run:
        if live_etag:
            save_record(record, expected(build, config, live_etag))
        else:
            forget_record(record)
    requests = Counter(result.requests)
    requests.update(checked)
    return replace(result, requests=dict(requests))


def check_variants(
    build: Build,
    config: S3Config,
    negotiation: Negotiation,
    remote: Mapping[str, object] | None = None,
) -> None:
    """Refuse a build in which a file the edge may negotiate lacks one of its variants, in
    STATIC_ROOT or (given its listing, ``remote``) in the bucket: ``.br``/``.gz`` by
    ``Accept-Encoding``, and with image formats ``.avif``/``.webp`` of a raster image by
    ``Accept``."""
    if not config.variants_in_bucket:
        raise PublishError(
            f'the CDN picks .br/.gz keys in {config.where}, but the s3 option "variants" is '
            f"{config.variants!r}: the variants are not uploaded"
        )
    for name, file in build.files.items():
        if file.encoding is not None or file.image_format is not None:
            continue
        for suffix in negotiation.variant_suffixes(config.key(name)):
            variant = name + suffix
            if variant not in build.files and (remote is None or variant not in remote):
                raise PublishError(
                    f"{build.root / variant} is missing, and the edge "
                    f'would ask {config.where} for it: run collectstatic with the "cdn" '
                    "option, which writes every variant, before publishing; nothing was published"
                )


def _still_live(build: Build, config: S3Config, requests: Mapping[str, int]) -> PublishResult:
    """The result of a run whose build the last publish made live, and that is live still."""
    return PublishResult(
        where=config.where,
        uploaded=0,
        uploaded_bytes=0,
        present=len(build.files),
        manifest_uploaded=False,
        requests=dict(requests),
        build=build_id(build.manifest),
        listed=False,
    )


def _publish_listed(
    build: Build,
    config: S3Config,
    dry_run: bool,
    stdout: TextIO | None,
    negotiation: Negotiation | None = None,
    listed: Mapping[str, RemoteObject] | None = None,
) -> tuple[PublishResult, str | None]:
    """List, plan, upload, manifest last; also the live manifest's ETag when it is this build."""
    # Imported here: a no-change run that one request settles never loads botocore.
    from assetpipe.publish.client import S3Client
    from assetpipe.publish.inventory import list_prefix
    from assetpipe.publish.plan import make_plan

    with S3Client(config) as s3:
        remote = dict(listed) if listed is not None else list_prefix(s3, config.prefix)
        if negotiation is not None:
            check_variants(build, config, negotiation, remote)
        plan = make_plan(build, remote, s3)
        if plan.missing:
            raise PublishError(
                f"{len(plan.missing):,} files that {build.manifest_name} references exist neither "
                f"in {build.root} nor in {config.where}, e.g. {plan.missing[0]}; "
                "nothing was published"
            )
        stdout = unwrapped(stdout) if stdout is not None else None
        live_etag: str | None = None
        if dry_run:
            if stdout is not None:
                _write_plan(stdout, plan, config, build.manifest_name)
        else:
            live_etag = _upload(s3, build, plan, stdout)
            if live_etag is None:
                live_etag = remote[build.manifest_name].etag
    result = PublishResult(
        where=config.where,
        uploaded=len(plan.uploads),
        uploaded_bytes=plan.upload_bytes,
        present=plan.present,
        manifest_uploaded=plan.manifest_reason is not None or plan.write_history,
        requests=dict(s3.requests),
        dry_run=dry_run,
        build=build_id(build.manifest),
        repaired=plan.altered,
    )
    return result, live_etag


def _upload(s3: S3Client, build: Build, plan: Plan, stdout: TextIO | None) -> str | None:
    """Upload the plan, then the manifest; the live manifest's new ETag if it was uploaded."""
    from assetpipe.publish.upload import put_manifest, upload_files

    config = s3.config
    progress = (
        Progress(stdout, len(plan.uploads), plan.upload_bytes)
        if stdout is not None and stdout.isatty() and plan.uploads
        else None
    )
    upload_files(s3, plan.uploads, progress)
    # Every object the manifest references is now in the bucket: listed, or uploaded above.
    # The history copy goes first so that prune always knows the live manifest's build.
    md5 = build.manifest_md5
    try:
        if plan.write_history:
            put_manifest(s3, config.key(history_name(build.manifest)), build.manifest, md5)
        if plan.manifest_reason is not None:
            return put_manifest(s3, config.key(build.manifest_name), build.manifest, md5)
    except PublishError as exc:
        raise PublishError(
            f"{exc}; every file is in the bucket but the manifest may not have been "
            "updated: run again to update it"
        ) from exc
    return None


def _write_plan(stdout: TextIO, plan: Plan, config: S3Config, manifest_name: str) -> None:
    for upload in plan.uploads:
        stdout.write(f"upload {upload.key} ({upload.reason}, {format_bytes(upload.file.size)})\n")
    if plan.write_history:
        stdout.write(f"upload {config.key('manifests/')}<time>-<digest>.json (manifest history)\n")
    if plan.manifest_reason is not None:
        stdout.write(
            f"upload {config.key(manifest_name)} (manifest {plan.manifest_reason}; "
            "after the files above)\n"
        )


def read_manifest_from_bucket(config: S3Config, storage_options: dict[str, Any]) -> bool:
    """With ``read_manifest_from_bucket`` (and no ``manifest_storage`` of the project's own),
    puts the bucket's manifest in ``storage_options`` as Django's ``manifest_storage``."""
    if not config.read_manifest_from_bucket or "manifest_storage" in storage_options:
        return False
    storage_options["manifest_storage"] = remote_manifest_storage(config)
    return True


def remote_manifest_storage(config: S3Config) -> Storage:
    """A read-only Storage reading the published manifest: Django's ``manifest_storage``.

    With ``manifest_digest`` set, it reads that build's history copy instead of the live one."""
    from assetpipe.publish.bucket_manifest_storage import manifest_storage_for

    return manifest_storage_for(config)
