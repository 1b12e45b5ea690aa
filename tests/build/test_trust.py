"""Never a wrong byte: corrupt caches, forged stamps, edited outputs, shared state, concurrent
runs, full and read-only disks, long names and references to files that left the build."""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import brotli
import django
import pytest
from django.core.management.base import CommandError

from assetpipe.build.outputs import is_temp_name
from tests.conftest import StaticProject

pytestmark = pytest.mark.django_db(databases=[])

CSS = 'body { background: url("img/bg.png"); }\n' + ".a { color: red; }\n" * 60
JS = "console.log('hello');\n" * 60


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()[:12]


def make_site(project: StaticProject) -> None:
    project.write("css/site.css", CSS)
    project.write("css/img/bg.png", b"\x89PNG fake image bytes")
    project.write("js/app.js", JS)


def assert_tree_correct(project: StaticProject, exact: bool = False) -> None:
    """Every variant decodes to the file beside it; every hashed name hashes its bytes; the
    originals are the sources; with ``exact`` (a cold tree), nothing else is there."""
    files = project.files()
    manifest = project.manifest()
    assert not [name for name in files if is_temp_name(name.rpartition("/")[2])]
    expected = {"staticfiles.json"}
    for original, hashed in manifest.items():
        source = (project.source / original).read_bytes()
        assert files[original] == source, original
        if hashed != original:
            assert md5(files[hashed]) == hashed.rsplit(".", 2)[-2], hashed
        expected |= {original, hashed}
    for name, data in files.items():
        if name.endswith((".br", ".gz")):
            decode = brotli.decompress if name.endswith(".br") else gzip.decompress
            assert decode(data) == files[name[:-3]], name
            expected.add(name)
    if exact:
        assert set(files) == expected, set(files) - expected
    for name in files:
        if name.endswith((".br", ".gz")) or name == "staticfiles.json":
            continue
        stem = name.rpartition(".")[0]
        digest = stem.rpartition(".")[2]
        if name not in manifest and len(digest) == 12:
            assert md5(files[name]) == digest, name


def state_dir(project: StaticProject) -> Path:
    return project.root.parent / ".assetpipe"


def cache_blobs(project: StaticProject) -> list[Path]:
    return sorted(p for p in state_dir(project).rglob("*.br") if p.is_file())


# -- wrong bytes -----------------------------------------------------------------------


def test_corrupt_cached_blob_is_discarded_and_recompressed(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    blobs = cache_blobs(project)
    assert blobs
    for blob in blobs:
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0xFF
        blob.write_bytes(bytes(data))
    for blob in state_dir(project).rglob("*.gzip"):
        blob.write_bytes(blob.read_bytes()[: blob.stat().st_size // 2])
    _, err = project.collect("--clear")
    assert "corrupt" in err
    assert_tree_correct(project)
    # The bad blobs were replaced: a third run copies good ones.
    _, err = project.collect("--clear")
    assert "corrupt" not in err
    assert_tree_correct(project)


def test_same_size_same_mtime_edit_is_seen(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    path = project.source / "js" / "app.js"
    before = path.stat()
    path.write_bytes(JS.replace("hello", "HELLO").encode())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r, cp -p
    project.collect()
    assert project.manifest()["js/app.js"] == f"js/app.{md5(path.read_bytes())}.js"
    assert_tree_correct(project)
    project.collect("--clear")
    assert_tree_correct(project)


def test_fresh_checkout_with_new_inodes_still_reuses_everything(project: StaticProject) -> None:
    import shutil

    make_site(project)
    project.collect()
    copy = project.base / "checkout"
    shutil.copytree(project.source, copy)  # new inodes, ctimes and mtimes, same bytes
    shutil.rmtree(project.source)
    copy.rename(project.source)
    out, _ = project.collect()
    assert "0 hashed" in out and "0 files compressed" in out
    assert_tree_correct(project)


@pytest.mark.parametrize("same_size", [True, False])
def test_hand_edited_outputs_are_rebuilt(project: StaticProject, same_size: bool) -> None:
    make_site(project)
    project.collect()
    manifest = project.manifest()
    for name in (manifest["css/site.css"], manifest["js/app.js"], "js/app.js"):
        data = project.read(name)
        edited = data.replace(b"red", b"RED").replace(b"hello", b"HELLO")
        (project.root / name).write_bytes(edited if same_size else edited + b"/* x */")
    (project.root / (manifest["js/app.js"] + ".br")).write_bytes(b"not brotli")
    project.collect()
    assert_tree_correct(project)


def test_future_mtimes_in_static_root(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    future = 4_000_000_000 * 10**9
    for path in project.root.rglob("*"):
        os.utime(path, ns=(future, future))
    project.write("js/app.js", JS + "console.log('more');\n")
    project.collect()
    assert_tree_correct(project)


def use(project: StaticProject, **options: object) -> None:
    project.settings.STATIC_ROOT = str(project.root)
    project.settings.STATICFILES_DIRS = [str(project.source)]
    project.configure(**options)


def test_shared_state_dir_keeps_projects_apart(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared-state"
    a = StaticProject(tmp_path / "a", settings)
    use(a, state_dir=str(shared))
    for i in range(80):
        a.write(f"js/a{i}.js", f"var a{i} = 1;\n" * 40)
    a.collect()
    b = StaticProject(tmp_path / "b", settings)  # STATIC_ROOT is ".../out/static" for both
    use(b, state_dir=str(shared))
    for i in range(20):
        b.write(f"js/b{i}.js", f"var b{i} = 2;\n" * 40)
    b.write("js/a0.js", "var not_a = 3;\n" * 40)
    b.collect()
    states = {json.loads(p.read_bytes())["root"]: p for p in shared.glob("*.json")}
    assert set(states) == {str(a.root.resolve()), str(b.root.resolve())}
    b_stem = states[str(b.root.resolve())].stem
    b_blobs = {p for p in shared.rglob("*.br") if p.parent.parent.name.startswith(b_stem)}
    assert len(b_blobs) == 21
    # Project a drops every file but one: enough garbage to prune its cache.
    use(a, state_dir=str(shared))
    for path in (a.source / "js").iterdir():
        if path.name != "a0.js":
            path.unlink()
    a.collect("--clear")
    assert_tree_correct(a)
    assert all(p.is_file() for p in b_blobs)
    use(b, state_dir=str(shared))
    out, _ = b.collect("--clear")
    assert "0 files compressed (42 reused)" in out  # b's cache survived a's pruning
    assert_tree_correct(b)


def test_reference_to_a_removed_source_is_missing(project: StaticProject) -> None:
    project.write("css/site.css", 'body { color: red; }\n.x { background: url("app.min.js"); }\n')
    project.write("css/app.min.js", "var app = 1;\n")
    project.collect()
    (project.source / "css" / "app.min.js").unlink()
    _, err = project.collect()
    assert "css/site.css:2" in err and "app.min.js" in err
    site = project.read(project.manifest()["css/site.css"])
    assert b'url("app.min.js")' in site
    project.configure(missing_references="fail")
    with pytest.raises(Exception, match=r"app\.min\.js"):
        project.collect()


# -- odd names --------------------------------------------------------------------------


def test_230_byte_name(project: StaticProject) -> None:
    name = "css/" + "n" * 226 + ".css"
    project.write(name, CSS.replace("img/bg.png", "../js/app.js"))
    project.write("js/app.js", JS)
    project.collect()
    assert_tree_correct(project)


def test_242_byte_name_gets_a_hashed_copy_and_no_variant_that_cannot_exist(
    project: StaticProject,
) -> None:
    name = "css/" + "n" * 238 + ".css"  # the hashed copy's name is 255 bytes: no room for ".br"
    project.write(name, CSS.replace("img/bg.png", "../js/app.js"))
    project.write("js/app.js", JS)
    project.collect()
    assert_tree_correct(project)
    assert (project.root / (name + ".br")).is_file()
    hashed = project.manifest()[name]
    assert len(hashed.rpartition("/")[2]) == 255
    assert [n for n in project.files() if n.startswith(hashed)] == [hashed]


def test_encoded_question_mark_in_a_name_is_left_as_written_with_a_warning(
    project: StaticProject,
) -> None:
    project.write("css/site.css", '@import url("q%3F.css");\n')
    project.write("css/q?.css", "p { color: blue; }\n")
    _, err = project.collect()
    site = project.read(project.manifest()["css/site.css"]).decode()
    # As written, the URL reaches the original (q?.css); Django's rewrite would 404.
    assert site == '@import url("q%3F.css");\n'
    assert "css/site.css:1" in err and "q%3F.css" in err


def test_nginx_well_known_under_static_agrees_with_whitenoise() -> None:
    from assetpipe.serve.nginx import StaticSite, render_snippet

    config = render_snippet(StaticSite(url_path="/static/", root=Path("/srv/static")))
    inner = config.split("location ^~ /static/ {", 1)[1]
    assert r"location ~ /\.(?!well-known/) {" in inner
    assert "/.well-known/" in config.split("location", 1)[0] + inner


# -- faults -----------------------------------------------------------------------------


def _run_as_root_mount(path: Path, *options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], check=False)


def mount_tmpfs(mounts: list[Path], path: Path, *options: str) -> None:
    _run_as_root_mount(path, *options)
    mounts.append(path)


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob(".ap-*") if p.is_file()]


def assert_one_failure(error: BaseException) -> None:
    """The error, its file-naming cause and the OS error: no second failure from cleaning up."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    assert len(chain) == 3, chain
    assert isinstance(chain[2], OSError) and chain[1].errno == chain[2].errno  # type: ignore[attr-defined]


def test_full_disk_is_one_clear_error(project: StaticProject, mounts: list[Path]) -> None:
    out = project.root.parent
    mount_tmpfs(mounts, out, "size=256k")
    project.write("js/big.js", os.urandom(300_000))
    with pytest.raises(CommandError) as raised:
        project.collect()
    message = str(raised.value)
    assert "big" in message and "No space left" in message
    assert_one_failure(raised.value)
    assert not temps(out)


def test_full_disk_in_hashing_is_one_clear_error(
    project: StaticProject, mounts: list[Path]
) -> None:
    out = project.root.parent
    mount_tmpfs(mounts, out, "size=512k")
    project.write("js/big.js", os.urandom(300_000))
    with pytest.raises(CommandError) as raised:
        project.collect()
    assert "No space left" in str(raised.value)
    assert_one_failure(raised.value)
    assert not temps(out)


def test_full_disk_in_compressing_is_one_clear_error(
    project: StaticProject, mounts: list[Path]
) -> None:
    out = project.root.parent  # the state_dir is on it too: the cache fails first, quietly
    mount_tmpfs(mounts, out, "size=1m")
    project.write("js/hex.js", os.urandom(150_000).hex())  # compresses to about half
    with pytest.raises(CommandError) as raised:
        project.collect()
    assert "No space left" in str(raised.value) and ".js." in str(raised.value)
    assert str(raised.value).endswith(
        (".br: No space left on device", ".gz: No space left on device")
    )
    assert_one_failure(raised.value)
    assert not temps(out)


def test_read_only_tree_is_one_clear_error(project: StaticProject, mounts: list[Path]) -> None:
    out = project.root.parent
    mount_tmpfs(mounts, out, "size=1m", "ro")
    make_site(project)
    with pytest.raises(CommandError) as raised:
        project.collect()
    assert "Read-only file system" in str(raised.value)
    assert_one_failure(raised.value)


def test_cache_write_failure_is_a_warning(project: StaticProject, mounts: list[Path]) -> None:
    state = project.base / "state"
    mount_tmpfs(mounts, state, "size=1m", "ro")
    project.configure(state_dir=str(state))
    make_site(project)
    _, err = project.collect()
    assert "could not" in err
    assert_tree_correct(project)


# -- concurrency ------------------------------------------------------------------------


def _collect_in_child(barrier, project: StaticProject, results) -> None:  # type: ignore[no-untyped-def]
    try:
        barrier.wait()
        project.collect()
        results.put("ok")
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put(repr(exc))
    finally:
        results.close()
        results.join_thread()  # the queue's feeder thread must flush before _exit
        os._exit(0)


def test_two_runs_at_once_both_end_well(project: StaticProject) -> None:
    for i in range(30):
        project.write(f"js/f{i}.js", f"var v{i} = '{i}';\n" * 300)
        project.write(f"css/c{i}.css", f'.c{i} {{ background: url("../js/f{i}.js"); }}\n' * 30)
    context = multiprocessing.get_context("fork")
    for _ in range(10):
        subprocess.run(["rm", "-rf", str(project.root.parent)], check=True)
        barrier, results = context.Barrier(2), context.Queue()
        children = [
            context.Process(target=_collect_in_child, args=(barrier, project, results))
            for _ in range(2)
        ]
        for child in children:
            child.start()
        outcomes = [results.get(timeout=120) for _ in children]
        for child in children:
            child.join()
        assert outcomes == ["ok", "ok"]
        assert_tree_correct(project, exact=True)
        assert not temps(project.root)


def test_a_held_lock_times_out_clearly(project: StaticProject) -> None:
    from assetpipe.build.lock import build_lock

    make_site(project)
    project.configure(lock_timeout=0)
    state_dir(project).mkdir(parents=True)
    held = build_lock(state_dir(project), project.root.resolve(), timeout=0, say=print)
    with held, pytest.raises(CommandError, match="another build"):
        project.collect()
    project.collect()
    assert_tree_correct(project)


def test_state_file_names_the_full_root(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    (state_file,) = state_dir(project).glob("*.json")
    assert json.loads(state_file.read_bytes())["root"] == str(project.root.resolve())


def test_a_second_build_waits_saying_so_once(tmp_path: Path) -> None:
    from assetpipe.build.lock import BuildLock, LockTimeout

    root = tmp_path / "static"
    first, second = BuildLock(tmp_path, root), BuildLock(tmp_path, root)
    first.acquire(0, say=pytest.fail)
    with pytest.raises(LockTimeout, match="another build"):
        second.acquire(0, say=lambda message: None)
    said: list[str] = []

    def say(message: str) -> None:
        said.append(message)
        first.release()  # the first build ends while the second waits

    second.acquire(60, say)
    assert second.held and len(said) == 1 and "waiting" in said[0]
    second.release()
    # Another STATIC_ROOT has a lock of its own.
    with build_lock_of(tmp_path, tmp_path / "other"), build_lock_of(tmp_path, root):
        pass


def build_lock_of(state: Path, root: Path):  # type: ignore[no-untyped-def]
    from assetpipe.build.lock import build_lock

    return build_lock(state, root, timeout=0, say=pytest.fail)


@pytest.mark.skipif(
    django.VERSION < (6, 0), reason="Django 5.2's url() pattern ends a data URI at its first ')'"
)
def test_an_encoded_delimiter_inside_a_data_uri_is_not_a_file_name(
    project: StaticProject,
) -> None:
    # Django 6.0's own test tree has this: the nested url()s belong to the data URI.
    css = 'div { background: url("data:image/svg+xml,url(%23b) url(%23c)"); }\n'
    project.write("css/nested.css", css)
    project.configure(missing_references="fail")
    _, err = project.collect()
    assert project.read(project.manifest()["css/nested.css"]).decode() == css
    assert "nested.css" not in err


def test_the_variants_of_an_original_and_its_hashed_copy_are_one_file(
    project: StaticProject,
) -> None:
    make_site(project)
    project.collect()
    hashed = project.manifest()["js/app.js"]
    for suffix in (".br", ".gz"):
        assert os.path.samefile(
            project.root / f"js/app.js{suffix}", project.root / f"{hashed}{suffix}"
        )
    out, _ = project.collect()
    assert "0 files compressed (" in out  # the links' new ctimes were recorded

    # An edit in place reaches both names; both are seen and rebuilt.
    with open(project.root / f"{hashed}.br", "r+b") as variant:
        variant.write(b"\0\0\0\0")
    project.collect()
    assert_tree_correct(project)


def test_a_hashed_copy_is_its_original_under_a_second_name_never_its_source(
    project: StaticProject,
) -> None:
    project.write("img/logo.svg", "<svg/>")
    project.collect()
    hashed = project.manifest()["img/logo.svg"]
    assert os.path.samefile(project.root / "img/logo.svg", project.root / hashed)
    assert not os.path.samefile(project.source / "img/logo.svg", project.root / hashed)
    # With collectstatic --link the originals are links to the sources: the copy is a file.
    project.collect(link=True, clear=True)
    assert (project.root / "img/logo.svg").is_symlink()
    assert not (project.root / hashed).is_symlink()
    assert not os.path.samefile(project.source / "img/logo.svg", project.root / hashed)
    (project.source / "img/logo.svg").write_text("<svg>changed</svg>")
    assert (project.root / hashed).read_text() == "<svg/>"


def test_linked_outputs_stay_trusted_after_the_run_that_linked_them(
    project: StaticProject,
) -> None:
    # Three copies of one content (vendored twice, and Django's hashed copies): every link made
    # changes the ctime all the names of the inode share.
    for directory in ("a", "b", "c"):
        project.write(f"{directory}/lib.js", "export const answer = 42;\n" * 40)
    project.write("img/logo.svg", "<svg/>")
    project.collect()
    state_before = project.root.parent / ".assetpipe"
    out, _ = project.collect()
    assert "0 hashed (" in out and "0 files compressed (" in out, out
    recorded = {p.name: p.stat().st_mtime_ns for p in state_before.glob("*.json")}
    project.collect()
    # Nothing was rewritten or re-recorded: the state file was left alone.
    assert {p.name: p.stat().st_mtime_ns for p in state_before.glob("*.json")} == recorded
    variants = [project.root / f"{d}/lib.js.br" for d in "abc"]
    assert os.path.samefile(variants[0], variants[2])
    assert_tree_correct(project)


def test_a_fresh_checkout_settles_in_one_run(project: StaticProject) -> None:
    # Django's copy phase replaces every original (newer sources); the hashed copies linked to
    # them are looked at again in the same run, not one run later.
    make_site(project)
    project.write("img/logo.svg", "<svg/>")
    project.collect()
    later = time.time_ns() + 5_000_000_000
    for path in project.source.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(later, later))
    project.collect()
    out, _ = project.collect()
    assert "0 hashed (" in out and "0 files compressed (" in out, out
    assert_tree_correct(project)


def numbers(seed: int) -> bytes:
    return "".join(f"var v{i} = {i * seed % 10007};\n" for i in range(300)).encode()


def test_a_foreign_blob_in_a_restored_cache_is_never_placed(project: StaticProject) -> None:
    """A cache directory restored from another job: under data.js's content, a blob of the right
    size with a valid checksum of its own that encodes other JavaScript. Only decoding it shows
    that; the checksum covers whatever bytes it was given."""
    from assetpipe.build.compress import ENCODINGS

    make_site(project)
    project.write("js/data.js", numbers(7919))
    project.collect()
    hashed = project.manifest()["js/data.js"]
    good = project.read(hashed + ".br")
    (blob,) = state_dir(project).rglob(f"{hashlib.md5(numbers(7919)).hexdigest()}.br")
    raw = blob.read_bytes()
    header = raw[: len(raw) - len(good)]
    # Other code, encoded as this build would, to exactly the variant's size.
    foreign = next(
        encoded
        for seed in range(1, 10007)
        if seed != 7919 and len(encoded := ENCODINGS["br"].encode(numbers(seed))) == len(good)
    )
    # The header as it was, only the payload's checksum (its last 16 bytes) redone.
    blob.write_bytes(header[:-16] + hashlib.md5(foreign).digest() + foreign)

    _, err = project.collect("--clear")

    assert "corrupt cached blob" in err
    assert project.read(hashed + ".br") == good
    assert_tree_correct(project)
