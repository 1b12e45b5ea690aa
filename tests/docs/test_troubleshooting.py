"""Every message on the troubleshooting page is what the code prints.

Each test makes the code produce the message, with the page's example names and paths (by
triggering it, or by calling the function the code builds it with), and asserts that the page
holds it word for word. The browser's CORS message is checked in ``test_cors_message.py``.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import brotli
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from django.core.checks import CheckMessage
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template import engines
from pytest_django.fixtures import Settings

from assetpipe import checks, extras
from assetpipe.build.compress import ENCODINGS, Compressor, FetchedVariant
from assetpipe.build.lock import BuildLock, lock_path
from assetpipe.build.outputs import BuiltFile, WriteError, scan_tree
from assetpipe.build.report import BuildReport
from assetpipe.build.state import CompressState
from assetpipe.conf import images as image_settings
from assetpipe.conf.options import parse_storage_options
from assetpipe.conf.s3 import PublishError, S3Config
from assetpipe.digests import md5_file
from assetpipe.edge.negotiation import Negotiation
from assetpipe.publish import bucket_manifest_storage as manifest_storage
from assetpipe.publish import prune, s3, upload
from assetpipe.publish.client import S3Client
from assetpipe.publish.history import HistoryEntry
from assetpipe.publish.inventory import list_prefix
from assetpipe.publish.local import LocalFile
from assetpipe.publish.plan import Upload
from assetpipe.storage import AssetPipeStorage
from tests.conftest import StaticProject, post_processing_error
from tests.docs.pages import text

pytestmark = pytest.mark.django_db(databases=[])

PAGE = text("troubleshooting.md")
STATIC_ROOT = Path("/srv/app/static")
STATE_DIR = Path("/srv/app/.assetpipe")
CONFIG = {"bucket_name": "acme-static", "location": "static", "region_name": "eu-west-1"}


def assert_on_page(message: str) -> None:
    """Every line of ``message`` is on the page, and the whole message where it is one line."""
    assert message.strip(), "no message"
    for line in message.strip("\n").splitlines():
        assert line in PAGE, f"not on the troubleshooting page:\n{line}"


def as_shown(error: BaseException) -> str:
    """An exception as a traceback's last line shows it."""
    kind = type(error)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    if kind is CommandError:
        module = ""  # manage.py prints "CommandError: ..."
    return f"{module}{kind.__qualname__}: {error}"


def check_output(message: CheckMessage) -> str:
    """A check message as ``manage.py check`` prints it."""
    return str(message)


# --- building ------------------------------------------------------------------------------------


def test_build_warnings(project: StaticProject) -> None:
    project.write(
        "css/app.css", 'body { color: red; }\nbody{background:url("../img/missing.png")}\n'
    )
    project.write("css/site.css", '@import url("q%3F.css");\n')
    project.write("css/q?.css", "p { color: blue; }\n")
    project.write("js/lib.js", "var a = 1;\n//# sourceMappingURL=lib.js.map\n")
    project.write("css/latin1.css", b'body{content:"\xff\xfe"}\n')
    project.write("css/a.css", '@import "b.css";\n')
    project.write("css/b.css", '@import "a.css";\n')
    _, err = project.collect()
    warnings = err.split("assetpipe: ")[0]
    assert_on_page(warnings)


def test_prehashed_and_repaired_warnings() -> None:
    report = BuildReport(prehashed_changed=["assets/main-BV5bdbg-.js"], repaired=2)
    for line in report.warnings(None):
        assert_on_page(line)


def test_an_altered_variant_in_the_bucket(tmp_path: Path) -> None:
    name = "css/app.4f3a2b1c9d8e.css"
    (tmp_path / "css").mkdir()
    (tmp_path / name).write_bytes(b"body { color: red }\n" * 50)
    served = BuiltFile(name, md5_file(tmp_path / name), 1000, None, tmp_path)
    key = f"s3://acme-static/static/{name}.br"

    class Bucket:
        def fetch(self, wanted: Sequence[tuple[str, str]]) -> Iterator[FetchedVariant]:
            altered = brotli.compress(b"body { display: none }")
            yield FetchedVariant(name, "br", altered, ENCODINGS["br"].tag, key)

        def present(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
            return {}

    encodings = [ENCODINGS["br"], ENCODINGS["gzip"]]
    compressor = Compressor(
        tmp_path, encodings, CompressState(), scan_tree(tmp_path), cache_dir=None, remote=Bucket()
    )
    stats = compressor.run([served])
    for line in BuildReport(cache_problems=stats.warnings).warnings(None):
        assert_on_page(line)


def test_images_served_without_variants(project: StaticProject) -> None:
    from PIL import Image

    project.write("img/broken.png", b"\x89PNG\r\n\x1a\nnot really")
    logo = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(logo, "PNG")
    project.write("img/logo.png", logo.getvalue())
    project.write("img/logo.png.webp", b"RIFF")
    project.configure(images={})
    _, err = project.collect()
    lines = [line for line in err.splitlines() if "image" in line]
    assert lines[0] == "3 images served without AVIF/WebP variants, as collected:"
    assert_on_page(lines[0].replace("3 images", "2 images"))
    assert_on_page("  img/logo.png: " + lines[1].partition(": ")[2])  # the collected name
    # The reason after "not a readable image" is Pillow's own words.
    broken = next(line for line in lines if line.startswith("  img/broken.png:"))
    assert_on_page(broken.partition(" (")[0] + " (")


def test_bundler_record_problems(project: StaticProject, settings: Settings) -> None:
    project.write("bundles/chunks/main-ABCD2345.js", 'import("./lazy-5XJQ2ZKA.js");\n')
    outputs = {
        f"out/bundles/chunks/{n}-{h}.js": {"bytes": 1}
        for n, h in [("main", "ABCD2345"), ("lazy", "5XJQ2ZKA")]
    }
    project.write("bundles/meta.json", json.dumps({"inputs": {}, "outputs": outputs}))
    stats = project.base / "webpack-stats.json"
    stats.write_text('{"status": "compile"}')
    settings.WEBPACK_LOADER = {"DEFAULT": {"STATS_FILE": str(stats)}}
    _, err = project.collect()
    warnings = err.split("assetpipe: ")[0].replace(str(stats), "/srv/app/webpack-stats.json")
    assert "2 bundler record problems" in warnings
    assert_on_page(warnings)
    project.configure(missing_references="fail")
    with pytest.raises((ValueError, CommandError)) as failure:
        project.collect()
    error = post_processing_error(failure, ValueError)
    assert_on_page(as_shown(error).replace(str(stats), "/srv/app/webpack-stats.json"))


def test_undeclared_content_named_files(project: StaticProject) -> None:
    project.write("vendor/app.3f9a1c2b.js", "1;\n")
    project.write("vendor/chunk.7d2e0c4a.js", "2;\n")
    _, err = project.collect()
    warnings = err.split("assetpipe: ")[0]
    assert "look content-named" in warnings
    assert_on_page(warnings)


def test_strict_mode(project: StaticProject) -> None:
    project.write("js/lib.js", "var a = 1;\n//# sourceMappingURL=lib.js.map\n")
    project.configure(missing_references="fail")
    err = StringIO()
    with pytest.raises(Exception) as failure:
        call_command("collectstatic", interactive=False, stdout=StringIO(), stderr=err)
    chain = []
    error: BaseException | None = failure.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    missing = next(e for e in chain if e.startswith("1 reference to missing files"))
    assert_on_page(missing)
    # Django's line, on its error stream or in the error it raises.
    failed = "Post-processing 'js/lib.js' failed!"
    assert failed in err.getvalue() or any(failed in e for e in chain)
    assert_on_page(failed)


@pytest.fixture
def srv_paths(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A STATIC_ROOT and state directory whose paths the messages show as the page's."""
    root, state = tmp_path / "static", tmp_path / ".assetpipe"
    root.mkdir()
    yield root, state


def as_srv(message: str, root: Path, state: Path) -> str:
    page_lock = lock_path(STATE_DIR, STATIC_ROOT)
    return (
        message.replace(str(lock_path(state, root)), str(page_lock))
        .replace(str(state), str(STATE_DIR))
        .replace(str(root), str(STATIC_ROOT))
    )


def test_the_build_lock(
    srv_paths: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, state = srv_paths
    other = BuildLock(state, root)
    other.acquire(0, print)
    clock = iter([0.0, 0.0, 601.0])
    monkeypatch.setattr("assetpipe.build.lock.time.monotonic", lambda: next(clock))
    storage = AssetPipeStorage(location=str(root), state_dir=str(state), lock_timeout=600)
    try:
        with pytest.raises(CommandError) as failure:
            storage.copy.take_lock()
    finally:
        other.release()
    assert_on_page(as_srv(capsys.readouterr().err, root, state))
    assert_on_page(as_srv(as_shown(failure.value), root, state))


def test_state_dir_inside_static_root(settings: Settings) -> None:
    settings.STATIC_ROOT = str(STATIC_ROOT)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "assetpipe.storage.AssetPipeStorage",
            "OPTIONS": {"state_dir": str(STATIC_ROOT / ".assetpipe")},
        },
    }
    [error] = checks.check_static_options()
    assert_on_page(check_output(error))
    storage = AssetPipeStorage(location=str(STATIC_ROOT), state_dir=str(STATIC_ROOT / ".assetpipe"))
    with pytest.raises(ImproperlyConfigured) as failure:
        storage.state_dir  # noqa: B018  (the property raises)
    assert_on_page(as_shown(failure.value))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk(code: int) -> None:
    error = WriteError(STATIC_ROOT / "css" / "app.css", OSError(code, os.strerror(code)))
    # AssetPipeStorage raises it as CommandError(f"assetpipe: {exc}").
    assert_on_page(f"CommandError: assetpipe: {error}")


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": ["br"]},
        {"lock_timeout": -1},
        {"s3": {"bucket": "acme-static"}},
        {"cdn": "cloudfront"},
        {"cdn": "cloudfront", "s3": CONFIG},
        {"import_map": ["*.mjs"]},
        {"compress_workers": 4},
        {"s3": {**CONFIG, "upload_encodings": True}},
    ],
    ids=[
        "unknown",
        "invalid",
        "s3-key",
        "cdn-without-s3",
        "cdn-without-bucket-variants",
        "import-map-without-integrity",
        "renamed",
        "s3-renamed",
    ],
)
def test_an_unknown_or_invalid_option(options: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured) as failure:
        parse_storage_options(options)
    assert_on_page(as_shown(failure.value))


def test_collectstatic_is_djangos_command(settings: Settings) -> None:
    apps = [app for app in settings.INSTALLED_APPS if app != "assetpipe"]
    settings.INSTALLED_APPS = [*apps, "assetpipe"]
    [warning] = checks.check_app_order()
    assert_on_page(check_output(warning))


@pytest.mark.parametrize("extra", ["s3", "media", "images"])
def test_a_missing_extra(extra: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extras, "find_spec", lambda name: None)
    if extra == "s3":
        with pytest.raises(ImproperlyConfigured) as failure:
            parse_storage_options({"s3": CONFIG})
        assert_on_page(as_shown(failure.value))
    elif extra == "images":
        monkeypatch.setattr(image_settings, "find_spec", lambda name: None)
        with pytest.raises(ImproperlyConfigured) as failure:
            parse_storage_options({"images": {}})
        assert_on_page(as_shown(failure.value))
    else:
        with pytest.raises(ImproperlyConfigured) as failure:
            extras.require(extra)
        assert_on_page(as_shown(failure.value))


# --- templates and tests ---------------------------------------------------------------------


def test_missing_staticfiles_manifest_entry(tmp_path: Path) -> None:
    storage = AssetPipeStorage(location=str(tmp_path))  # no build: no manifest
    with pytest.raises(ValueError) as failure:
        storage.url("css/app.css")
    assert_on_page(as_shown(failure.value))


@pytest.mark.parametrize("name", ["css/sitee.css", "/css/site.css", "css/../site.css"])
def test_missing_staticfiles_manifest_entry_in_development(
    project: StaticProject, settings: Settings, name: str
) -> None:
    project.write("css/site.css", "body { color: red; }\n")
    settings.DEBUG = True
    template = engines["django"].from_string("{% load static %}{% static name %}")
    with pytest.raises(ValueError) as failure:
        template.render({"name": name})
    assert_on_page(as_shown(failure.value))


def test_no_integrity_for_a_path(project: StaticProject) -> None:
    project.write("js/app.js", "console.log('app');\n")
    project.collect("-v", "0")
    template = engines["django"].from_string('{% load assetpipe %}{% static_script "js/app.js" %}')
    with pytest.raises(ValueError) as failure:
        template.render({})
    assert_on_page(as_shown(failure.value))


def test_the_debug_log_line(
    project: StaticProject,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    project.write("x.js", "console.log('x');\n")  # a finder finds it: no DEBUG error
    monkeypatch.setattr("assetpipe.templatetags.assetpipe._logged", set())
    settings.DEBUG = True
    template = engines["django"].from_string('{% load assetpipe %}{% static_integrity "x.js" %}')
    with caplog.at_level(logging.WARNING, logger="assetpipe"):
        template.render({})
    messages = [record.getMessage() for record in caplog.records]
    assert any("DEBUG is on" in message for message in messages), messages
    for message in messages:
        assert_on_page(message)


# --- publishing ----------------------------------------------------------------------------------


class Refusing:
    """A botocore client whose every request fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def request(*args: object, **kwargs: object) -> None:
            raise self.error

        return request


def client_error(code: str, status: int, operation: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


def refusing_client(error: Exception, **options: object) -> S3Client:
    client = S3Client(S3Config.from_options({**CONFIG, **options}))
    client.client = Refusing(error)
    return client


def listing_error(error: Exception) -> str:
    s3_client = refusing_client(error)
    with pytest.raises(PublishError) as failure:
        list_prefix(s3_client, s3_client.config.prefix)
    # manage.py assetpipe sync and collectstatic raise it as a CommandError with its text.
    return f"CommandError: {failure.value}"


def test_access_denied_while_uploading(tmp_path: Path) -> None:
    names = ["css/app.css", *(f"js/{n}.js" for n in range(11))]
    uploads = []
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
        uploads.append(Upload(LocalFile(name, tmp_path, 1, hashed=False), f"static/{name}", "new"))
    s3_client = refusing_client(client_error("AccessDenied", 403, "PutObject"))
    with pytest.raises(PublishError) as failure:
        upload.upload_files(s3_client, uploads, None)
    assert_on_page(f"CommandError: {failure.value}")


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDenied", 403, "ListObjectsV2"),
        NoCredentialsError(),
        client_error("InvalidAccessKeyId", 403, "ListObjectsV2"),
        client_error("NoSuchBucket", 404, "ListObjectsV2"),
        EndpointConnectionError(
            endpoint_url="https://acme-static.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=static%2F"
        ),
    ],
    ids=["access-denied", "no-credentials", "rejected", "no-bucket", "unreachable"],
)
def test_listing_failures(error: Exception) -> None:
    assert_on_page(listing_error(error))


def test_a_pinned_build_the_bucket_does_not_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    history = [
        HistoryEntry("manifests/20260105T120000000000Z-3b1f0c9e8d7a.json", "3b1f0c9e8d7a"),
        HistoryEntry("manifests/20260104T093000000000Z-9e107d9d372b.json", "9e107d9d372b"),
    ]
    monkeypatch.setattr(manifest_storage, "remote_history", lambda s3_client: history)
    config = S3Config.from_options(
        {**CONFIG, "read_manifest_from_bucket": True, "manifest_digest": "0123456789ab"}
    )
    with pytest.raises(ImproperlyConfigured) as failure:
        manifest_storage.PinnedManifestStorage(config)._find()
    assert_on_page(as_shown(failure.value))


def test_prune_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PublishError) as no_location:
        prune.prune(S3Config.from_options({**CONFIG, "location": ""}))
    assert_on_page(f"CommandError: {no_location.value}")
    monkeypatch.setattr(prune, "list_prefix", lambda s3_client, prefix: {})
    with pytest.raises(PublishError) as no_manifest:
        prune.prune(S3Config.from_options(CONFIG))
    assert_on_page(f"CommandError: {no_manifest.value}")


def test_the_edge_would_ask_for_a_missing_variant() -> None:
    both = {**CONFIG, "variants": "static_root_and_bucket"}
    options, _ = parse_storage_options({"s3": both, "cdn": "cloudfront"})
    config = options.s3
    negotiation = Negotiation.for_options(options, "staticfiles.json")
    assert config is not None and negotiation is not None
    app = LocalFile("css/app.css", STATIC_ROOT, 2000, hashed=False)
    build = SimpleNamespace(root=STATIC_ROOT, files={"css/app.css": app})
    with pytest.raises(PublishError) as failure:
        s3.check_variants(build, config, negotiation)  # type: ignore[arg-type]
    assert_on_page(f"CommandError: {failure.value}")


# --- media ---------------------------------------------------------------------------------------


def test_a_missing_tenant(settings: Settings) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "assetpipe.media.TenantMediaStorage",
            "OPTIONS": {"bucket_name": "acme-media", "location": "media", "tenant": None},
        },
    }
    [error] = checks.check_media_configuration()
    assert_on_page(check_output(error))


def test_signed_urls_on_a_custom_domain() -> None:
    from assetpipe.media import TenantMediaStorage

    with pytest.raises(ImproperlyConfigured) as failure:
        TenantMediaStorage(
            bucket_name="acme-media", tenant="globex", custom_domain="media.example.com"
        )
    assert_on_page(as_shown(failure.value))


def test_no_unchecked_message_blocks() -> None:
    # Every ```text block of the page is one of the messages above: a new entry needs a test.
    blocks = PAGE.count("```text\n")
    assert blocks == 50, f"{blocks} message blocks: add a test for the new one, then this count"
