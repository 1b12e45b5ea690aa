"""``manage.py assetpipe upload-media``: copy a local MEDIA_ROOT into the tenant's prefix."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from assetpipe.management.subcommands import media as cli
from assetpipe.media.storage import TenantMediaStorage
from assetpipe.media.upload import Action, upload_media
from tests.descriptors import needs_fd_dir, no_collection, open_descriptors, opened_since
from tests.media.conftest import MakeStorage, watch
from tests.publish.conftest import running_proxy

MiB = 1024 * 1024


def bucket_objects(s3_client: Any, bucket: str) -> dict[str, bytes]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", ())]
    return {key: s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def upload(*args: str, verbosity: int = 1) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "assetpipe", "upload-media", *args, verbosity=verbosity, stdout=out, stderr=err
        )
    except CommandError as error:
        # Keep the output for the caller's assertions.
        error.add_note(f"stdout: {out.getvalue()}\nstderr: {err.getvalue()}")
        raise
    return out.getvalue(), err.getvalue()


TREE = {
    "avatars/ada.png": b"\x89PNG ada",
    "avatars/bob.png": b"\x89PNG bob",
    "docs/terms.pdf": b"%PDF terms",
    "readme.txt": b"hello",
}


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return write_tree(tmp_path / "media", TREE)


def test_uploads_media_root_into_the_tenant_prefix(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    out, err = upload()

    assert bucket_objects(s3_client, media_bucket) == {
        f"media/acme/{name}": content for name, content in TREE.items()
    }
    head = s3_client.head_object(Bucket=media_bucket, Key="media/acme/avatars/ada.png")
    assert head["ContentType"] == "image/png"
    grants = s3_client.get_object_acl(Bucket=media_bucket, Key="media/acme/readme.txt")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    size = sum(map(len, TREE.values()))
    assert out.strip() == (
        f"Uploaded 4 file(s) ({size} bytes) to s3://{media_bucket}/media/acme/; "
        "0 already there, 0 conflict(s), 0 refused, 0 failed."
    )
    assert err == ""


def test_a_second_run_lists_once_and_uploads_nothing(
    make_storage: MakeStorage, media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    upload_media(make_storage(), media_root)
    storage = make_storage()
    log = watch(storage.connection.meta.client)

    report = upload_media(storage, media_root)

    assert [outcome.action for outcome in report.outcomes] == [Action.SAME] * len(TREE)
    assert [operation for operation, _ in log.calls] == ["ListObjectsV2"]


def test_conflicts_are_reported_and_left_alone(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    s3_client.put_object(Bucket=media_bucket, Key="media/acme/readme.txt", Body=b"edited online")
    s3_client.put_object(Bucket=media_bucket, Key="media/acme/only-remote.txt", Body=b"keep me")

    with pytest.raises(CommandError, match="1 file") as raised:
        upload()

    notes = "\n".join(raised.value.__notes__)
    assert f"conflict: readme.txt: s3://{media_bucket}/media/acme/readme.txt has other" in notes
    assert "Uploaded 3 file(s)" in notes and "1 conflict(s)" in notes
    objects = bucket_objects(s3_client, media_bucket)
    assert objects["media/acme/readme.txt"] == b"edited online"
    assert objects["media/acme/only-remote.txt"] == b"keep me"
    assert objects["media/acme/docs/terms.pdf"] == b"%PDF terms"


def test_dry_run_uploads_nothing(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    s3_client.put_object(Bucket=media_bucket, Key="media/acme/readme.txt", Body=b"hello")

    out, _ = upload("--dry-run", verbosity=2)

    assert bucket_objects(s3_client, media_bucket) == {"media/acme/readme.txt": b"hello"}
    assert "would upload: avatars/ada.png" in out
    assert "already there: readme.txt" in out
    size = sum(len(content) for name, content in TREE.items() if name != "readme.txt")
    assert f"Would upload 3 file(s) ({size} bytes)" in out and "1 already there" in out


def test_objects_uploaded_in_parts_are_recognised(
    make_storage: MakeStorage, tmp_path: Path, s3_client: Any, media_bucket: str
) -> None:
    big = bytes(range(256)) * (6 * MiB // 256)
    root = write_tree(tmp_path, {"video.mp4": big, "other.mp4": big})
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    storage = make_storage(transfer_config=config)
    storage.save("video.mp4", ContentFile(big))
    storage.save("other.mp4", ContentFile(big[::-1]))
    etag = s3_client.head_object(Bucket=media_bucket, Key="media/acme/video.mp4")["ETag"]
    assert etag.endswith('-2"')

    report = upload_media(storage, root)

    assert {outcome.name: outcome.action for outcome in report.outcomes} == {
        "other.mp4": Action.CONFLICT,
        "video.mp4": Action.SAME,
    }


def test_names_the_storage_refuses_are_reported(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    write_tree(media_root, {"back\\slash.txt": b"x", "bell\x07.txt": b"x"})

    with pytest.raises(CommandError, match="2 file"):
        upload()

    keys = set(bucket_objects(s3_client, media_bucket))
    assert keys == {f"media/acme/{name}" for name in TREE}


def test_an_object_created_during_the_upload_is_not_replaced(
    make_storage: MakeStorage, media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    storage = make_storage()

    def sneak_in(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] == "media/acme/readme.txt":
            s3_client.put_object(Bucket=media_bucket, Key=params["Key"], Body=b"theirs")

    storage.connection.meta.client.meta.events.register(
        "before-parameter-build.s3.PutObject", sneak_in
    )

    report = upload_media(storage, media_root)

    conflicts = report.of(Action.CONFLICT)
    assert [outcome.name for outcome in conflicts] == ["readme.txt"]
    assert "was created while uploading" in conflicts[0].detail
    assert bucket_objects(s3_client, media_bucket)["media/acme/readme.txt"] == b"theirs"


def test_uploads_run_in_parallel(
    make_storage: MakeStorage, tmp_path: Path, s3_client: Any, media_bucket: str
) -> None:
    root = write_tree(tmp_path, {f"f{index:02}.txt": b"%d" % index for index in range(40)})
    storage = make_storage()
    threads: set[int] = set()
    storage.connection.meta.client.meta.events.register(
        "before-send.s3.PutObject", lambda **_: threads.add(threading.get_ident())
    )

    report = upload_media(storage, root, jobs=4)

    assert len(report.of(Action.UPLOAD)) == 40
    assert len(bucket_objects(s3_client, media_bucket)) == 40
    assert 1 < len(threads) <= 4


def test_tenant_option_selects_the_prefix(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    media_settings.update(tenant=None, tenant_resolver="tests.media.tenants.current_tenant")

    with pytest.raises(CommandError, match="pass --tenant"):
        upload()
    upload("--tenant", "globex")

    assert {key.split("/")[1] for key in bucket_objects(s3_client, media_bucket)} == {"globex"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "MEDIA_ROOT is not set"),
        (["--source", "/nonexistent/media"], "not a directory"),
        (["--source", "{empty}", "--tenant", "../x"], "not a valid tenant id"),
        (["--source", "{empty}", "--jobs", "0"], "at least 1"),
        (["--source", "{empty}", "--storage", "staticfiles"], "not assetpipe.media"),
    ],
)
def test_bad_input_is_refused(
    settings: Any, media_settings: dict[str, Any], tmp_path: Path, args: list[str], message: str
) -> None:
    settings.MEDIA_ROOT = ""

    with pytest.raises(CommandError, match=message):
        upload(*(arg.format(empty=tmp_path) for arg in args))


def test_an_unreachable_bucket_is_named(media_settings: dict[str, Any], media_root: Path) -> None:
    media_settings["bucket_name"] = "no-such-bucket"

    with pytest.raises(CommandError, match=r"s3://no-such-bucket/media/acme/.*NoSuchBucket"):
        upload()


@needs_fd_dir
def test_the_command_closes_its_connections(
    media_settings: dict[str, Any],
    media_root: Path,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storages: list[TenantMediaStorage] = []  # kept alive: only a close() closes their sockets
    make = cli.media_storage

    def keep(alias: str, tenant: str | None = None) -> TenantMediaStorage:
        storages.append(make(alias, tenant))
        return storages[-1]

    monkeypatch.setattr(cli, "media_storage", keep)
    # moto closes each connection after its response; the proxy keeps them alive, as S3 does.
    with running_proxy(s3_endpoint) as proxy, no_collection():
        media_settings["endpoint_url"] = proxy.url
        before = open_descriptors()
        upload()
        upload()  # everything there already
        assert len(storages) == 2
        left = opened_since(before)
    assert not left, f"{len(left)} descriptors left open: {sorted(left.values())}"


# --- symbolic links: followed inside the directory uploaded, never out of it ------------------


def test_a_link_out_of_media_root_is_skipped_and_named(
    media_settings: dict[str, Any], media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    """The reproduced case: a link to the project's .env was uploaded into the tenant's prefix."""
    secret = media_root.parent / ".env"
    secret.write_bytes(b"SECRET_KEY=not-for-tenants\n")
    (media_root / "settings.txt").symlink_to("../.env")
    elsewhere = write_tree(media_root.parent / "elsewhere", {"id_rsa": b"-----BEGIN"})
    (media_root / "keys").symlink_to(elsewhere, target_is_directory=True)

    out, err = upload()

    stored = bucket_objects(s3_client, media_bucket)
    assert stored == {f"media/acme/{name}": content for name, content in TREE.items()}
    keys, settings_link = media_root / "keys", media_root / "settings.txt"
    assert err.splitlines() == [
        f"skipped: keys: {keys} is a symbolic link to {elsewhere.resolve()}, outside "
        f"{media_root}; not uploaded",
        f"skipped: settings.txt: {settings_link} is a symbolic link to {secret.resolve()}, "
        f"outside {media_root}; not uploaded",
    ]
    assert out.strip().endswith("0 refused, 0 failed, 2 link(s) skipped.")


def test_links_inside_media_root_are_followed(
    make_storage: MakeStorage, media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    (media_root / "latest.png").symlink_to("avatars/ada.png")
    (media_root / "current").symlink_to("docs", target_is_directory=True)
    # Out and back in: the resolved target is what counts.
    (media_root / "docs/readme-link.txt").symlink_to(f"../../{media_root.name}/readme.txt")

    report = upload_media(make_storage(), media_root)

    assert report.of(Action.SKIPPED) == []
    assert bucket_objects(s3_client, media_bucket) == {
        **{f"media/acme/{name}": content for name, content in TREE.items()},
        "media/acme/latest.png": TREE["avatars/ada.png"],
        "media/acme/current/terms.pdf": TREE["docs/terms.pdf"],
        "media/acme/current/readme-link.txt": TREE["readme.txt"],
        "media/acme/docs/readme-link.txt": TREE["readme.txt"],
    }


def test_a_link_loop_is_skipped(
    make_storage: MakeStorage, media_root: Path, s3_client: Any, media_bucket: str
) -> None:
    (media_root / "docs/up").symlink_to("..", target_is_directory=True)

    report = upload_media(make_storage(), media_root)

    [loop] = report.of(Action.SKIPPED)
    assert loop.name == "docs/up"
    assert "a directory that contains it (a loop)" in loop.detail
    assert set(bucket_objects(s3_client, media_bucket)) == {f"media/acme/{n}" for n in TREE}


def test_media_root_itself_may_be_a_link(
    make_storage: MakeStorage, media_root: Path, tmp_path: Path, s3_client: Any, media_bucket: str
) -> None:
    linked_root = tmp_path / "media-link"
    linked_root.symlink_to(media_root, target_is_directory=True)
    (media_root / "latest.png").symlink_to(media_root / "avatars/bob.png")

    report = upload_media(make_storage(), linked_root)

    assert report.of(Action.SKIPPED) == []
    assert bucket_objects(s3_client, media_bucket)["media/acme/latest.png"] == b"\x89PNG bob"
