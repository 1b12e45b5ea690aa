"""collectstatic with AssetPipeStorage: names, rewriting, reporting and incremental runs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from io import StringIO
from pathlib import Path

import brotli
import pytest

from assetpipe.build.outputs import TEMP_SUFFIX
from tests.conftest import StaticProject, post_processing_error

pytestmark = pytest.mark.django_db(databases=[])

CSS = """@import url("base.css");
body { background: url("img/bg.png"); }
.logo { background: url('img/logo.svg#mark'); }
"""
BASE_CSS = "html { color: #333; }\n" * 40


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()[:12]


def summary(stdout: str) -> dict[str, int]:
    match = re.search(
        r"(\d+) files: (\d+) hashed \((\d+) reused\), (\d+) files compressed \((\d+) reused\)",
        stdout,
    )
    assert match, stdout
    keys = ("files", "hashed", "hashed_reused", "compressed", "compressed_reused")
    return dict(zip(keys, map(int, match.groups()), strict=True))


def make_site(project: StaticProject) -> None:
    project.write("css/site.css", CSS)
    project.write("css/base.css", BASE_CSS)
    project.write("css/img/bg.png", b"\x89PNG fake image bytes")
    project.write(
        "css/img/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'>" + "<g/>" * 50 + "</svg>"
    )
    project.write("js/app.js", "console.log('hello');\n" * 30)


def test_names_and_rewrites(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    manifest = project.manifest()
    png = md5(b"\x89PNG fake image bytes")
    assert manifest["css/img/bg.png"] == f"css/img/bg.{png}.png"
    site = project.read(manifest["css/site.css"])
    assert f'url("img/bg.{png}.png")'.encode() in site
    assert b'@import url("base.' + md5(BASE_CSS.encode()).encode() + b'.css")' in site
    assert re.search(rb'url\("img/logo\.[0-9a-f]{12}\.svg#mark"\)', site)
    # The hashed name is the hash of the rewritten content, as Django computes it.
    assert manifest["css/site.css"] == f"css/site.{md5(site)}.css"
    # Originals stay as they were.
    assert project.read("css/site.css") == CSS.encode()


def test_matches_djangos_manifest_storage_on_admin(project: StaticProject, settings) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.AppDirectoriesFinder"]
    finders.get_finder.cache_clear()  # type: ignore[attr-defined]
    project.collect(verbosity=0)
    ours = project.files()

    reference_root = project.base / "django"
    settings.STATIC_ROOT = str(reference_root)
    settings.STORAGES = {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    theirs = {
        str(p.relative_to(reference_root)): p.read_bytes()
        for p in reference_root.rglob("*")
        if p.is_file()
    }
    assert (
        json.loads(ours.pop("staticfiles.json"))["paths"]
        == json.loads(theirs.pop("staticfiles.json"))["paths"]
    )
    without_variants = {k: v for k, v in ours.items() if not k.endswith((".br", ".gz"))}
    assert without_variants == theirs
    assert len(theirs) > 100


def test_variants_decompress_to_their_originals(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    files = project.files()
    variants = [name for name in files if name.endswith((".br", ".gz"))]
    assert variants
    for name in variants:
        original = files[name[:-3]]
        decoded = (
            brotli.decompress(files[name]) if name.endswith(".br") else gzip.decompress(files[name])
        )
        assert decoded == original, name
    # Images other than SVG are never compressed; SVG is.
    assert not any(
        name.startswith("css/img/bg.") and name.endswith((".br", ".gz")) for name in files
    )
    assert "css/img/logo.svg.br" in files


def test_skip_rules(project: StaticProject) -> None:
    project.write("empty.css", "")
    project.write("noise.txt", os.urandom(4096))  # does not compress by 5%
    project.write("font.woff2", b"wOF2" + b"a" * 4000)
    project.write("data.json", '{"a": 1}' * 500)
    project.collect()
    files = project.files()
    for name in ("empty.css", "noise.txt", "font.woff2"):
        assert name + ".br" not in files and name + ".gz" not in files, name
    assert "data.json.br" in files and "data.json.gz" in files

    # never_compress adds to the defaults: fonts stay uncompressed.
    project.configure(never_compress=["JSON"])
    project.collect(clear=True)
    files = project.files()
    assert "data.json.br" not in files and "font.woff2.br" not in files


def test_unique_content_is_compressed_once(project: StaticProject) -> None:
    project.write("a.js", "var a = 1;\n" * 100)
    project.write("copy/a.js", "var a = 1;\n" * 100)
    out, _ = project.collect()
    # Four files (two originals, two hashed copies) get variants, all from one compression
    # (the compress step's own tests count the encodings).
    assert summary(out)["compressed"] == 4
    files = project.files()
    assert files["a.js.br"] == files["copy/a.js.br"] == files[project.manifest()["a.js"] + ".br"]


def test_gzip_is_deterministic(project: StaticProject) -> None:
    project.write("app.js", "console.log(1);\n" * 100)
    project.collect()
    header = project.read("app.js.gz")[:10]
    assert header[4:8] == b"\0\0\0\0"  # mtime 0
    assert header[3] & 0x08 == 0  # no file name


def test_identical_bytes_from_two_builds(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    builds = []
    for name in ("one", "two"):
        project = StaticProject(tmp_path / name, settings)
        make_site(project)
        project.collect()
        builds.append(project.files())
    assert builds[0] == builds[1]


def test_no_change_run_does_nothing(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    before = {p: p.stat().st_mtime_ns for p in project.root.rglob("*")}
    out, _ = project.collect()
    counts = summary(out)
    assert counts["hashed"] == 0 and counts["compressed"] == 0
    assert counts["hashed_reused"] == 5
    after = {p: p.stat().st_mtime_ns for p in project.root.rglob("*")}
    assert after == before


def test_one_change_rewrites_only_what_depends_on_it(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    old = project.manifest()
    project.write("css/base.css", BASE_CSS + "a { color: red; }\n")
    out, _ = project.collect()
    counts = summary(out)
    new = project.manifest()
    changed = {name for name in new if new[name] != old[name]}
    assert changed == {"css/base.css", "css/site.css"}
    # base.css and site.css get new hashed files: base.css's original, its hashed copy and
    # site.css's hashed file get new variants; site.css's original is unchanged.
    assert counts["hashed"] == 2
    assert counts["compressed"] == 3
    assert project.read(new["css/site.css"]).count(new["css/base.css"].split("/")[-1].encode()) == 1


def test_same_size_edit_is_seen(project: StaticProject) -> None:
    project.write("app.js", "var a = 1;\n")
    project.collect()
    before = project.manifest()["app.js"]
    path = project.source / "app.js"
    mtime = path.stat().st_mtime_ns
    path.write_text("var a = 2;\n")
    os.utime(path, ns=(mtime + 1, mtime + 1))
    project.collect()
    assert project.manifest()["app.js"] != before
    assert project.read(project.manifest()["app.js"]) == b"var a = 2;\n"


def test_fresh_checkout_with_new_mtimes_reuses_everything(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    for path in project.source.rglob("*"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    out, _ = project.collect()
    counts = summary(out)
    assert counts["hashed"] == 0 and counts["compressed"] == 0


def test_state_lives_outside_static_root(project: StaticProject) -> None:
    make_site(project)
    project.collect()
    assert (project.root.parent / ".assetpipe").is_dir()
    assert not any(".assetpipe" in p.parts for p in project.root.rglob("*"))


@pytest.mark.parametrize("corruption", [b"", b"{not json", b'{"format": 1}', b"\x00" * 100])
def test_corrupt_state_means_full_work_and_correct_output(
    project: StaticProject, corruption: bytes
) -> None:
    make_site(project)
    project.collect()
    expected = project.files()
    for state in (project.root.parent / ".assetpipe").glob("*.json"):
        state.write_bytes(corruption)
    for path in project.root.rglob("*"):
        if path.is_file() and path.name != "staticfiles.json":
            path.unlink()
    out, _ = project.collect()
    counts = summary(out)
    assert counts["hashed"] == 5
    # Compressed bytes are cached by content outside the state, so they survive it.
    assert counts["compressed"] == 0
    assert project.files() == expected


def test_clear_and_deleted_static_root_stay_correct(project: StaticProject) -> None:
    import shutil

    make_site(project)
    project.collect()
    expected = project.files()
    out, _ = project.collect(clear=True)
    assert project.files() == expected
    # Compressed bytes come back from the cache outside STATIC_ROOT.
    assert summary(out)["compressed"] == 0
    shutil.rmtree(project.root)
    project.collect()
    assert project.files() == expected


def test_state_dir_inside_static_root_is_refused(project: StaticProject) -> None:
    from django.core.exceptions import ImproperlyConfigured

    make_site(project)
    project.configure(state_dir=str(project.root / ".assetpipe"))
    with pytest.raises(ImproperlyConfigured, match="inside STATIC_ROOT"):
        project.collect()


def test_dry_run_writes_nothing(project: StaticProject) -> None:
    make_site(project)
    project.collect(dry_run=True)
    assert not project.root.exists() or not any(project.root.rglob("*"))
    assert not (project.root.parent / ".assetpipe").exists()


def test_missing_reference_warns_with_file_and_line(project: StaticProject) -> None:
    project.write("css/app.css", "a{}\nb { background: url(missing.png) }\n")
    project.write("js/lib.js", "var x;\n//# sourceMappingURL=lib.js.map\n")
    _out, err = project.collect()
    assert "css/app.css:2: url(missing.png) -> css/missing.png (not found)" in err
    assert "js/lib.js:2:" in err and "js/lib.js.map" in err
    hashed_js = project.read(project.manifest()["js/lib.js"])
    assert hashed_js == b"var x;\n//# sourceMappingURL=lib.js.map\n"
    assert b"url(missing.png)" in project.read(project.manifest()["css/app.css"])
    # The warning is repeated on a run that reuses the file.
    _, err = project.collect()
    assert "css/app.css:2:" in err


def test_strict_missing_references_fail_listing_all(project: StaticProject) -> None:
    project.write("css/app.css", "a { background: url(one.png) }\nb { background: url(two.png) }\n")
    project.configure(missing_references="fail")
    with pytest.raises(Exception) as info:
        project.collect()
    error = post_processing_error(info, ValueError)
    assert str(error) == (
        "2 references to missing files (strict mode):\n"
        "  css/app.css:1: url(one.png) -> css/one.png (not found)\n"
        "  css/app.css:2: url(two.png) -> css/two.png (not found)"
    )
    assert not (project.root / "staticfiles.json").exists()


def test_non_utf8_is_hashed_as_bytes_with_a_warning(project: StaticProject) -> None:
    data = b"a { content: '\xff\xfe'; background: url(x.png) }"
    project.write("latin.css", data)
    _, err = project.collect()
    assert "latin.css" in err and "UTF-8" in err
    assert project.read(project.manifest()["latin.css"]) == data
    assert project.manifest()["latin.css"] == f"latin.{md5(data)}.css"


def test_non_utf8_strict_fails(project: StaticProject) -> None:
    project.write("latin.css", b"a { content: '\xff' }")
    project.configure(missing_references="fail")
    with pytest.raises(Exception) as info:
        project.collect()
    assert str(post_processing_error(info, UnicodeDecodeError)) == (
        "'utf-8' codec can't decode byte 0xff in position 14: invalid start byte"
    )


def test_cycle_is_left_unhashed_and_consistent(project: StaticProject) -> None:
    project.write("a.css", '@import url("b.css");\n')
    project.write("b.css", '@import url("a.css");\n')
    _, err = project.collect()
    assert "circular" in err and "a.css <-> b.css" in err
    manifest = project.manifest()
    # Every reference in the output points at a file that exists.
    for name in ("a.css", "b.css"):
        content = project.read(manifest[name]).decode()
        for target in re.findall(r'url\("([^"]+)"\)', content):
            assert (project.root / target).is_file(), (name, target)


def test_js_module_imports(project: StaticProject) -> None:
    project.write("js/util.js", "export const x = 1;\n")
    project.write(
        "js/main.js",
        "import { x } from './util.js';\n"
        "// import { y } from './commented.js';\n"
        "const s = \"import z from './string.js'\";\n"
        "const m = await import('./util.js');\n",
    )
    project.configure(js_module_imports=True)
    _, err = project.collect()
    manifest = project.manifest()
    util = manifest["js/util.js"].split("/")[-1]
    main = project.read(manifest["js/main.js"]).decode()
    assert f'import {{ x }} from "./{util}"' in main
    assert f'import("./{util}")' in main
    assert "'./commented.js'" in main and "'./string.js'" in main
    assert "commented.js" not in err and "string.js" not in err


def test_summary_is_printed(project: StaticProject) -> None:
    make_site(project)
    out, _ = project.collect()
    assert re.search(
        r"assetpipe: 5 files: 5 hashed \(0 reused\), \d+ files compressed \(0 reused\)", out
    )
    out, _ = project.collect(verbosity=0)
    assert out == ""


def test_summary_goes_to_the_process_streams_under_djangos_own_command(
    project: StaticProject, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.contrib.staticfiles.management.commands.collectstatic import Command
    from django.core.management import call_command

    make_site(project)
    call_command(Command(), interactive=False, verbosity=0, stdout=StringIO())
    assert "assetpipe: 5 files: 5 hashed" in capsys.readouterr().out


# Runs collectstatic with os.replace patched: on the Nth rename (a file fully written under its
# temporary name, not yet in place) it records the rename in the marker and kills the process.
INTERRUPT_SCRIPT = """\
import os, signal, sys

marker, kill_at = sys.argv[1], int(sys.argv[2])
real_replace = os.replace
calls = 0


def replace(src, dst, *args, **kwargs):
    global calls
    calls += 1
    if calls == kill_at:
        with open(marker, "w") as f:
            f.write(f"{os.fspath(src)}\\n{os.fspath(dst)}\\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)


os.replace = replace
from django.core.management import execute_from_command_line

execute_from_command_line(["manage.py", "collectstatic", "--noinput", "-v0"])
"""


# 12 sources: renames 1-12 are Django's copy phase, 13-24 the hashed copies, then the
# compressed-bytes cache and the variants.
@pytest.mark.parametrize("kill_at", [5, 17, 40])
def test_interrupted_run_leaves_no_partial_file(
    project: StaticProject, tmp_path: Path, kill_at: int
) -> None:
    """A build killed halfway through a write, then rerun, ends with a complete, correct tree."""
    import signal
    import subprocess
    import sys

    for i in range(12):
        project.write(f"js/file{i:02}.js", f"var v{i} = '{os.urandom(8).hex()}';\n" * 200)
    (tmp_path / "interrupt_settings.py").write_text(
        "from tests.settings import *\n"
        f"STATIC_ROOT = {str(project.root)!r}\n"
        f"STATICFILES_DIRS = [{str(project.source)!r}]\n"
        "STATICFILES_FINDERS = ['django.contrib.staticfiles.finders.FileSystemFinder']\n"
    )
    script, marker = tmp_path / "interrupt.py", tmp_path / "killed"
    script.write_text(INTERRUPT_SCRIPT)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).parent.parent)]),
        "DJANGO_SETTINGS_MODULE": "interrupt_settings",
    }
    killed = subprocess.run([sys.executable, str(script), str(marker), str(kill_at)], env=env)
    assert killed.returncode == -signal.SIGKILL
    # The kill came between writing a file under its temporary name and renaming it.
    temp, target = marker.read_text().splitlines()
    assert temp.endswith(TEMP_SUFFIX) and Path(temp).is_file()
    assert Path(target).parent == Path(temp).parent  # a short name beside the target

    subprocess.run([sys.executable, str(script), str(marker), "0"], env=env, check=True)
    assert not [p for p in project.base.rglob("*") if p.name.endswith(TEMP_SUFFIX)]
    files = project.files()
    manifest = project.manifest()
    assert len(manifest) == 12
    for original, hashed in manifest.items():
        assert files[hashed] == files[original] == (project.source / original).read_bytes()
    variants = [name for name in files if name.endswith((".br", ".gz"))]
    assert len(variants) == 4 * 12
    for name in variants:
        decode = brotli.decompress if name.endswith(".br") else gzip.decompress
        assert decode(files[name]) == files[name[:-3]], name
