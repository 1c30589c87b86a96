"""Private directories and secret files that only their owner can reach, handled through file descriptors.

Every path is opened with O_NOFOLLOW and checked with fstat on the opened descriptor, so a symlink or a
directory planted by another user (e.g. under /tmp before the first `sinkload db up`) is refused instead of
being followed, chowned or chmodded. Children are opened relative to their parent's descriptor.
"""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sinkload.errors import SinkloadError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Owner:
    """The OS user that must own the cluster's files."""

    uid: int
    gid: int

    @classmethod
    def of_user(cls, name: str) -> Owner:
        entry = pwd.getpwnam(name)
        return cls(entry.pw_uid, entry.pw_gid)

    @classmethod
    def current(cls) -> Owner:
        return cls(os.geteuid(), os.getegid())


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_parent(path: Path, owner: Owner) -> None:
    """Refuse a parent directory that someone else could rename our directory out of (world-writable
    without the sticky bit, or owned by a third user). Group-writable is accepted: with per-user groups
    (umask 002) a checkout is often group-writable by its owner's own group."""
    parent = path.absolute().parent
    try:
        st = os.stat(parent)
    except FileNotFoundError:
        raise SinkloadError(f"{parent}: folder not found (the cluster's parent must exist)") from None
    if st.st_uid not in (0, owner.uid, os.geteuid()):
        raise SinkloadError(f"{parent}: owned by {user_name(st.st_uid)}, who could replace the cluster folder; "
                            "choose another SINKLOAD_CLUSTER_DIR")
    if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        raise SinkloadError(f"{parent}: writable by everyone without the sticky bit; choose another "
                            "SINKLOAD_CLUSTER_DIR")


def _open_dir(name: str, shown: Path, dir_fd: int | None) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError:  # ELOOP: a symlink; ENOTDIR: a file
        raise SinkloadError(f"{shown}: not a plain folder (a symlink or a file): sinkload uses only folders it "
                            "created itself; remove it") from None


def open_private_dir(path: Path, owner: Owner, dir_fd: int | None = None, create: bool = True,
                     mode: int = 0o700) -> tuple[int, bool]:
    """Open (creating it when `create`) a folder that `owner` owns, mode `mode` (tightened if looser).
    Returns (descriptor, created). With `dir_fd`, `path.name` is taken relative to that folder."""
    name = path.name if dir_fd is not None else str(path)
    created = False
    if create:
        try:
            os.mkdir(name, 0o700, dir_fd=dir_fd)
            created = True
        except FileExistsError:
            pass
    fd = _open_dir(name, path, dir_fd)
    try:
        st = os.fstat(fd)
        if created and st.st_uid != owner.uid:
            os.fchown(fd, owner.uid, owner.gid)  # root creating the folder for the service user
        elif st.st_uid != owner.uid:
            raise SinkloadError(f"{path}: owned by {user_name(st.st_uid)}, not {user_name(owner.uid)}: not created "
                                "by sinkload; remove it (or choose another SINKLOAD_CLUSTER_DIR)")
        if stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd, created


@contextmanager
def private_dir(path: Path, owner: Owner, dir_fd: int | None = None, create: bool = True,
                mode: int = 0o700) -> Iterator[int]:
    """`open_private_dir` as a context manager that closes the descriptor."""
    fd, _ = open_private_dir(path, owner, dir_fd, create, mode)
    try:
        yield fd
    finally:
        os.close(fd)


def exists(name: str, dir_fd: int) -> bool:
    """Whether `name` exists in the folder (a symlink counts; it is never followed)."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def write_secret(name: str, text: str, dir_fd: int, owner: Owner, shown: Path, exist_ok: bool = False) -> None:
    """Create `name` (mode 0600, owned by `owner`) holding `text`; an existing file or symlink is refused
    (or, with `exist_ok`, left as it is)."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=dir_fd)
    except FileExistsError:
        if exist_ok:
            return
        raise SinkloadError(f"{shown}: already exists; sinkload writes only files it creates") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        if os.fstat(fd).st_uid != owner.uid:
            os.fchown(fd, owner.uid, owner.gid)
        out.write(text)


def read_secret(name: str, dir_fd: int, owner: Owner, shown: Path) -> str | None:
    """The text of a 0600 file `owner` owns, or None when it does not exist; anything else is refused."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError:
        raise SinkloadError(f"{shown}: not a plain file (a symlink?); remove it") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != owner.uid or stat.S_IMODE(st.st_mode) & 0o077:
            raise SinkloadError(f"{shown}: must be a file of {user_name(owner.uid)} with mode 0600 "
                                f"(it is {user_name(st.st_uid)}, {stat.S_IMODE(st.st_mode):04o})")
        return handle.read()


def rewrite_file(name: str, text: str, dir_fd: int, shown: Path) -> None:
    """Replace the contents of an existing plain file in place (owner and mode kept; symlinks refused)."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise SinkloadError(f"{shown}: cannot rewrite it ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def read_file(name: str, dir_fd: int, shown: Path) -> str:
    """The text of a plain file in the folder (symlinks refused)."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        raise SinkloadError(f"{shown}: cannot read it ({exc.strerror})") from None
    with os.fdopen(fd, encoding="utf-8") as handle:
        return handle.read()
