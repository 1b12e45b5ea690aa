"""The bucket's CORS configuration: read it, compare it with assetpipe's rule, write it merged.

A bucket has one CORS configuration of at most 100 rules, and PutBucketCors replaces it whole.
So writing assetpipe's rule is read, merge, write: :func:`assetpipe.edge.cors.merged_s3_rules`
puts the rule first (S3 answers with the first rule that matches) and keeps every other rule
as it was, in its order. S3 offers no conditional write here: a change another tool makes
between the read and the write is lost, so apply the rule from one deploy step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.kit import OPTIONS
from assetpipe.conf.s3 import PublishError, S3Config
from assetpipe.edge.cors import RULE_ID, merged_s3_rules, rule_is_current, s3_rule
from assetpipe.publish.client import S3_ERRORS, S3Client, describe_failure

# S3's limit on the rules of one CORS configuration.
MAX_RULES = 100
# What GetBucketCors answers for a bucket without a CORS configuration.
NO_CONFIGURATION = "NoSuchCORSConfiguration"
# The actions as error messages name them (publish.client.PERMISSIONS: what each needs).
READING = "reading the CORS configuration of"
WRITING = "writing the CORS configuration of"
APPLY = "manage.py assetpipe cors --apply"


@dataclass(frozen=True)
class BucketCors:
    """The bucket's CORS rules as read, compared with the rule the ``cors`` option asks for."""

    bucket: str
    cors: CorsConfig
    rules: tuple[Mapping[str, Any], ...]  # () when the bucket has no CORS configuration

    @property
    def wanted(self) -> dict[str, Any]:
        return s3_rule(self.cors)

    @property
    def current(self) -> bool:
        return rule_is_current(self.rules, self.cors)

    @property
    def position(self) -> int | None:
        """The index of the bucket's rule named ``assetpipe-static``, if it has one."""
        return next((i for i, rule in enumerate(self.rules) if rule.get("ID") == RULE_ID), None)

    @property
    def others(self) -> int:
        """How many of the bucket's rules are not assetpipe's: ``--apply`` keeps each."""
        return sum(1 for rule in self.rules if rule.get("ID") != RULE_ID)

    @property
    def state(self) -> str:
        """``current``, ``missing``, ``outdated`` or ``not first``."""
        if self.current:
            return "current"
        position = self.position
        if position is None:
            return "missing"
        if not rule_is_current(self.rules[position:], self.cors):
            return "outdated"
        return "not first"

    def merged(self) -> list[dict[str, Any]]:
        """The configuration ``--apply`` writes."""
        return merged_s3_rules(self.rules, self.cors)

    def explanation(self) -> str:
        """The state and why, in one line."""
        state, position = self.state, self.position
        if state == "current":
            return f"current: the bucket's first CORS rule is {RULE_ID!r}, as the option asks"
        if state == "missing":
            if not self.rules:
                return "missing: the bucket has no CORS configuration"
            return f"missing: none of the bucket's {_count(len(self.rules), 'rule')} is {RULE_ID!r}"
        assert position is not None
        if state == "outdated":
            changes = _changes(self.rules[position], self.wanted)
            return f"outdated: the bucket's rule {RULE_ID!r} differs: {changes}"
        return (
            f"not first: the bucket's rule {RULE_ID!r} is rule {position + 1} of "
            f"{len(self.rules)}, and S3 answers with the first rule that matches a request"
        )


@dataclass(frozen=True)
class CorsReport:
    """What ``manage.py assetpipe cors`` found and, with ``--apply``, wrote."""

    before: BucketCors
    applying: bool
    written: tuple[dict[str, Any], ...] | None  # the configuration written; None: nothing
    requests: Mapping[str, int]

    @property
    def current(self) -> bool:
        """Whether the bucket has the rule now."""
        return self.before.current or self.written is not None

    def lines(self) -> list[str]:
        before = self.before
        where = f"s3://{before.bucket}"
        lines = [f'the rule {OPTIONS}["cors"] asks for:', _json(before.wanted)]
        if before.rules:
            lines += [f"the CORS rules of {where}:", _json(list(before.rules))]
        else:
            lines.append(f"the CORS rules of {where}: none")
        lines.append(before.explanation())
        others = f"the bucket's {_count(before.others, 'other rule')}"
        if before.current:
            if self.applying:
                lines.append("nothing to write")
        elif self.written is None:
            lines.append(f"run `{APPLY}` to write it first, keeping {others} in their order")
        else:
            verb = {"missing": "added", "outdated": "replaced", "not first": "moved"}[before.state]
            lines.append(
                f"wrote {_count(len(self.written), 'rule')} to {where}: {verb} {RULE_ID!r} as "
                f"the first, then {others} as they were"
            )
        lines.append(_count(sum(self.requests.values()), "request"))
        return lines


def read_bucket_cors(s3: S3Client, cors: CorsConfig) -> BucketCors:
    """The bucket's CORS rules (one GetBucketCors), compared with the ``cors`` option's."""
    bucket = s3.config.bucket_name
    try:
        response = s3.client.get_bucket_cors(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == NO_CONFIGURATION:
            return BucketCors(bucket, cors, ())
        raise _failure(s3.config, exc, READING) from exc
    except S3_ERRORS as exc:
        raise _failure(s3.config, exc, READING) from exc
    return BucketCors(bucket, cors, tuple(response.get("CORSRules", [])))


def write_bucket_cors(s3: S3Client, before: BucketCors) -> tuple[dict[str, Any], ...]:
    """Write ``before.merged()`` (one PutBucketCors); returns the rules written."""
    rules = before.merged()
    if len(rules) > MAX_RULES:
        raise PublishError(
            f"s3://{before.bucket} has {_count(before.others, 'other CORS rule')}: with "
            f"{RULE_ID!r} that is over S3's limit of {MAX_RULES} rules per bucket; remove the "
            "rules the bucket no longer needs"
        )
    try:
        s3.client.put_bucket_cors(Bucket=before.bucket, CORSConfiguration={"CORSRules": rules})
    except S3_ERRORS as exc:
        raise _failure(s3.config, exc, WRITING) from exc
    return tuple(rules)


def bucket_cors(config: S3Config, cors: CorsConfig, *, apply: bool = False) -> CorsReport:
    """Compare the bucket's CORS rules with the option's; with ``apply``, write the merged
    configuration, unless the bucket has the rule already (then no PutBucketCors is sent)."""
    with S3Client(config) as s3:
        before = read_bucket_cors(s3, cors)
        written = write_bucket_cors(s3, before) if apply and not before.current else None
    return CorsReport(before, apply, written, dict(s3.requests))


def _failure(config: S3Config, exc: Exception, action: str) -> PublishError:
    # The CORS configuration is the bucket's, not the static prefix's: name the bucket alone.
    return describe_failure(exc, replace(config, location=""), action)


def _changes(existing: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    changes = []
    for key in sorted(set(existing) | set(wanted)):
        old, new = existing.get(key), wanted.get(key)
        if _sorted(old) != _sorted(new):
            changes.append(f"{key} {_value(old)} -> {_value(new)}")
    return "; ".join(changes)


def _sorted(value: object) -> object:
    return sorted(value) if isinstance(value, list) else value


def _value(value: object) -> str:
    return "(none)" if value is None else json.dumps(value)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _json(value: object) -> str:
    return json.dumps(value, indent=2)
