"""Serving a room of participants from one laptop: the sessions of this server counted, the
memory of closed ones handed back, and redraws of playing sessions throttled so that a room
of 30 shares the CPU (measured by ``python -m benchmarks room``, docs/performance.md)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

MIN_REDRAW_S = 0.25  # at most four redraws a second while playing

# While playing, the redraws of every session in the room together take at most about this
# share of one CPU: with many sessions playing, each redraws less often (the weeks in between
# are still simulated, and every run's last week is drawn). A redraw's cost is measured as the
# CPU time of the thread that renders it, which leaves out about as much again spent sending
# its messages (Solara's event loop): 0.25 keeps the room's redraws to about half a CPU, the
# rest to the models' weeks and to new pages. See redraw_interval.
REDRAW_CPU_SHARE = 0.25

MAX_REDRAW_S = 2.0  # however full the room, a playing session is redrawn at least every 2 s

# A participant who closed the tab has their session (models, figures) freed after this long;
# Solara's default keeps it a day, which a room of 30 reloading browsers fills.
SESSION_CULL_TIMEOUT = "30s"


class _Room:
    """The sessions of this server process: how many are open and how many are playing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.playing = 0
        self._release_due: float | None = None
        self._wake = threading.Condition(self.lock)

    def session_started(self) -> Callable[[], None]:
        """Solara calls this when a page's session starts; what it returns, when the session ends."""
        with self.lock:
            self.open += 1
            now_open = self.open
        print(f"sim-app: a session opened ({now_open} open)", flush=True)
        return self.session_closed

    def session_closed(self) -> None:
        # No thread is started here: a thread started inside a session would hold on to it.
        with self.lock:
            self.open -= 1
            now_open = self.open
            # one collection for a burst of closes (a room leaving at once), a little later
            self._release_due = time.monotonic() + RELEASE_DELAY_S
            self._wake.notify()
        print(f"sim-app: a session closed ({now_open} open)", flush=True)

    def start(self) -> None:
        """Start the thread that hands memory back after sessions close (call outside any session)."""
        threading.Thread(target=self._release_loop, name="sim-app-release", daemon=True).start()

    def _release_loop(self) -> None:
        while True:
            with self.lock:
                while self._release_due is None:
                    self._wake.wait()
                wait = self._release_due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                self._release_due = None
            release_memory()


#: seconds after the last session closed before the freed memory is handed back (see release_memory)
RELEASE_DELAY_S = 2.0

ROOM = _Room()


def release_memory() -> None:
    """Collect what closed sessions left in reference cycles (widgets, render contexts and models
    refer to each other) and hand the freed heap back to the operating system, so that the
    server's resident memory falls when a room leaves (glibc keeps freed memory otherwise)."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def redraw_interval(playing: int, redraw_cpu_s: float) -> float:
    """Seconds between two redraws of a playing session: :data:`MIN_REDRAW_S`, or longer when
    ``playing`` sessions redrawing that often, each redraw costing ``redraw_cpu_s`` of CPU,
    would together take more than :data:`REDRAW_CPU_SHARE` of one CPU; never more than
    :data:`MAX_REDRAW_S`."""
    wanted = max(playing, 1) * redraw_cpu_s / REDRAW_CPU_SHARE
    return min(MAX_REDRAW_S, max(MIN_REDRAW_S, wanted))
