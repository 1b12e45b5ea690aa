"""How the local build compares with the bucket: a deploy gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assetpipe.build.report import format_bytes
from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.s3 import AccessDenied, S3Config
from assetpipe.edge.negotiation import Negotiation
from assetpipe.publish.client import PERMISSIONS, S3Client
from assetpipe.publish.cors_rule import APPLY, READING, BucketCors, read_bucket_cors
from assetpipe.publish.history import is_history, live_build
from assetpipe.publish.inventory import list_prefix
from assetpipe.publish.listing import RemoteObject
from assetpipe.publish.local import Build, read_build
from assetpipe.publish.plan import Plan, make_plan
from assetpipe.publish.prune import kept_builds

# prune's defaults, under which status says which builds are kept.
PRUNE_KEEP = 3
PRUNE_MIN_AGE = 3600


@dataclass(frozen=True)
class Status:
    build: Build
    config: S3Config
    remote: dict[str, RemoteObject]
    plan: Plan
    now: datetime
    # With the ``cors`` option: the bucket's CORS rules, or why they could not be read.
    cors: BucketCors | None = None
    cors_unread: str | None = None
    # With a ``cdn``: the rule it rewrites by, to find published files it would miss.
    negotiation: Negotiation | None = None

    @property
    def in_sync(self) -> bool:
        return self.plan.in_sync and self.cors_current is not False and not self.edge_missing

    @property
    def edge_missing(self) -> list[str]:
        """Variant names the edge would ask the bucket for and that it lacks, sorted."""
        if self.negotiation is None:
            return []
        return sorted(
            name + suffix
            for name in self.remote
            for suffix in self.negotiation.variant_suffixes(self.config.key(name))
            if name + suffix not in self.remote
        )

    @property
    def cors_current(self) -> bool | None:
        """Whether the bucket has the CORS rule; None when not configured or not read."""
        return None if self.cors is None else self.cors.current

    def lines(self) -> list[str]:
        local_bytes = sum(file.size for file in self.build.files.values())
        published = [
            obj
            for name, obj in self.remote.items()
            if name != self.build.manifest_name and not is_history(name)
        ]
        lines = [
            f"local:  {len(self.build.files):,} files, {format_bytes(local_bytes)} "
            f"in {self.build.root}",
            f"bucket: {len(published):,} files, {format_bytes(sum(o.size for o in published))} "
            f"in {self.config.where}",
        ]
        live = self.remote.get(self.build.manifest_name)
        if live is None:
            lines.append("remote manifest: none")
        else:
            state = "out of date" if self.plan.manifest_reason else "same as local"
            age = _age(self.now - live.last_modified)
            lines.append(f"remote manifest: build {live_build(live)}, uploaded {age} ago, {state}")
        if self.plan.uploads:
            lines.append(
                f"to upload: {len(self.plan.uploads):,} files, "
                f"{format_bytes(self.plan.upload_bytes)}"
            )
        altered = self.plan.altered
        if altered:
            lines.append(
                f"altered in the bucket: {len(altered):,} content-addressed objects do not hold "
                f"this build's bytes (planted, changed or corrupt), e.g. s3://"
                f"{self.config.bucket_name}/{altered[0]}; sync uploads the build's over them"
            )
        lines.extend(self.kept_lines())
        if self.cors is not None:
            lines.append(f"bucket CORS rule: {self.cors.explanation()}")
        elif self.cors_unread is not None:
            lines.append(f"bucket CORS rule: not checked: {self.cors_unread}")
        lines.extend(self.edge_lines())
        fixes = [] if self.plan.in_sync else ["`manage.py assetpipe sync`"]
        if self.cors_current is False:
            fixes.append(f"`{APPLY}`")
        if self.edge_missing:
            fixes.append("`manage.py assetpipe prune` once no app server uses those builds")
        lines.append(f"out of sync: run {' and '.join(fixes)}" if fixes else "in sync")
        return lines

    def edge_lines(self) -> list[str]:
        if self.negotiation is None:
            return []
        missing = self.edge_missing
        if not missing:
            return ["edge: every published file it may rewrite has its variants"]
        return [
            f"edge: {len(missing):,} variants it would ask for are missing, e.g. "
            f"{self.config.key(missing[0])}: files of builds made without the cdn option"
        ]

    def kept_lines(self) -> list[str]:
        """The builds ``prune`` with its defaults keeps, and why."""
        cutoff = self.now - timedelta(seconds=PRUNE_MIN_AGE)
        builds = kept_builds(self.remote, self.build.manifest_name, PRUNE_KEEP, (), cutoff)
        if not builds:
            return []
        head = f"builds prune keeps (--keep {PRUNE_KEEP} --min-age {PRUNE_MIN_AGE}):"
        return [head, *(f"  {build.digest} ({', '.join(build.reasons)})" for build in builds)]


def status(
    static_root: Path,
    manifest_name: str,
    config: S3Config,
    cors: CorsConfig | None = None,
    negotiation: Negotiation | None = None,
) -> Status:
    """Compare the build with the bucket; with ``cors``, also the bucket's CORS rule (one
    GetBucketCors more; credentials without s3:GetBucketCORS get a line, not an error)."""
    build = read_build(Path(static_root), manifest_name, with_encodings=config.variants_in_bucket)
    bucket_cors: BucketCors | None = None
    unread: str | None = None
    with S3Client(config) as s3:
        remote = list_prefix(s3, config.prefix)
        plan = make_plan(build, remote, s3)
        if cors is not None:
            try:
                bucket_cors = read_bucket_cors(s3, cors)
            except AccessDenied:
                unread = f"the credentials lack {PERMISSIONS[READING]} on s3://{config.bucket_name}"
    return Status(build, config, remote, plan, datetime.now(UTC), bucket_cors, unread, negotiation)


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{max(seconds, 0)} s"
