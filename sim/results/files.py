"""Writing result files atomically, and removing what killed writers left behind.

Every result file of the project is written through :func:`atomic_write` (a temporary file
beside the target, named with its writer's process and host, fsynced, then renamed), so a
reader sees the old file or the whole new one. :func:`remove_orphan_temporaries` removes the
temporary files of writers that no longer run and keeps those of live ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.results.layout import HYDRA_RECORD


class WriteError(OSError):
    """A result file could not be written (disk full, permission, ...); nothing was left half-written.

    The message is one line naming the path and the operating system's reason.
    """

    def __init__(self, path: Path, cause: BaseException) -> None:
        text = str(cause).strip()
        code = getattr(cause, "errno", None)
        found = re.search(r"\[errno (\d+)\]", text)  # pyarrow puts the errno in its message
        if code is None and found:
            code = int(found.group(1))
        reason = os.strerror(code) if code else (text.splitlines()[0] if text else type(cause).__name__)
        super().__init__(code, f"cannot write {path}: {reason}")
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.strerror)


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: the path and the reason, without a traceback."""
    if isinstance(exc, WriteError):
        return str(exc)
    reason = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if exc.filename is None:
        return f"{reason}"
    where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
    return f"cannot access {where}: {reason}"


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter before 3.14)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host_tag() -> str:
    """Eight hex digits naming this host in temporary file names (a host name may hold dots)."""
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


#: ``.NAME.<pid>-<host>.<random>.tmp``: a temporary file and the process that is writing it
_OWNED_TEMPORARY = re.compile(r"^\..+\.(\d+)-([0-9a-f]{8})\.[^.]+\.tmp$")

#: a temporary file that names no writer (an older version's, or one written under the folder's
#: writer lock) is removed without that lock only once it is this old
UNOWNED_TEMPORARY_AGE = 3600.0


def temporary_beside(path: Path) -> tuple[int, str]:
    """``mkstemp`` beside ``path``, named ``.NAME.<pid>-<host>.<random>.tmp``: (fd, its path).

    The writer's process id and host are in the name so that :func:`remove_orphan_temporaries`
    can tell a killed writer's leftovers from a file another process is writing right now.
    """
    path = Path(path)
    return tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}-{_host_tag()}.", suffix=".tmp", dir=path.parent
    )


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, then rename it.

    Readers see either the old file or the whole new one, never a half-written file; on any
    error the temporary file is removed, ``path`` is untouched and an ``OSError`` becomes a
    :class:`WriteError` naming ``path``. The file gets the usual permissions (0666 minus the
    umask), not the owner-only mode of ``mkstemp``: results are meant to be shared.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = temporary_beside(path)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        os.close(fd)
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from exc
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON (NaN/inf as null) to ``path`` atomically."""
    write_text(path, json.dumps(_json_safe(data), indent=2, ensure_ascii=False) + "\n")


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write ``df`` as zstd-compressed Parquet to ``path`` atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False, compression="zstd"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_safe(value: Any) -> Any:
    """NaN and inf are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item"):
        return _json_safe(value.item())
    return value


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one owned by another user counts)."""
    if pid <= 0:
        return True  # not a process id we could judge: keep its file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, under another user
    return True


def orphaned(tmp: Path, holding_lock: bool = False) -> bool:
    """Whether the temporary file ``tmp`` belongs to no live writer and may be removed.

    A file named with its writer (``.NAME.<pid>-<host>.<random>.tmp``, see
    :func:`temporary_beside`) is orphaned when that process no longer exists on this host; one
    written on another host is kept (its process cannot be seen from here). A file that names
    no writer (an older version's, or the design sweeper's) is orphaned when the caller holds the
    folder's writer lock, or when nobody holds it and the file has not changed for
    :data:`UNOWNED_TEMPORARY_AGE` seconds.
    """
    found = _OWNED_TEMPORARY.match(tmp.name)
    if found is not None:
        pid, host = int(found.group(1)), found.group(2)
        if host != _host_tag():
            return False
        return pid != os.getpid() and not _process_alive(pid)
    if holding_lock:
        return True
    from sim.results.lock import is_locked

    if is_locked(tmp.parent):
        return False
    try:
        import time

        return time.time() - tmp.stat().st_mtime > UNOWNED_TEMPORARY_AGE
    except FileNotFoundError:
        return False


def remove_orphan_temporaries(directory: Path, holding_lock: bool = False) -> list[Path]:
    """Remove the temporary files (``.NAME.*.tmp``) killed writers left in ``directory`` (and its
    ``.hydra/``); return them.

    Safe to call at any time: a file is removed only if no live writer owns it (:func:`orphaned`);
    a file another process is writing right now is left alone. ``holding_lock``: the caller holds
    the directory's writer lock (:mod:`sim.results.lock`), or knows that no other process does,
    so unnamed temporary files are leftovers too. ``sim-run`` (through :func:`write_run`),
    ``sim-collect`` and ``sim-analyse`` call it on the folder they are about to write into.
    """
    removed: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for path in [directory, *(directory / HYDRA_RECORD,)]:
        if not path.is_dir():
            continue
        for tmp in path.iterdir():
            if tmp.is_file() and _is_temporary(tmp) and orphaned(tmp, holding_lock):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed
