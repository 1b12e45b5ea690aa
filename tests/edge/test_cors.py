"""``manage.py assetpipe cors`` and status's CORS line, against S3's CORS behaviour (s3_front)."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings as Settings

from assetpipe.conf.edge import CorsConfig
from assetpipe.edge.cors import s3_rule
from tests.edge.s3_cors import S3CorsFront
from tests.edge.shop import public_read_policy
from tests.edge.test_s3_cors import request
from tests.media.conftest import IamServer
from tests.publish.conftest import TREE, build_static

OPTION = 'STORAGES["staticfiles"]["OPTIONS"]["cors"]'
PAGE = "https://shop.example"
APP = "https://app.example"
# A rule of the media side: the app's pages upload straight to the bucket.
MEDIA_RULE: dict[str, Any] = {
    "ID": "media-uploads",
    "AllowedMethods": ["PUT"],
    "AllowedOrigins": [APP],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 3000,
}
# With a MaxAgeSeconds: SeaweedFS reads a rule without one back with 0 (S3 leaves it out).
OTHER_RULE: dict[str, Any] = {
    "AllowedMethods": ["GET"],
    "AllowedOrigins": ["https://x.example"],
    "MaxAgeSeconds": 30,
}


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def run(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("assetpipe", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return Run(int(exc.code or 0), out.getvalue(), err.getvalue())
    return Run(0, out.getvalue(), err.getvalue())


def cors_requests(front: S3CorsFront, bucket: str) -> list[str]:
    """The bucket CORS API calls the front forwarded for ``bucket``: "GET", "PUT", ..."""
    return [
        seen.method
        for seen in front.seen
        if seen.path.split("?")[0].strip("/") == bucket and "?cors" in seen.path
    ]


@pytest.fixture
def bucket(make_bucket: Callable[[], str]) -> str:
    return make_bucket()


@dataclass
class Project:
    """Settings of a project publishing to ``bucket`` at ``endpoint``."""

    settings: Settings
    bucket: str
    endpoint: str
    static_root: Path
    cors: dict[str, Any] | None = field(default_factory=lambda: {"origins": ["*"]})
    s3: dict[str, Any] = field(default_factory=dict)

    def configure(self, **changes: Any) -> None:
        """``cors=`` sets the cors option (None: unset it); other keywords, the s3 option's."""
        if "cors" in changes:
            self.cors = changes.pop("cors")
        self.s3.update(changes)
        options: dict[str, Any] = {
            "s3": {
                "bucket_name": self.bucket,
                "location": "static",
                "endpoint_url": self.endpoint,
                "region_name": "us-east-1",
                **self.s3,
            }
        }
        if self.cors is not None:
            options["cors"] = self.cors
        self.settings.STATIC_ROOT = str(self.static_root)
        self.settings.STORAGES = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "assetpipe.storage.AssetPipeStorage", "OPTIONS": options},
        }


@pytest.fixture
def project(settings: Settings, s3_front: S3CorsFront, bucket: str, tmp_path: Path) -> Project:
    """A project publishing to ``bucket`` through the front, with ``"cors": {"origins": ["*"]}``."""
    made = Project(settings, bucket, s3_front.url, tmp_path / "static")
    made.configure()
    return made


def rule_for(**cors: Any) -> dict[str, Any]:
    return s3_rule(CorsConfig.from_options(cors or {"origins": ["*"]}))


def put_rules(s3_client: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3_client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)})


def test_dry_run_on_a_bucket_without_rules_prints_the_rule_and_exits_1(
    project: Project, s3_front: S3CorsFront, bucket: str
) -> None:
    result = run("cors")

    rule = json.dumps(rule_for(), indent=2)
    assert result.status == 1
    assert result.out == (
        f"the rule {OPTION} asks for:\n{rule}\n"
        f"the CORS rules of s3://{bucket}: none\n"
        "missing: the bucket has no CORS configuration\n"
        "run `manage.py assetpipe cors --apply` to write it first, keeping the bucket's 0 other "
        "rules in their order\n"
        "1 request\n"
    )
    assert cors_requests(s3_front, bucket) == ["GET"]
    assert s3_front.rules(bucket) == []


def test_apply_writes_the_rule_and_a_second_apply_sends_no_write(
    project: Project, s3_front: S3CorsFront, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    s3_client.put_object(Bucket=bucket, Key="static/site.css", Body=b"body{}")
    s3_client.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    path = f"/{bucket}/static/site.css"
    assert (
        request(s3_front.url, "GET", path, {"Origin": PAGE}).getheader(
            "Access-Control-Allow-Origin"
        )
        is None
    )

    applied = run("cors", "--apply")

    assert applied.status == 0
    assert applied.lines[-3:] == [
        "missing: the bucket has no CORS configuration",
        f"wrote 1 rule to s3://{bucket}: added 'assetpipe-static' as the first, then the "
        "bucket's 0 other rules as they were",
        "2 requests",
    ]
    assert s3_front.rules(bucket) == [rule_for()]
    assert cors_requests(s3_front, bucket) == ["GET", "PUT"]
    response = request(s3_front.url, "GET", path, {"Origin": PAGE})
    # S3 answers a "*" rule with "*"; SeaweedFS echoes the origin, as good for a browser.
    assert response.getheader("Access-Control-Allow-Origin") == (
        "*" if s3_backend == "moto" else PAGE
    )

    again = run("cors", "--apply")

    assert again.status == 0
    assert again.lines[-3:] == [
        "current: the bucket's first CORS rule is 'assetpipe-static', as the option asks",
        "nothing to write",
        "1 request",
    ]
    assert cors_requests(s3_front, bucket) == ["GET", "PUT", "GET"]
    assert run("cors").status == 0


def test_the_bucket_s_other_rules_are_kept_in_order_after_ours(
    project: Project, s3_front: S3CorsFront, bucket: str, s3_client: Any, s3_backend: str
) -> None:
    put_rules(s3_client, bucket, MEDIA_RULE, OTHER_RULE)

    dry = run("cors")

    assert dry.status == 1
    assert "missing: none of the bucket's 2 rules is 'assetpipe-static'" in dry.lines
    listed = dry.out.split(f"the CORS rules of s3://{bucket}:\n", 1)[1].split("\nmissing:")[0]
    assert json.loads(listed) == [MEDIA_RULE, OTHER_RULE]

    applied = run("cors", "--apply")

    assert (
        f"wrote 3 rules to s3://{bucket}: added 'assetpipe-static' as the first, then the "
        "bucket's 2 other rules as they were"
    ) in applied.lines
    assert s3_front.rules(bucket) == [rule_for(), MEDIA_RULE, OTHER_RULE]
    # The media rule still answers the app's upload preflights.
    preflight = request(
        s3_front.url,
        "OPTIONS",
        f"/{bucket}/media/acme/upload.png",
        {"Origin": APP, "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.status == 200
    assert preflight.getheader("Access-Control-Allow-Origin") == APP
    if s3_backend == "moto":
        # S3 skips our rule (no PUT) for the media rule. SeaweedFS stops at the first rule
        # whose origin matches and allows no method (test_s3_servers.py pins it).
        assert preflight.getheader("Access-Control-Allow-Methods") == "PUT"


def test_an_outdated_rule_is_replaced_where_it_was_first(
    project: Project, s3_front: S3CorsFront, bucket: str, s3_client: Any
) -> None:
    old = {**rule_for(origins=["https://old.example"]), "MaxAgeSeconds": 60}
    put_rules(s3_client, bucket, MEDIA_RULE, old)
    project.configure(cors={"origins": [PAGE, "https://*.shop.example"], "max_age": 600})

    dry = run("cors")

    assert dry.status == 1
    assert (
        "outdated: the bucket's rule 'assetpipe-static' differs: AllowedOrigins "
        '["https://old.example"] -> ["https://shop.example", "https://*.shop.example"]; '
        "MaxAgeSeconds 60 -> 600"
    ) in dry.lines

    applied = run("cors", "--apply")

    assert applied.status == 0
    wanted = rule_for(origins=[PAGE, "https://*.shop.example"], max_age=600)
    assert s3_front.rules(bucket) == [wanted, MEDIA_RULE]
    assert "replaced 'assetpipe-static' as the first" in applied.out


def test_a_current_rule_that_is_not_first_is_moved(
    project: Project, s3_front: S3CorsFront, bucket: str, s3_client: Any
) -> None:
    put_rules(s3_client, bucket, OTHER_RULE, rule_for())

    dry = run("cors")

    assert dry.status == 1
    assert (
        "not first: the bucket's rule 'assetpipe-static' is rule 2 of 2, and S3 answers with "
        "the first rule that matches a request"
    ) in dry.lines
    run("cors", "--apply")
    assert s3_front.rules(bucket) == [rule_for(), OTHER_RULE]


def test_without_the_cors_option_the_error_names_it(project: Project) -> None:
    project.configure(cors=None)

    with pytest.raises(CommandError, match=r'\["cors"\] is not set: .*\{"origins": \["\*"\]\}'):
        run("cors")


def test_a_missing_bucket_is_named(project: Project, s3_front: S3CorsFront) -> None:
    project.configure(bucket_name="no-such-bucket-here")

    with pytest.raises(CommandError, match=r"bucket 'no-such-bucket-here' does not exist at"):
        run("cors")


# --- denied: the IAM-enforcing moto, behind the same front --------------------------------------


@pytest.fixture
def iam_bucket(iam_server: IamServer) -> str:
    name = f"static-{uuid.uuid4().hex[:12]}"
    iam_server.s3().create_bucket(Bucket=name)
    return name


@pytest.fixture
def as_user(iam_server: IamServer, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Run the commands with the keys of a new IAM user allowed ``actions`` on the bucket."""

    def use(bucket: str, *actions: str) -> None:
        iam = iam_server.iam()
        user = f"deploy-{uuid.uuid4().hex[:12]}"
        iam.create_user(UserName=user)
        statements = (
            [
                {
                    "Effect": "Allow",
                    "Action": list(actions),
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ]
            if actions
            else [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]
        )
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_user_policy(UserName=user, PolicyName="deploy", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])

    return use


@pytest.fixture
def iam_project(
    settings: Settings, iam_front: S3CorsFront, iam_bucket: str, tmp_path: Path
) -> Iterator[Project]:
    made = Project(settings, iam_bucket, iam_front.url, tmp_path / "static")
    made.configure()
    yield made


def test_credentials_that_may_not_read_the_cors_configuration_are_told_the_permission(
    iam_project: Project, iam_bucket: str, iam_front: S3CorsFront, as_user: Callable[..., None]
) -> None:
    as_user(iam_bucket)

    with pytest.raises(CommandError) as denied:
        run("cors")

    assert str(denied.value) == (
        f"access denied while reading the CORS configuration of s3://{iam_bucket} at "
        f"{iam_front.url}: the credentials need s3:GetBucketCORS there"
    )


def test_credentials_that_may_not_write_it_are_told_the_permission(
    iam_project: Project,
    iam_bucket: str,
    iam_front: S3CorsFront,
    iam_server: IamServer,
    as_user: Callable[..., None],
) -> None:
    as_user(iam_bucket, "s3:GetBucketCORS")

    assert run("cors").status == 1  # reading is allowed
    with pytest.raises(CommandError) as denied:
        run("cors", "--apply")

    assert str(denied.value) == (
        f"access denied while writing the CORS configuration of s3://{iam_bucket} at "
        f"{iam_front.url}: the credentials need s3:PutBucketCORS there"
    )
    with pytest.raises(Exception, match="NoSuchCORSConfiguration"):
        iam_server.s3().get_bucket_cors(Bucket=iam_bucket)


# --- status ----------------------------------------------------------------------------------


def test_status_without_the_cors_option_sends_no_cors_request(
    project: Project, s3_front: S3CorsFront, bucket: str
) -> None:
    build_static(project.static_root, TREE)
    project.configure(cors=None)
    run("sync")

    result = run("status")

    assert result.status == 0
    assert not any("CORS" in line for line in result.lines)
    assert result.lines[-1] == "in sync"
    assert cors_requests(s3_front, bucket) == []


def test_status_says_whether_the_rule_is_current_and_gates_on_it(
    project: Project, s3_front: S3CorsFront, bucket: str
) -> None:
    build_static(project.static_root, TREE)
    run("sync")

    missing = run("status")

    assert missing.status == 1
    assert missing.lines[-2:] == [
        "bucket CORS rule: missing: the bucket has no CORS configuration",
        "out of sync: run `manage.py assetpipe cors --apply`",
    ]
    assert cors_requests(s3_front, bucket) == ["GET"]

    run("cors", "--apply")
    current = run("status")

    assert current.status == 0
    assert current.lines[-2:] == [
        "bucket CORS rule: current: the bucket's first CORS rule is 'assetpipe-static', as "
        "the option asks",
        "in sync",
    ]

    build_static(project.static_root, {**TREE, "js/app.js": b"console.log(2);\n"})
    project.configure(cors={"origins": [PAGE]})
    both = run("status")

    assert both.status == 1
    assert both.lines[-1] == (
        "out of sync: run `manage.py assetpipe sync` and `manage.py assetpipe cors --apply`"
    )


def test_status_with_credentials_that_may_not_read_the_rule_says_so(
    iam_project: Project,
    iam_bucket: str,
    iam_server: IamServer,
    as_user: Callable[..., None],
) -> None:
    build_static(iam_project.static_root, TREE)
    as_user(iam_bucket, "s3:ListBucket", "s3:GetObject", "s3:PutObject")
    run("sync")

    result = run("status")

    assert result.status == 0
    assert result.lines[-2:] == [
        f"bucket CORS rule: not checked: the credentials lack s3:GetBucketCORS on "
        f"s3://{iam_bucket}",
        "in sync",
    ]
