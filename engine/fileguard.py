"""Every file the tool writes goes through here: outputs never destroy inputs, and never appear half-written.

Three promises, for every command that writes (check --out/--errors, awards, report, review, audit,
ledger export):
- an output that is one of the command's own inputs (the same file by device and inode: the same
  path, a symlink to it, a hard link, an absolute spelling) is refused before anything is read;
- an output goes to a temporary file in the target folder and replaces the target only when complete,
  so a failed run leaves the old file (or nothing) and never a half-written one;
- only a regular file is replaced (or a new one created): a symlink, a device (/dev/full), a FIFO or a
  folder in the output's place is refused with a message, never swapped for a regular file;
- nothing is written inside the program's own policies/ and rules/ (every command reads them).

Problems become OutputFileError (one line: the path and what is wrong), never a traceback.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator, Optional, Union

from engine.errors import OutputFileError

__all__ = ["OutputGuard", "atomic_path", "atomic_output", "atomic_open", "write_text", "atomic_folder", "check_target",
           "same_file"]

PathLike = Union[str, Path]


def _identity(path: PathLike) -> Optional[tuple[int, int]]:
    """(device, inode) of what `path` finally names (symlinks followed), or None when nothing is there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def same_file(a: PathLike, b: PathLike) -> bool:
    ia = _identity(a)
    return ia is not None and ia == _identity(b)


def _program_data() -> tuple[Path, ...]:
    """Folders every command reads (policies/, rules/): never an output's place."""
    root = Path(__file__).resolve().parent.parent
    return tuple(Path(os.path.realpath(root / name)) for name in ("policies", "rules"))


def check_target(out: PathLike) -> None:
    """Refuse a target that is not a regular file or a new name in an existing, writable folder."""
    path = Path(out)
    if path.is_symlink():
        raise OutputFileError(f"{path}: is a symbolic link; give the path of a regular file (it would be "
                              "replaced by a file, not written through)")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputFileError(f"{path}: is a folder; give a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise OutputFileError(f"{path}: is not a regular file (a device, FIFO or socket); write to a file")
    check_folder(path.parent)


def check_folder(folder: PathLike) -> None:
    folder = Path(folder) if str(folder) else Path(".")
    if not folder.is_dir():
        raise OutputFileError(f"{folder}: the output folder does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{folder}: the output folder is not writable")


class OutputGuard:
    """The inputs of one command, and the check that none of its outputs is one of them (or another output).

    Built at the start of a command, before any input is read; every output it writes is checked again
    just before it is replaced."""

    def __init__(self, inputs: Iterable[Optional[PathLike]] = (), outputs: Iterable[Optional[PathLike]] = ()):
        self.inputs = [Path(p) for p in inputs if p is not None]
        seen: list[Path] = []
        for out in (Path(p) for p in outputs if p is not None):
            self.check(out)
            for earlier in seen:
                if same_file(out, earlier) or os.path.abspath(out) == os.path.abspath(earlier):
                    raise OutputFileError(f"{out}: given for two outputs of the same command; give each its "
                                          "own file")
            seen.append(out)

    def check(self, out: PathLike) -> None:
        out = Path(out)
        target = Path(os.path.realpath(out))
        for folder in _program_data():
            if target == folder or folder in target.parents:
                raise OutputFileError(f"{out}: is inside {folder}, the program's own policy and rule data; "
                                      "write outputs elsewhere")
        for source in self.inputs:
            if same_file(out, source):
                raise OutputFileError(f"{out}: is an input of this command ({source}); writing there would "
                                      "destroy it. Give another output file")
        check_target(out)

    def check_folder(self, out_dir: PathLike) -> None:
        """An output folder must not be an input folder (its files would be mixed with the inputs)."""
        for source in self.inputs:
            if same_file(out_dir, source):
                raise OutputFileError(f"{out_dir}: is an input of this command; give another output folder")

    def write_text(self, out: PathLike, text: str) -> None:
        write_text(out, text, self)


@contextmanager
def atomic_path(out: PathLike, guard: Optional[OutputGuard] = None) -> Iterator[Path]:
    """A temporary path in `out`'s folder to write; it replaces `out` when the block completes, and is
    removed when it fails. The target is checked before and again just before the replacement."""
    out = Path(out)
    (guard.check if guard else check_target)(out)
    try:
        fd, name = tempfile.mkstemp(dir=str(out.parent) if str(out.parent) else ".",
                                    prefix=f".{out.name[:80]}.", suffix=".partial")
    except OSError as exc:
        raise OutputFileError(f"{out}: cannot be written ({exc.strerror or exc})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            yield tmp
            (guard.check if guard else check_target)(out)
            _take_mode(tmp, out)
            os.replace(tmp, out)
        except OSError as exc:
            raise OutputFileError(f"{out}: cannot be written ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _take_mode(tmp: Path, out: Path) -> None:
    """The replaced file keeps its permissions; a new one gets the usual ones (mkstemp's are 0600)."""
    try:
        mode = stat.S_IMODE(os.stat(out).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


@contextmanager
def atomic_output(out: Optional[PathLike]) -> Iterator[Optional[Path]]:
    """atomic_path for an optional output: None (standard output) yields None."""
    if out is None:
        yield None
        return
    with atomic_path(out) as tmp:
        yield tmp


@contextmanager
def atomic_open(out: PathLike, guard: Optional[OutputGuard] = None, newline: Optional[str] = None
                ) -> Iterator[IO[str]]:
    with atomic_path(out, guard) as tmp:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            yield fh


def write_text(out: PathLike, text: str, guard: Optional[OutputGuard] = None) -> None:
    with atomic_path(out, guard) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_folder(out: PathLike) -> Iterator[Path]:
    """A new folder built under a temporary name beside `out` and renamed to `out` when complete: the
    folder appears whole or not at all. `out` must not exist (or be an empty folder)."""
    out = Path(out)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise OutputFileError(f"{out}: exists and is not an empty folder; choose a new folder")
    check_folder(out.parent)
    try:
        tmp = Path(tempfile.mkdtemp(dir=str(out.parent) if str(out.parent) else ".",
                                    prefix=f".{out.name[:80]}.", suffix=".partial"))
    except OSError as exc:
        raise OutputFileError(f"{out}: cannot be created ({exc.strerror or exc})") from None
    try:
        yield tmp
        try:
            if out.is_dir():
                out.rmdir()          # the empty folder given is replaced by the complete one
            os.rename(tmp, out)
        except OSError as exc:
            raise OutputFileError(f"{out}: cannot be created ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
