"""Stopping a run cleanly on SIGINT or SIGTERM, without losing what is being written.

While :func:`stop_on_signals` is in effect the first SIGINT/SIGTERM raises :class:`Interrupt`
(a ``KeyboardInterrupt``); inside :func:`signals_deferred` (a result being written) it waits
until the block is done. Later signals are ignored so that the clean-up can keep what finished.

A signal handler raises in whatever Python frame is running, and some of those frames cannot
pass an exception on: a callback from compiled code (the JIT compiler's object cache, for one)
reports it as "Exception ignored" and carries on. Such a swallowed :class:`Interrupt` is
caught by an unraisable-exception hook and raised again at the next :func:`checkpoint`, which
the ensemble runner calls every week, so a stop is never lost.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupt(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while :func:`stop_on_signals` was in effect."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


class _Stopper:
    """Turns the first SIGINT/SIGTERM into :class:`Interrupt`, unless writing is in progress."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.defer = 0
        self.pending: int | None = None  # a signal held back until writing is done
        self.swallowed: int | None = None  # an Interrupt that a callback could not pass on
        self.stopping = False

    def handle(self, signum: int, _frame: object) -> None:
        if self.stopping:
            return  # already stopping: let the clean-up (keeping finished replicates) finish
        if self.defer:
            self.pending = signum  # a result is being written: finish it, then stop
            return
        self.stopping = True
        raise Interrupt(signum)

    def unraisable(self, args: Any, previous: Any) -> None:
        if isinstance(args.exc_value, Interrupt):
            self.swallowed = args.exc_value.signum
            return
        previous(args)


_STOPPER = _Stopper()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While active, SIGINT and SIGTERM raise :class:`Interrupt` (a KeyboardInterrupt) once.

    Only the first signal interrupts: later ones are ignored so that the clean-up can keep what
    finished. Does nothing outside the main thread (signal handlers live there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _STOPPER.handle) for s in STOP_SIGNALS}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda args: _STOPPER.unraisable(args, previous_hook)
    _STOPPER.reset()
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        _STOPPER.swallowed = None  # a stop belongs to the block it arrived in
        for s, handler in previous.items():
            signal.signal(s, handler)


def checkpoint() -> None:
    """Raise again an :class:`Interrupt` that a callback swallowed; otherwise do nothing."""
    if _STOPPER.swallowed is not None and not _STOPPER.defer:
        signum, _STOPPER.swallowed = _STOPPER.swallowed, None
        raise Interrupt(signum)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold a SIGINT/SIGTERM back until the block (writing a result) is done, then raise it."""
    _STOPPER.defer += 1
    try:
        yield
    finally:
        _STOPPER.defer -= 1
    if not _STOPPER.defer and _STOPPER.pending is not None and not _STOPPER.stopping:
        signum, _STOPPER.pending = _STOPPER.pending, None
        _STOPPER.stopping = True
        raise Interrupt(signum)
    checkpoint()
