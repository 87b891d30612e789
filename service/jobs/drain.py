"""A job process's shutdown: stop taking work, give running operations a grace period, hand over the rest.

SIGTERM (what systemd, Kubernetes and `docker stop` send) drains: no job is taken any more, and operations
already running get ``shutdown_grace_seconds`` to finish. When the grace runs out (or at once on SIGINT, or on
a second SIGTERM), each operation still running is handed over by the thread that runs it
(``operation_runner``): its engine is asked to stop (SIGINT, the CLI's own clean cancel, which writes the
state; SIGKILL only if it has not ended within ``stacks.CANCEL_GRACE_SECONDS``), the stack's lock is cleared
and the operation is marked interrupted and retried, exactly as a sweep would, only now: the next worker takes
the retry from the queue. The operation's row is the lease: it leaves ``running`` once, under a row lock, so a
sweep elsewhere and this hand-over never both act on it, and the retry's engine starts only after this one's
process group is gone.

Huey's thread consumer, left alone, drains on SIGINT and exits on SIGTERM without waiting, and a thread it
leaves behind dies with the process while its engine, in a process group of its own, keeps deploying.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from huey.consumer import Consumer

logger = logging.getLogger(__name__)

# After the grace: how long the hand-over may take. The engine's clean cancel gets 30 s before SIGKILL
# (stacks.CANCEL_GRACE_SECONDS), then the stack's lock is cleared (one short CLI run) and the row committed.
HANDOVER_SECONDS = 90.0


class Drain:
    """The shutdown state of one process, shared by the consumer and the threads running operations."""

    def __init__(self) -> None:
        # Set when shutdown begins: no operation is claimed any more.
        self.stopping = threading.Event()
        # Set when the grace has run out: running operations stop their engines and hand over.
        self.handing_over = threading.Event()

    def begin(self) -> None:
        self.stopping.set()

    def hand_over(self) -> None:
        self.stopping.set()
        self.handing_over.set()


class DrainingConsumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    """Huey's consumer with SIGTERM as the graceful signal, the grace as its shutdown timeout, and a hand-over
    of whatever still runs when the grace ends (Huey would leave those threads to die with the process)."""

    def __init__(self, huey: Any, drain: Drain, *, shutdown_timeout: float, **options: Any) -> None:
        super().__init__(huey, shutdown_timeout=shutdown_timeout, graceful_signal="TERM", **options)
        self.drain = drain

    def stop(self, graceful: bool = False) -> None:
        self.drain.begin()
        # Huey: sets the stop flag (no more dequeuing) and, when graceful, waits for the worker threads up to
        # shutdown_timeout; a second SIGTERM cuts the wait short.
        super().stop(graceful=graceful)
        busy = self._busy_workers()
        if not busy:
            return
        logger.warning(
            "%d job(s) still running after the shutdown grace: stopping their engines and handing them over",
            len(busy),
        )
        self._ignore_further_signals()
        self.drain.hand_over()
        deadline = time.monotonic() + HANDOVER_SECONDS
        for thread in busy:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = self._busy_workers()
        if left:
            logger.error(
                "%d job(s) did not hand over within %.0f s; the recovery sweep of another node takes them",
                len(left),
                HANDOVER_SECONDS,
            )
        else:
            logger.info("every running job was handed over")

    def _busy_workers(self) -> list[threading.Thread]:
        return [thread for _, thread in self.worker_threads if thread.is_alive()]

    def _ignore_further_signals(self) -> None:
        """The hand-over is the fastest safe way out: a further SIGTERM/SIGINT must not cut it short and
        leave an engine deploying with nobody to report it (only from the main thread, where Python lets
        handlers be set)."""
        if threading.current_thread() is not threading.main_thread():
            return

        def noted(signum: int, _frame: object) -> None:
            logger.warning("%s during the hand-over: finishing it first", signal.Signals(signum).name)

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, noted)
