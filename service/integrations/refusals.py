"""Unauthenticated integration requests (ticket webhook, Slack commands and buttons): limited per source and
counted, so a flood of forged requests neither fills the audit log nor queues on its head lock.

Per source (the client address, ``service.api.forwarded``):

* a token bucket drained by refusals (``integration_refusal_burst`` tokens, refilled at
  ``integration_refusals_per_minute``): a source that has used up its refusals is answered 429 before its
  signature is even looked at; a source whose requests verify never drains it;
* the first ``integration_refusals_audited`` refusals of each ``integration_refusal_audit_seconds`` window
  are audited one by one (with the reason); the rest are counted, and one summary row per source and window
  says how many were refused (at the next integration request after the window, or the delivery sweep);
* every refusal, 429s included, counts in ``forensics_integration_refusals_total``.

The state lives in this process: with several API nodes each node keeps its own buckets and windows, so a
source gets that allowance on every node it reaches, and the audit log holds at most that many rows per node.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from service.audit import service as audit
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory
from service.errors import RateLimited, ServiceError
from service.observability.metrics import INTEGRATION_REFUSALS

logger = logging.getLogger(__name__)

REJECTED_ACTOR = audit.Actor("unverified", "none")
SUMMARY_OUTCOME = "refused:summary"
# Sources remembered at once; the least recently refused are forgotten first (their tally is written out).
MAX_SOURCES = 10_000


@dataclass
class _Source:
    tokens: float
    refilled_at: datetime
    window_start: datetime
    audited: int = 0  # rows written one by one in this window
    unaudited: int = 0  # refusals only counted in this window
    action: str = ""
    target: str = ""


class RefusalGate:
    """Per-source refusal limits and tallies (thread-safe; held by the Integrations context)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: OrderedDict[str, _Source] = OrderedDict()
        self._next_due: datetime | None = None  # the earliest end of a window: flush has nothing before it

    # Before verifying

    def admit(self, settings: Settings, clock: Clock, source: str, endpoint: str) -> None:
        """Raise RateLimited (429) when the source has used up its refusals; counted, never audited."""
        now = clock()
        with self._lock:
            entry = self._sources.get(source)
            if entry is None:
                return
            self._refill(settings, entry, now)
            if entry.tokens >= 1.0:
                return
            entry.unaudited += 1
            per_second = settings.integration_refusals_per_minute / 60.0
            retry_after = (1.0 - entry.tokens) / per_second if per_second > 0 else 60.0
        INTEGRATION_REFUSALS.labels(endpoint=endpoint, reason="rate_limited").inc()
        raise RateLimited(
            f"too many refused requests from {source}; try again later", retry_after=retry_after
        )

    # After a refusal

    def refused(
        self,
        settings: Settings,
        clock: Clock,
        session: Session,
        source: str,
        action: str,
        target: str,
        exc: ServiceError,
        request_id: str | None,
    ) -> None:
        """Count the refusal against the source; audit it if the window still has room, in its own
        transaction (``session`` is rolled back first)."""
        now = clock()
        INTEGRATION_REFUSALS.labels(endpoint=target, reason=exc.code).inc()
        with self._lock:
            entry = self._sources.get(source)
            if entry is None:
                entry = _Source(
                    tokens=float(settings.integration_refusal_burst), refilled_at=now, window_start=now
                )
                self._sources[source] = entry
                ends = now + timedelta(seconds=settings.integration_refusal_audit_seconds)
                self._next_due = ends if self._next_due is None else min(self._next_due, ends)
            self._sources.move_to_end(source)
            self._refill(settings, entry, now)
            entry.tokens = max(0.0, entry.tokens - 1.0)
            entry.action, entry.target = action, target
            audit_it = entry.audited < settings.integration_refusals_audited
            if audit_it:
                entry.audited += 1
            else:
                entry.unaudited += 1
            evicted = self._evict_locked()
        session.rollback()
        if audit_it:
            _write(
                session,
                clock,
                action,
                target,
                f"refused:{exc.code}",
                request_id,
                {"reason": exc.message, "source": source},
            )
        for name, old in evicted:
            _write_summary(session, clock, name, old, now)

    # Summaries

    def flush(self, settings: Settings, clock: Clock, session_factory: SessionFactory) -> int:
        """Write the summary row of every source whose window has ended with refusals only counted;
        returns how many rows were written."""
        now = clock()
        window = timedelta(seconds=settings.integration_refusal_audit_seconds)
        due: list[tuple[str, _Source]] = []
        with self._lock:
            if self._next_due is None or now < self._next_due:
                return 0
            for name, entry in list(self._sources.items()):
                if now - entry.window_start < window:
                    continue
                if entry.unaudited:
                    due.append((name, _Source(**entry.__dict__)))
                self._refill(settings, entry, now)
                if entry.tokens >= settings.integration_refusal_burst:
                    del self._sources[name]  # nothing held against it any more
                else:
                    entry.window_start, entry.audited, entry.unaudited = now, 0, 0
            starts = [entry.window_start for entry in self._sources.values()]
            self._next_due = min(starts) + window if starts else None
        if not due:
            return 0
        with session_factory() as session:
            for name, entry in due:
                _write_summary(session, clock, name, entry, now)
        return len(due)

    def _refill(self, settings: Settings, entry: _Source, now: datetime) -> None:
        elapsed = max(0.0, (now - entry.refilled_at).total_seconds())
        per_second = settings.integration_refusals_per_minute / 60.0
        entry.tokens = min(float(settings.integration_refusal_burst), entry.tokens + elapsed * per_second)
        entry.refilled_at = now

    def _evict_locked(self) -> list[tuple[str, _Source]]:
        evicted: list[tuple[str, _Source]] = []
        while len(self._sources) > MAX_SOURCES:
            name, entry = self._sources.popitem(last=False)
            if entry.unaudited:
                evicted.append((name, entry))
        return evicted


def _write_summary(session: Session, clock: Clock, source: str, entry: _Source, now: datetime) -> None:
    _write(
        session,
        clock,
        entry.action,
        entry.target,
        SUMMARY_OUTCOME,
        None,
        {
            "source": source,
            "refused": entry.unaudited,
            "since": entry.window_start.isoformat(),
            "until": now.isoformat(),
            "reason": "refused requests counted, not audited one by one (see the rows before this)",
        },
    )


def _write(
    session: Session,
    clock: Clock,
    action: str,
    target: str,
    outcome: str,
    request_id: str | None,
    details: dict[str, object],
) -> None:
    try:
        audit.record(
            session,
            clock,
            actor=REJECTED_ACTOR,
            action=action,
            target=target,
            outcome=outcome,
            request_id=request_id,
            details=details,
        )
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("could not audit refused integration requests")
