"""How every command ends on an error: one line on stderr and a documented exit code.

=====  =====================================================================================
code   meaning
=====  =====================================================================================
1      anything else (a failed sweep point, an unexpected error)
2      bad input (a key, a value, a path that is not what the command takes)
74     a file or folder could not be read or written (permissions, a missing or read-only
       parent, a full disk, a damaged or garbage file — named in the line)
75     the directory is being written by another process (named in the line)
=====  =====================================================================================

No traceback reaches the user unless the command was given ``-v``.
"""

from __future__ import annotations

import sys
import traceback

EXIT_OTHER = 1
EXIT_BAD_INPUT = 2
EXIT_IO = 74  # sysexits EX_IOERR
EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: try again when the other writer is done


def classify(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one line (without the program's name) for ``exc``."""
    from sim.core.config import ConfigError
    from sim.results import CorruptResultError, WriteError, describe_os_error
    from sim.results.integrity import CollectionError
    from sim.results.layout import DesignMismatch
    from sim.results.lock import DirectoryLocked

    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for err in chain:
        if isinstance(err, DirectoryLocked):
            return EXIT_LOCKED, f"{err}; nothing written"
        if isinstance(err, ConfigError | CollectionError | DesignMismatch):
            return EXIT_BAD_INPUT, str(err)
        if isinstance(err, WriteError):
            return EXIT_IO, f"{err}; no result was left half-written"
        if isinstance(err, CorruptResultError):
            return EXIT_IO, str(err)
        if isinstance(err, OSError):
            return EXIT_IO, describe_os_error(err)
    first = (str(exc).strip().splitlines() or [""])[0]
    try:
        from hydra.errors import HydraException
    except ImportError:  # pragma: no cover - hydra is a dependency
        HydraException = ()  # type: ignore[assignment]
    if isinstance(exc, HydraException) and first:
        return EXIT_OTHER, first
    return EXIT_OTHER, f"{type(exc).__name__}: {first}"


def report_failure(exc: BaseException, verbose: bool = False, prog: str = "sim-run", suffix: str = "") -> int:
    """Print ``PROG: error: ...`` (one line; the traceback too if ``verbose``); return the exit code."""
    if verbose:
        traceback.print_exception(exc)
    code, text = classify(exc)
    if code == EXIT_OTHER and not verbose:
        text += f" ({prog} -v shows the traceback)"
    elif code in (EXIT_IO, EXIT_BAD_INPUT) and suffix and suffix not in text:
        text += suffix
    print(f"{prog}: error: {text}", file=sys.stderr)
    return code
