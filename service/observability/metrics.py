"""Prometheus metrics. Counters and durations are observed where operations run (this process); state counts
and queue depth are read from the database at scrape time, so they are right even with a separate consumer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.orm import Session

from service.investigations.operation_service import counts_by_state
from service.operations.states import OperationState

REGISTRY = CollectorRegistry(auto_describe=True)

OPERATIONS = Counter(
    "forensics_operations_total",
    "Operations finished in this process, by kind, action and outcome.",
    ["kind", "action", "outcome"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "forensics_operation_duration_seconds",
    "Wall time of finished operations.",
    ["kind", "action"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("forensics_queue_depth", "Operations waiting to run (all processes).", registry=REGISTRY)
BY_STATE = Gauge(
    "forensics_operations_in_state",
    "Operations in the database by kind and state.",
    ["kind", "state"],
    registry=REGISTRY,
)
INTEGRATION_REFUSALS = Counter(
    "forensics_integration_refusals_total",
    "Unauthenticated integration requests refused in this process (bad signature, replay, rate limited).",
    ["endpoint", "reason"],
    registry=REGISTRY,
)
HUEY_PENDING = Gauge("forensics_huey_pending_tasks", "Tasks in the Huey queue.", registry=REGISTRY)


def observe_finished(kind: str, action: str, outcome: str, seconds: float | None) -> None:
    OPERATIONS.labels(kind=kind, action=action, outcome=outcome).inc()
    if seconds is not None:
        DURATION.labels(kind=kind, action=action).observe(seconds)


def render(session: Session, huey_pending: int | None) -> bytes:
    counts = counts_by_state(session)
    BY_STATE.clear()
    for (kind, state), n in counts.items():
        BY_STATE.labels(kind=kind, state=state).set(n)
    QUEUE_DEPTH.set(sum(n for (_, state), n in counts.items() if state == OperationState.QUEUED))
    if huey_pending is not None:
        HUEY_PENDING.set(huey_pending)
    return generate_latest(REGISTRY)
