"""One writer per run directory and per sweep: an advisory lock on a file inside the directory.

``writer_lock(DIR)`` takes an exclusive ``fcntl.flock`` on ``DIR/.writer.lock`` without waiting
and writes who holds it (process id, host, start time) into that file. A second writer — another
``sim-run`` into the same ``hydra.run.dir``, a second sweep into the same ``hydra.sweep.dir`` —
gets :class:`DirectoryLocked`, whose one-line message names the holder, before it writes
anything. The lock goes with the process: it is released when the holder exits, however it
exits (SIGKILL included), so a killed run never leaves a stale lock behind; the lock file itself
stays (removing it would race with the next writer) and is no result file.

The lock is re-entrant within a process: ``sim-run`` takes it before Hydra writes its
``.hydra/`` record, and the job takes it again around writing the results.

Network filesystems: on Linux ``flock`` on NFS is emulated with POSIX byte-range locks and holds
across hosts only when the NFS lock service works; some network or FUSE filesystems (older
SMB/CIFS mounts, sshfs) grant every host its own lock, so two hosts could both write. On such
filesystems keep one sweep per directory yourself, or write locally and copy the result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".writer.lock"

_HELD: dict[Path, tuple[int, int]] = {}  # directory -> (fd, depth) held by this process
_GUARD = threading.Lock()


class DirectoryLocked(RuntimeError):
    """Another process is writing into the directory; the message names it."""

    def __init__(self, directory: Path, holder: dict[str, object] | None) -> None:
        if holder:
            who = f"process {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"
        else:
            who = "another process"
        super().__init__(
            f"{directory} is being written by {who}; allowed: wait until it ends, or write elsewhere"
        )
        self.directory = Path(directory)
        self.holder = holder


def holder_of(directory: Path) -> dict[str, object] | None:
    """Who last took the lock of ``directory`` (pid, host, started), or None if unknown."""
    try:
        data = json.loads((Path(directory) / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def writer_lock(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the writer lock of ``directory`` (created if needed) for the ``with`` block.

    Raises :class:`DirectoryLocked` at once if another process holds it, and
    :class:`sim.results.WriteError` if the directory or its lock file cannot be created.
    """
    from sim.results import WriteError

    directory = Path(directory).resolve()
    with _GUARD:
        held = _HELD.get(directory)
        if held is not None:
            _HELD[directory] = (held[0], held[1] + 1)
    if held is not None:
        try:
            yield directory
        finally:
            _release(directory)
        return
    path = directory / LOCK_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise WriteError(path if directory.is_dir() else directory, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise DirectoryLocked(directory, holder_of(directory)) from None
        raise WriteError(path, exc) from exc
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):  # who holds it is a courtesy; the flock is the lock
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
    with _GUARD:
        _HELD[directory] = (fd, 1)
    try:
        yield directory
    finally:
        _release(directory)


def _release(directory: Path) -> None:
    with _GUARD:
        fd, depth = _HELD[directory]
        if depth > 1:
            _HELD[directory] = (fd, depth - 1)
            return
        del _HELD[directory]
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def is_locked(directory: str | os.PathLike[str]) -> bool:
    """Whether another process holds the writer lock of ``directory`` now (a run being written)."""
    directory = Path(directory).resolve()
    with _GUARD:
        if directory in _HELD:
            return True
    try:
        fd = os.open(directory / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def held_by_another(directory: str | os.PathLike[str]) -> bool:
    """Whether a process other than this one holds the writer lock of ``directory`` now."""
    directory = Path(directory).resolve()
    with _GUARD:
        if directory in _HELD:
            return False
    return is_locked(directory)
