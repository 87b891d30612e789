"""Stores a running operation's engine events in batches: one transaction per ``max_events`` events or per
``max_delay`` seconds, whichever comes first, instead of one per event.

A clean room's `up` streams a few hundred events; a transaction each (an event row, the operation's progress
and, in SQLite, the write lock) made the service spend CPU and hold the database's write lock that the API's
own writes wait for. Batching keeps every event, in order, and the progress each reports; a reader (the
events stream, GET of the operation) sees them at most ``max_delay`` later. A flush also happens when the
operation's step ends (``close``), so nothing is left behind.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from service.domain_events import BuildProgress
from service.jobs.job_context import JobContext
from service.operations.models import Operation, OperationEvent
from service.operations.states import Action
from service.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

MAX_EVENTS = 50
MAX_DELAY_SECONDS = 0.1


class EventIngestion:
    """The ``on_event`` callback of one engine step; use as a context manager (``close`` flushes)."""

    def __init__(
        self,
        ctx: JobContext,
        operation_id: str,
        step: int,
        label: str,
        *,
        max_events: int = MAX_EVENTS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.ctx = ctx
        self.operation_id = operation_id
        self.step = step
        self.label = label
        self.max_events = max_events
        self.max_delay = max_delay
        self.batches = 0  # transactions written, for the record (and the tests)
        self._pending: list[tuple[dict[str, Any], Any]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one flush at a time, so batches land in order
        self._stop = threading.Event()
        # Events that arrive and then a quiet spell (a long create) still reach the database in time.
        self._timer = threading.Thread(target=self._tick, name=f"events-{operation_id[:8]}", daemon=True)

    def __enter__(self) -> EventIngestion:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._timer.is_alive():
            self._timer.join()
        self.flush()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(({**event, "step": self.step, "step_label": self.label}, self.ctx.clock()))
            full = len(self._pending) >= self.max_events
        if full:
            self.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.max_delay / 2):
            with self._lock:
                due = bool(self._pending) and time.monotonic() - self._oldest >= self.max_delay
            if due:
                self.flush()

    def flush(self) -> None:
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                with self.ctx.unit_of_work() as uow:
                    uow.session.add_all(
                        OperationEvent(
                            operation_id=self.operation_id,
                            type=str(payload.get("type", "event")),
                            payload=payload,
                            created_at=created_at,
                        )
                        for payload, created_at in batch
                    )
                    # Event by event, in memory (one UPDATE at commit): the build-progress message stays
                    # tied to the very event that first reaches half of the plan.
                    for payload, _ in batch:
                        progress = payload.get("progress")
                        if progress:
                            done, planned = int(progress.get("done", 0)), int(progress.get("planned", 0))
                            _record_progress(uow, self.operation_id, done, planned)
                self.batches += 1
            except Exception:  # losing progress events must not abort the deployment
                logger.exception("could not store %d events of operation %s", len(batch), self.operation_id)


def _record_progress(uow: UnitOfWork, operation_id: str, done: int, planned: int) -> None:
    op = uow.session.get(Operation, operation_id)
    if op is None:
        return
    # One progress message per build, for the build people wait on (Slack allows a response_url five posts):
    # the event whose progress first reaches half of the opening build's plan.
    was_halfway = op.progress_planned > 0 and op.progress_done * 2 >= op.progress_planned
    if op.action == Action.OPEN and planned >= 2 and done * 2 >= planned and not was_halfway:
        uow.emit(BuildProgress(op.investigation_id, done, planned))
    op.progress_done, op.progress_planned = done, planned
