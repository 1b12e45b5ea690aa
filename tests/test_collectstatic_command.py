"""assetpipe's collectstatic: Django's command, with its per-file bookkeeping made constant-time."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from assetpipe.management.commands.collectstatic import Command, PathList
from tests.conftest import StaticProject

PATHS = st.sampled_from(["a.css", "b.js", "c/d.png", "e"])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("append"), PATHS),
        st.tuples(st.just("extend"), st.lists(PATHS, max_size=3)),
        st.tuples(st.just("insert"), st.tuples(st.integers(-3, 3), PATHS)),
        st.tuples(st.just("remove"), PATHS),
        st.tuples(st.just("pop"), st.integers(-3, 3)),
        st.tuples(st.just("setitem"), st.tuples(st.integers(-3, 3), PATHS)),
        st.tuples(st.just("delitem"), st.integers(-3, 3)),
        st.tuples(st.just("iadd"), st.lists(PATHS, max_size=3)),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=30,
)


def apply(target: list[str], operation: str, argument: object) -> None:
    match operation, argument:
        case "append", str(path):
            target.append(path)
        case "extend" | "iadd", list(paths):
            target += paths
        case "insert", (int(index), str(path)):
            target.insert(index, path)
        case "remove", str(path):
            if path in target:
                target.remove(path)
        case "pop", int(index):
            if -len(target) <= index < len(target):
                target.pop(index)
        case "setitem", (int(index), str(path)):
            if -len(target) <= index < len(target):
                target[index] = path
        case "delitem", int(index):
            if -len(target) <= index < len(target):
                del target[index]
        case "clear", None:
            target.clear()


@given(OPERATIONS)
def test_membership_follows_every_change_as_a_list_would(
    operations: list[tuple[str, object]],
) -> None:
    paths, plain = PathList(), list[str]()
    for operation, argument in operations:
        apply(paths, operation, argument)
        apply(plain, operation, argument)
        assert paths == plain
        assert all((path in paths) == (path in plain) for path in ["a.css", "b.js", "c/d.png", "e"])


def test_the_command_keeps_its_file_lists_as_path_lists() -> None:
    command = Command()
    for files in (command.copied_files, command.symlinked_files, command.unmodified_files):
        assert isinstance(files, PathList)
        assert files == []


# The copy phase's questions ("is it there, how old is it?") are answered from one scan of
# STATIC_ROOT: Django's own decisions and counts must come out the same as when it asks the disk.


def _counts(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_the_copy_phase_copies_what_changed_and_skips_the_rest(project: StaticProject) -> None:
    project.write("app.css", "body { color: red }")
    project.write("img/a.txt", "a")
    project.collect(verbosity=1)
    assert "2 unmodified" in _counts(project.collect(verbosity=1)[0])

    source = project.source / "app.css"
    source.write_text("body { color: blue }")
    later = os.stat(project.root / "app.css").st_mtime_ns + 2_000_000_000
    os.utime(source, ns=(later, later))
    out, _ = project.collect(verbosity=1)

    assert "1 static file copied" in _counts(out) and "1 unmodified" in _counts(out)
    assert (project.root / "app.css").read_text() == "body { color: blue }"


def test_clear_link_and_dry_run_see_the_disk_as_it_is(project: StaticProject) -> None:
    project.write("app.css", "body { color: red }")
    project.collect()

    out, _ = project.collect(verbosity=1, clear=True)
    assert "1 static file copied" in _counts(out)
    out, _ = project.collect(verbosity=1, link=True)
    assert (project.root / "app.css").is_symlink()
    assert "1 static file symlinked" in _counts(out)
    out, _ = project.collect(verbosity=1, link=True)
    assert "1 unmodified" in _counts(out)
    out, _ = project.collect(verbosity=1, dry_run=True)
    assert "Pretending" in out or "0 static files copied" in _counts(out)
    # A run after the others in the same process starts from a new scan.
    (project.root / "app.css").unlink()
    out, _ = project.collect(verbosity=1)
    assert "1 static file copied" in _counts(out)
    assert (project.root / "app.css").read_text() == "body { color: red }"
