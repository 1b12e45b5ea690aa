"""How the local build compares with the bucket: a deploy gate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assetpipe.publish.client import S3Client
from assetpipe.publish.config import S3Config
from assetpipe.publish.history import is_history, live_build
from assetpipe.publish.inventory import list_prefix
from assetpipe.publish.local import Build, read_build
from assetpipe.publish.plan import Plan, make_plan
from assetpipe.publish.prune import kept_builds
from assetpipe.report import format_bytes
from assetpipe.s3_listing import RemoteObject

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

    @property
    def in_sync(self) -> bool:
        return self.plan.in_sync

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
        lines.extend(self.kept_lines())
        lines.append("in sync" if self.in_sync else "out of sync: run `manage.py assetpipe sync`")
        return lines

    def kept_lines(self) -> list[str]:
        """The builds ``prune`` with its defaults keeps, and why."""
        cutoff = self.now - timedelta(seconds=PRUNE_MIN_AGE)
        builds = kept_builds(self.remote, self.build.manifest_name, PRUNE_KEEP, (), cutoff)
        if not builds:
            return []
        head = f"builds prune keeps (--keep {PRUNE_KEEP} --min-age {PRUNE_MIN_AGE}):"
        return [head, *(f"  {build.digest} ({', '.join(build.reasons)})" for build in builds)]


def status(static_root: Path, manifest_name: str, config: S3Config) -> Status:
    build = read_build(Path(static_root), manifest_name, with_encodings=config.upload_encodings)
    with S3Client(config) as s3:
        remote = list_prefix(s3, config.prefix)
        plan = make_plan(build, remote, s3)
    return Status(build, config, remote, plan, datetime.now(UTC))


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{max(seconds, 0)} s"
