"""The CI recipes of "CI and containers" parse, and say what the page says they do.

This machine runs neither GitHub Actions nor GitLab nor a BuildKit builder: the YAML is parsed
and its cache keys, branch rules and deploy switch are checked; the Dockerfile's cache and
secret mounts are checked by name; the settings block runs in ``test_snippets``.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.docs.pages import DOCS, blocks

BLOCKS = list(blocks(DOCS / "how-to" / "ci.md"))


def yaml_block(key: str) -> dict[str, Any]:
    found = [yaml.safe_load(b.code) for b in BLOCKS if b.language == "yaml"]
    return next(document for document in found if key in document)


def test_github_actions_deploys_only_from_main_with_a_per_branch_cache() -> None:
    job = yaml_block("deploy-static")["deploy-static"]
    assert job["if"] == "github.ref == 'refs/heads/main'"
    assert job["env"]["DEPLOY"] == "1"
    steps = {step.get("uses", step.get("run")): step for step in job["steps"]}
    cache = steps["actions/cache@v4"]["with"]
    assert cache["path"] == ".assetpipe"
    assert cache["key"].startswith("assetpipe-${{ github.ref_name }}-")
    # Never another branch's (a pull request's) cache in a deploying build.
    assert cache["restore-keys"].splitlines() == ["assetpipe-${{ github.ref_name }}-"]
    assert "role-to-assume" in steps["aws-actions/configure-aws-credentials@v4"]["with"]
    assert "python manage.py collectstatic --noinput" in steps


def test_gitlab_deploys_only_from_the_default_branch() -> None:
    job = yaml_block("build-static")["build-static"]
    assert job["cache"]["key"] == "assetpipe-$CI_COMMIT_REF_SLUG"
    assert job["cache"]["paths"] == [".assetpipe/"]
    assert job["variables"]["DEPLOY"] == "0"
    deploying = [rule for rule in job["rules"] if rule.get("variables", {}).get("DEPLOY") == "1"]
    assert [rule["if"] for rule in deploying] == ["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"]


def test_the_dockerfile_keeps_state_in_a_cache_mount_and_credentials_in_a_secret() -> None:
    (dockerfile,) = [b.code for b in BLOCKS if b.language == "dockerfile"]
    assert dockerfile.startswith("# syntax=docker/dockerfile:1")
    run = dockerfile[dockerfile.index("RUN --mount=type=cache") :]
    assert "--mount=type=cache,target=/app/.assetpipe" in run
    assert "--mount=type=secret,id=aws,target=/root/.aws/credentials" in run
    assert "ARG AWS" not in dockerfile  # build arguments stay in the image's history
