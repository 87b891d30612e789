"""Engine events are stored in batches (service/jobs/event_ingestion.py): every event, in order, with the
progress of the last one, in a few transactions rather than one per event; a quiet spell still gets them
stored before the step ends."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.config import Settings
from service.db.session import make_engine, make_session_factory
from service.jobs.event_ingestion import EventIngestion
from service.jobs.job_context import JobContext
from service.operations.models import Operation, OperationEvent
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import open_ready


def _event(n: int, planned: int) -> dict[str, Any]:
    return {
        "type": "step_done",
        "urn": f"urn:pulumi:s::forensics::aws:s3/bucket:Bucket::b{n}",
        "op": "create",
        "progress": {"done": n, "planned": planned},
        "sequence": n,
    }


def _context(settings: Settings, fake: FakeExecutor) -> JobContext:
    return JobContext(
        settings=settings, session_factory=make_session_factory(make_engine(settings)), executor=fake
    )


def _operation_id(client: TestClient, ctx: JobContext) -> str:
    """The operation that opened a (fake-engine) investigation: the one these events are stored for."""
    inv = open_ready(client)
    with ctx.session_factory() as session:
        return str(
            session.execute(select(Operation.id).where(Operation.investigation_id == inv["id"])).scalar_one()
        )


def _stored(ctx: JobContext, operation_id: str) -> list[dict[str, Any]]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(OperationEvent)
            .where(OperationEvent.operation_id == operation_id, OperationEvent.type == "step_done")
            .order_by(OperationEvent.id)
        ).scalars()
        return [row.payload for row in rows if row.payload.get("step_label") == "bench-step"]


def test_every_event_is_stored_in_order_in_a_few_transactions(
    client: TestClient, settings: Settings, fake: FakeExecutor
) -> None:
    ctx = _context(settings, fake)
    operation_id = _operation_id(client, ctx)
    with EventIngestion(ctx, operation_id, 3, "bench-step", max_events=50, max_delay=3600) as events:
        for n in range(1, 121):
            events(_event(n, 120))
    assert events.batches == 3  # 50 + 50 + the 20 left when the step ended
    stored = _stored(ctx, operation_id)
    assert [p["sequence"] for p in stored] == list(range(1, 121))
    assert {p["step"] for p in stored} == {3}
    with ctx.session_factory() as session:
        op = session.get(Operation, operation_id)
        assert op is not None
        assert (op.progress_done, op.progress_planned) == (120, 120)


def test_events_before_a_quiet_spell_are_stored_while_the_step_runs(
    client: TestClient, settings: Settings, fake: FakeExecutor
) -> None:
    ctx = _context(settings, fake)
    operation_id = _operation_id(client, ctx)
    with EventIngestion(ctx, operation_id, 0, "bench-step", max_events=50, max_delay=0.05) as events:
        for n in range(1, 4):
            events(_event(n, 10))
        # Nothing more arrives (a long create): the batch must not wait for the step to end.
        deadline = time.monotonic() + 30
        while len(_stored(ctx, operation_id)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p["sequence"] for p in _stored(ctx, operation_id)] == [1, 2, 3]
        assert events.batches == 1
