"""Runs an investigation's next queued operation: claim the per-investigation lock, run the engine steps in a
child process each, settle the outcome, release the lock, hand over to the next operation.

The lock is ``investigations.active_operation_id``, set by a conditional UPDATE: it works the same in SQLite
and PostgreSQL, across processes and hosts, and start-up recovery can see and clear it. A task that finds the
lock taken simply returns; whoever holds it dispatches the investigation again when it finishes.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.audit import service as audit
from service.db.session import session_scope
from service.investigations import service as investigations
from service.investigations.actions import StepFailed, StepRun, spec_of
from service.investigations.models import Investigation
from service.jobs import recovery
from service.jobs.event_ingestion import EventIngestion
from service.jobs.job_context import JobContext, Requeue
from service.observability import metrics
from service.operations.models import Operation, OperationEvent
from service.operations.states import OperationState
from service.orchestration.messages import EngineErrorCode, OperationKind, OperationResult

logger = logging.getLogger(__name__)

_STATE_FOR_CODE: dict[str, OperationState] = {
    EngineErrorCode.CANCELLED: OperationState.CANCELLED,
    EngineErrorCode.TIMED_OUT: OperationState.TIMED_OUT,
    EngineErrorCode.INTERRUPTED: OperationState.INTERRUPTED,
}


@dataclass(frozen=True)
class Claimed:
    operation_id: str
    investigation_id: str


def process_next(ctx: JobContext, investigation_id: str, requeue: Requeue) -> str | None:
    """Run queued operations of one investigation until none is left; returns the last operation id run."""
    last: str | None = None
    while True:
        if ctx.drain.stopping.is_set():
            # This process is shutting down: what is still queued goes back to the queue for another worker.
            requeue(investigation_id, 0)
            return last
        claimed = claim_next(ctx, investigation_id, requeue)
        if claimed is None:
            return last
        run_claimed(ctx, claimed)
        last = claimed.operation_id


def claim_next(ctx: JobContext, investigation_id: str, requeue: Requeue) -> Claimed | None:
    with session_scope(ctx.session_factory) as session:
        inv = session.get(Investigation, investigation_id)
        if inv is None or inv.active_operation_id is not None:
            return None
        op = session.execute(
            select(Operation)
            .where(Operation.investigation_id == investigation_id, Operation.state == OperationState.QUEUED)
            # A retry of an interrupted operation goes first: it was running before anything still queued.
            .order_by(Operation.retry_of.is_(None), Operation.sequence)
            .limit(1)
        ).scalar_one_or_none()
        if op is None:
            return None
        now = ctx.clock()
        if op.not_before is not None and op.not_before > now:
            requeue(investigation_id, (op.not_before - now).total_seconds())
            return None
        locked = session.execute(
            update(Investigation)
            .where(Investigation.id == investigation_id, Investigation.active_operation_id.is_(None))
            .values(active_operation_id=op.id)
        ).rowcount  # type: ignore[attr-defined]
        if not locked:
            return None
        started = session.execute(
            update(Operation)
            .where(Operation.id == op.id, Operation.state == OperationState.QUEUED)
            .values(
                state=OperationState.RUNNING,
                started_at=now,
                heartbeat_at=now,
                runner_host=ctx.host,
                runner_pid=ctx.pid,
            )
        ).rowcount  # type: ignore[attr-defined]
        if not started:  # cancelled between the read and the claim
            session.rollback()
            return claim_next(ctx, investigation_id, requeue)
        session.add(OperationEvent(operation_id=op.id, type="operation_started", payload={}, created_at=now))
        audit.record(
            session,
            ctx.clock,
            actor=audit.SYSTEM,
            action="operation.start",
            target=f"operation/{op.id}",
            outcome="running",
            request_id=op.request_id,
            details={
                "investigation_id": investigation_id,
                "action": op.action,
                "kind": op.kind,
                "requested_by": op.requested_by,
                "attempt": op.attempt,
            },
        )
    return Claimed(op.id, investigation_id)


class _Watch:
    """While an operation runs: heartbeat, and turn a cancel request (from any process) or this process's
    hand-over at shutdown (``service.jobs.drain``) into the Event that stops the engine."""

    def __init__(self, ctx: JobContext, operation_id: str) -> None:
        self.ctx = ctx
        self.operation_id = operation_id
        self.cancel = threading.Event()
        self.cancel_requested = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch-{operation_id[:8]}", daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def must_hand_over(self) -> bool:
        """The shutdown grace is over and nobody asked to cancel: stop, and let another worker retry."""
        return self.ctx.drain.handing_over.is_set() and not self.cancel_requested

    def _run(self) -> None:
        beat_every = self.ctx.settings.operation_heartbeat_seconds
        last_beat = 0.0
        while not self._stop.wait(0.5):
            if self.must_hand_over:
                self.cancel.set()
            try:
                with session_scope(self.ctx.session_factory) as session:
                    if time.monotonic() - last_beat >= beat_every:
                        session.execute(
                            update(Operation)
                            .where(Operation.id == self.operation_id)
                            .values(heartbeat_at=self.ctx.clock())
                        )
                        last_beat = time.monotonic()
                    requested = session.execute(
                        select(Operation.cancel_requested_at).where(Operation.id == self.operation_id)
                    ).scalar_one_or_none()
                if requested is not None:
                    self.cancel_requested = True
                    self.cancel.set()
            except Exception:  # a busy database must not kill the watch; try again next tick
                logger.exception("watch of operation %s", self.operation_id)


def _on_started(ctx: JobContext, operation_id: str) -> Any:
    def record_pid(pid: int) -> None:
        with session_scope(ctx.session_factory) as session:
            session.execute(update(Operation).where(Operation.id == operation_id).values(pid=pid))

    return record_pid


def run_claimed(ctx: JobContext, claimed: Claimed) -> None:
    started = time.monotonic()
    with session_scope(ctx.session_factory) as session:
        op = session.get(Operation, claimed.operation_id)
        inv = session.get(Investigation, claimed.investigation_id)
        assert op is not None and inv is not None
        spec = spec_of(op.action)
        params = dict(op.params or {})
        run = StepRun(operation_id=op.id, requested_by=op.requested_by)
        session.expunge(inv)  # read by the steps and the after-success work once the session is gone

    result: OperationResult | None = None
    extra: dict[str, Any] = {}
    kind = spec.kind or OperationKind.UP
    handed_over = False
    try:
        steps = spec.steps(inv, params, ctx.settings) if spec.steps is not None else []
        with _Watch(ctx, claimed.operation_id) as watch:
            for index, step in enumerate(steps):
                if watch.must_hand_over:
                    handed_over = True
                    break
                if watch.cancel.is_set():
                    result = _failed(inv, kind, EngineErrorCode.CANCELLED, "cancelled before " + step.label)
                    break
                if step.work is not None:
                    step.work(ctx, inv, params, run)
                    inv = _reloaded(ctx, inv.id)
                    continue
                request = (
                    step.request if step.build is None else step.build(_reloaded(ctx, inv.id), ctx.settings)
                )
                assert request is not None
                kind = request.kind
                with EventIngestion(ctx, claimed.operation_id, index, step.label) as events:
                    result = ctx.executor.run_operation(
                        ctx.settings,
                        request,
                        events,
                        cancel=watch.cancel,
                        on_started=_on_started(ctx, claimed.operation_id),
                        timeout=float(ctx.settings.operation_timeout_seconds),
                    )
                run.previous = result
                if not result.succeeded:
                    # Stopped for the hand-over, the engine reports "cancelled": not this operation's end.
                    handed_over = watch.must_hand_over
                    break
            if (
                not handed_over
                and (result is None or result.succeeded)
                and spec.after_success is not None
                and steps
            ):
                assert result is not None, "an action with after-success work runs an engine step"
                extra = spec.after_success(ctx, inv, params, result, run)
    except StepFailed as exc:
        logger.warning("operation %s: %s", claimed.operation_id, exc)
        result = _failed(inv, kind, exc.code, str(exc))
    except Exception as exc:  # never leave an operation running because our own code failed
        logger.exception("operation %s failed in the service", claimed.operation_id)
        result = _failed(inv, kind, EngineErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
    if handed_over:
        recovery.hand_over(ctx, claimed.operation_id, claimed.investigation_id)
        return
    if result is None:  # an action without engine steps
        result = OperationResult(kind=kind, stack_name=inv.stack_name, succeeded=True)
    finish(
        ctx,
        claimed,
        result,
        extra,
        time.monotonic() - started,
        stack_ran=run.previous is not None,
        facts=run.facts,
    )


def _failed(inv: Investigation, kind: OperationKind, code: str, message: str) -> OperationResult:
    return OperationResult(
        kind=kind, stack_name=inv.stack_name, succeeded=False, error_code=code, error=message
    )


def _reloaded(ctx: JobContext, investigation_id: str) -> Investigation:
    """The investigation as the database has it now (a work step may have declared more state)."""
    with session_scope(ctx.session_factory) as session:
        inv = session.get(Investigation, investigation_id)
        assert inv is not None
        session.expunge(inv)
    return inv


def _state_of(kind: OperationKind | None, result: OperationResult) -> OperationState:
    if result.succeeded:
        return OperationState.SUCCEEDED
    if kind == OperationKind.DESTROY and result.error_code == EngineErrorCode.STACK_NOT_FOUND:
        return OperationState.SUCCEEDED  # nothing was ever deployed: destroyed is already true
    return _STATE_FOR_CODE.get(result.error_code or "", OperationState.FAILED)


def finish(
    ctx: JobContext,
    claimed: Claimed,
    result: OperationResult,
    extra: dict[str, Any],
    seconds: float,
    *,
    stack_ran: bool = True,
    facts: dict[str, Any] | None = None,
) -> None:
    now = ctx.clock()
    retry_delay: float | None = None
    with ctx.unit_of_work() as uow:
        session = uow.session
        op = session.get(Operation, claimed.operation_id)
        inv = session.get(Investigation, claimed.investigation_id)
        assert op is not None and inv is not None
        spec = spec_of(op.action)
        retries = int((op.params or {}).get("concurrent_update_retries", 0))
        if (
            result.error_code == EngineErrorCode.CONCURRENT_UPDATE
            and retries < ctx.settings.concurrent_update_retries
            and op.cancel_requested_at is None
        ):
            # Someone else holds the stack's lock: wait and try again, keeping our place in the order.
            retry_delay = ctx.settings.concurrent_update_retry_seconds * (retries + 1)
            op.state = OperationState.QUEUED
            op.params = {**(op.params or {}), "concurrent_update_retries": retries + 1}
            op.not_before = now + timedelta(seconds=retry_delay)
            op.pid = None
            session.add(
                OperationEvent(
                    operation_id=op.id,
                    type="operation_requeued",
                    payload={"reason": result.error, "retry_in_seconds": retry_delay},
                    created_at=now,
                )
            )
            outcome = "requeued"
        else:
            state = _state_of(spec.kind, result)
            op.state = state
            op.finished_at = now
            op.result = {**result.to_json(), **extra}
            if state != OperationState.SUCCEEDED:
                op.error_code = result.error_code or "failed"
                op.error = (result.error or "")[-8000:] or None
            # Work steps alone report nothing about the stack: their result must not replace its outputs.
            investigations.settle(uow, inv, op, state, result if stack_ran else None, facts=facts)
            session.add(
                OperationEvent(
                    operation_id=op.id,
                    type="operation_finished",
                    payload={"state": state.value, "error_code": op.error_code, "error": op.error},
                    created_at=now,
                )
            )
            outcome = state.value
        session.execute(
            update(Investigation)
            .where(Investigation.id == inv.id, Investigation.active_operation_id == op.id)
            .values(active_operation_id=None)
        )
        audit.record(
            session,
            ctx.clock,
            actor=audit.SYSTEM,
            action="operation.end",
            target=f"operation/{op.id}",
            outcome=outcome,
            request_id=op.request_id,
            details={
                "investigation_id": inv.id,
                "action": op.action,
                "kind": op.kind,
                "error_code": result.error_code,
                "investigation_status": inv.status,
                "policy_violations": sorted({v.policy_name for v in result.policy_violations}),
            },
        )
        kind = op.kind
    # A re-queued operation is picked up again by process_next's next claim, which schedules it for later.
    metrics.observe_finished(kind, spec.name, outcome, seconds if retry_delay is None else None)
