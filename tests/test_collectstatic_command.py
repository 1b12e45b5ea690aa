"""assetpipe's collectstatic: Django's command, with its per-file bookkeeping made constant-time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from assetpipe.management.commands.collectstatic import Command, PathList

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
