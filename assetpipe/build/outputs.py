"""Writing into STATIC_ROOT so that an interrupted run never leaves a partial file behind, and
knowing which files there are still the ones a build wrote.

Temporary files are short dotfiles in the target's directory (``.ap-<random>.tmp``), so any
legal target name has a legal temporary name and two runs never pick the same one. Stale ones
are removed only by ``scan_tree``, which runs under the build lock.

A failed write raises ``WriteError`` naming the file and the cause; its temporary file is
removed, and a failure to remove it (a read-only tree) never raises a second exception.
"""

from __future__ import annotations

import errno
import itertools
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from assetpipe.digests import CHUNK_SIZE, md5_file

# Files larger than this are never read whole: they are digested, rewritten and compressed in
# pieces (uploads go in parts from a smaller size, ``multipart_threshold``).
LARGE_FILE = 16 * 1024 * 1024


@dataclass(frozen=True)
class BuiltFile:
    """A file in STATIC_ROOT: its name, the digest and size of its content, how to read it."""

    name: str
    digest: str
    size: int
    load: Callable[[], bytes] | None  # how to read it; None: from ``root``
    root: Path | None = None  # the directory it is in (STATIC_ROOT), to stream it from disk

    @property
    def path(self) -> Path | None:
        # Made when asked for: a run where nothing changed never needs most of them.
        return None if self.root is None else self.root / self.name

    def read(self) -> bytes:
        path = self.path
        if path is not None:
            return path.read_bytes()
        assert self.load is not None, f"{self.name}: neither a loader nor a directory"
        return self.load()


TEMP_PREFIX = ".ap-"
TEMP_SUFFIX = ".tmp"


class WriteError(OSError):
    """Writing ``path`` failed; the message names the file and the cause."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, f"could not write {path}: {cause.strerror or cause}")
        self.path = path

    def __str__(self) -> str:
        return str(self.args[1])


# Unique within this process by the counter and across processes by the token: one random
# draw per process, not one per file (a system call that a cold build made 14,000 times).
_TEMP_TOKEN = secrets.token_hex(3)
_temp_numbers = itertools.count()


def temp_path_for(path: Path) -> Path:
    return path.with_name(f"{TEMP_PREFIX}{_TEMP_TOKEN}{next(_temp_numbers):x}{TEMP_SUFFIX}")


def is_temp_name(filename: str) -> bool:
    return filename.startswith(TEMP_PREFIX) and filename.endswith(TEMP_SUFFIX)


def _discard(path: Path) -> None:
    # Cleanup after a failure must not hide the failure behind a second exception.
    with suppress(OSError):
        path.unlink(missing_ok=True)


def _write_error(path: Path, exc: OSError) -> WriteError:
    return exc if isinstance(exc, WriteError) else WriteError(path, exc)


@contextmanager
def _discarding_on_failure(temp: Path, path: Path) -> Iterator[None]:
    """On any failure remove ``temp``; an OSError becomes a WriteError naming ``path``."""
    try:
        yield
    except OSError as exc:
        _discard(temp)
        raise _write_error(path, exc) from exc
    except BaseException:
        _discard(temp)
        raise


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it replaces ``path``, on failure it is removed."""
    temp = temp_path_for(path)
    with _discarding_on_failure(temp, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temp
        os.replace(temp, path)


@contextmanager
def staging(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for content whose final name is not known yet:
    ``move_atomic`` gives it one; if it is still there at the end, it is removed."""
    temp = temp_path_for(path)
    with _discarding_on_failure(temp, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temp
    _discard(temp)


def move_atomic(temp: Path, path: Path) -> None:
    """Rename the finished file ``temp`` to ``path``, replacing it."""
    with _discarding_on_failure(temp, path):
        os.replace(temp, path)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with replacing(path) as temp:
        temp.write_bytes(data)


def copy_atomic(source: Path, path: Path) -> None:
    # Opened first: a source that cannot be read is not an error writing ``path``.
    with open(source, "rb") as source_file, replacing(path) as temp, open(temp, "wb") as out:
        shutil.copyfileobj(source_file, out, CHUNK_SIZE)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` unless it holds exactly that already; True if written.

    A file left alone keeps its mtime, so servers and caches see no change.
    """
    if path.is_file() and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True


def save_through_temp(path: Path, save: Callable[[Path], Path]) -> None:
    """Have ``save`` write the file under a temporary name beside ``path``, then rename it.

    For writers that choose where the bytes go themselves (Django's ``FileSystemStorage._save``):
    ``save`` gets the temporary path and returns the path it actually wrote.
    """
    temp = temp_path_for(path)
    with _discarding_on_failure(temp, path):
        saved = save(temp)
    with _discarding_on_failure(saved, path):
        os.replace(saved, path)


# What a rename, an edit or ``touch -r`` changes about a file (size, mtime, ctime and inode),
# as one short string: a tree can have 100,000 outputs, and a string is a single object.
Stamp = str


def stamp_of(stat: os.stat_result) -> Stamp:
    return f"{stat.st_size:x}.{stat.st_mtime_ns:x}.{stat.st_ctime_ns:x}.{stat.st_ino:x}"


def stamp_mtime(stamp: Stamp) -> float:
    """The stamp's mtime as ``os.stat().st_mtime`` gives it (the same float, computed alike)."""
    seconds, nanoseconds = divmod(int(stamp.split(".", 2)[1], 16), 1_000_000_000)
    return seconds + nanoseconds * 1e-9


# name -> "<digest> <stamp>": what the writer said the file holds (a content digest), and the
# file's stamp right after it was written.
OutputRecords = dict[str, str]


def output_record(digest: str, stamp: Stamp) -> str:
    return f"{digest} {stamp}"


class Outputs:
    """The files in STATIC_ROOT, and which of them are still what a build wrote there.

    A file counts as holding some content only when its stamp is the one recorded right after
    it was written with that content: any edit, replacement or copy over it changes the
    ctime or the inode, so it is rebuilt rather than trusted.
    """

    def __init__(self, root: Path, found: dict[str, Stamp], recorded: OutputRecords) -> None:
        self.root = root
        self.found = found
        self.recorded = recorded
        # inode -> the names that share it (hard links); made on the first write of a run.
        self._inodes: dict[str, set[str]] | None = None
        # Names replaced before the records were known (Django's copy phase), with their stamps.
        self._replaced: list[tuple[str, Stamp]] = []

    def replaced(self, name: str) -> None:
        """``name`` is being replaced or removed by a writer that records nothing (Django's copy
        phase): it is no longer known, and the names that shared its inode are looked at
        again once the records are there (:meth:`with_records`)."""
        old = self.found.pop(name, None)
        if old is not None:
            self._replaced.append((name, old))

    def with_records(self, recorded: OutputRecords) -> Outputs:
        """This scan with the previous run's records, brought up to date with what was
        replaced since the scan."""
        outputs = Outputs(self.root, self.found, recorded)
        for name, old in self._replaced:
            outputs._moved(name, old, None)
        return outputs

    def __contains__(self, name: object) -> bool:
        return name in self.found

    def holds(self, name: str, digest: str) -> bool:
        stamp = self.found.get(name)
        return stamp is not None and self.recorded.get(name) == output_record(digest, stamp)

    def wrote(self, name: str, digest: str) -> None:
        """Record that ``name`` was just written (or checked) with content ``digest``."""
        old = self.found.get(name)
        stamp = stamp_of(os.stat(self.root / name))
        self.found[name] = stamp
        self.recorded[name] = output_record(digest, stamp)
        self._moved(name, old, stamp)

    # A link, or a name replaced or removed, changes the ctime of the inode the other names of
    # that inode share: their stamps change although their bytes do not. Those whose record was
    # true until then are recorded again, so that the next run does not rebuild them.

    def _moved(self, name: str, old: Stamp | None, new: Stamp | None) -> None:
        inodes = self._inode_index()
        if old is not None:
            others = inodes.get(_inode(old), set())
            others.discard(name)
            if new is None or _inode(old) != _inode(new):
                self._restamp(others)
        if new is not None:
            shared = inodes.setdefault(_inode(new), set())
            shared.add(name)
            self._restamp(shared - {name})

    def _inode_index(self) -> dict[str, set[str]]:
        if self._inodes is None:
            self._inodes = {}
            for name, stamp in self.found.items():
                self._inodes.setdefault(_inode(stamp), set()).add(name)
        return self._inodes

    def _restamp(self, names: set[str]) -> None:
        """Names of one inode whose ctime just changed: one stat for them all."""
        stamp: Stamp | None = None
        for name in names:
            record = self.recorded.get(name)
            was = self.found.get(name)
            if stamp is None:
                try:
                    stamp = stamp_of(os.stat(self.root / name))
                except OSError:
                    return  # gone: its stale stamp gets it rebuilt
            if stamp == was:
                continue
            self.found[name] = stamp
            if record is not None and was is not None and record.endswith(" " + was):
                self.recorded[name] = output_record(record.partition(" ")[0], stamp)

    def link(self, source: str, name: str, digest: str) -> bool:
        """Make ``name`` a hard link to ``source``, an output that holds ``digest``; False where
        it cannot be (``source`` not as written, not a regular file, or no hard links here).

        A link costs a quarter of writing the bytes again. Both names then share an inode, and
        so a stamp: an edit of either changes both, and both are rebuilt. Nothing writes into an
        output in place (every write is a new file renamed over the name), so a later write to
        one name never reaches the other."""
        if not self.holds(source, digest):
            return False
        found = self.found.get(name)
        if found is not None and _inode(found) == _inode(self.found[source]):
            self.wrote(name, digest)  # already that file: only its stamp is out of date
            return True
        source_path = self.root / source
        target = self.root / name
        temp = temp_path_for(target)
        try:
            # Never through a symbolic link (collectstatic --link): that would tie an output to
            # a source file, which an edit changes in place.
            if not stat.S_ISREG(os.lstat(source_path).st_mode):
                return False
            os.link(source_path, temp, follow_symlinks=False)
            os.replace(temp, target)
        except OSError:
            return False  # a file system without hard links, or a full one: write instead
        finally:
            # A rename onto another name of the same file does nothing and leaves the temporary
            # name behind (POSIX rename), should the target have become that file meanwhile.
            _discard(temp)
        self.wrote(name, digest)  # and, of the names sharing the inode, the source's stamp
        return True

    def remove(self, name: str) -> None:
        old = self.found.pop(name, None)
        if old is not None:
            (self.root / name).unlink(missing_ok=True)
            self._moved(name, old, None)
        self.recorded.pop(name, None)

    def verify(self, name: str, digest: str) -> bool:
        """Whether ``name`` holds ``digest``, reading it when its stamp cannot tell."""
        if self.holds(name, digest):
            return True
        if name in self.found and md5_file(self.root / name) == digest:
            self.wrote(name, digest)
            return True
        return False

    def records(self) -> OutputRecords:
        """What to keep for the next run: the records still true of the tree."""
        found = self.found
        return {n: r for n, r in self.recorded.items() if r.partition(" ")[2] == found.get(n)}


def _inode(stamp: Stamp) -> str:
    return stamp.rpartition(".")[2]


def scan_tree(root: Path, recorded: OutputRecords | None = None) -> Outputs:
    """Every file below ``root`` with its stamp; removes stale temp files. ``recorded`` (the
    previous run's records) is updated in place as the build writes.

    One walk answers "is this output already there, as written?" for the whole run, instead
    of a lookup per expected file. Call it only under the build lock: another run's temp
    files are live until then.
    """
    found: dict[str, Stamp] = {}
    if root.is_dir():
        _scan(str(root), "", found)
    return Outputs(root, found, recorded if recorded is not None else {})


def _scan(directory: str, prefix: str, found: dict[str, Stamp]) -> None:
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _scan(entry.path, f"{prefix}{entry.name}/", found)
            elif entry.is_dir():
                continue  # a link to a directory, which a walk does not follow either
            elif is_temp_name(entry.name):
                # Left by an interrupted run; the real file was never replaced by it.
                _discard(Path(entry.path))
            else:
                try:
                    # Interned: the same string as the recorded name, not a second copy.
                    found[sys.intern(prefix + entry.name)] = stamp_of(entry.stat())
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
