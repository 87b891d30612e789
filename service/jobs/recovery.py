"""Start-up recovery (and a periodic sweep): nothing is left half-known.

An operation still ``running`` whose worker is gone is found; its engine process group is stopped if it is
still alive on this host, the stack's lock is cleared (``pulumi cancel``), and the operation is marked
``interrupted``. open/preview/refresh are retried as a NEW operation linked to the interrupted one (they
converge or change nothing); freeze/release/destroy are left for a human: the investigation goes to
``needs_attention`` with the reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.audit import service as audit
from service.db.session import session_scope
from service.investigations import service as investigations
from service.investigations.actions import spec_of
from service.investigations.models import Investigation
from service.jobs.job_context import JobContext
from service.operations.models import Operation, OperationEvent
from service.operations.states import OperationState
from service.orchestration.messages import EngineErrorCode

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    interrupted: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    needs_attention: list[str] = field(default_factory=list)
    dispatched: list[str] = field(default_factory=list)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def is_orphaned(ctx: JobContext, op: Operation, *, at_startup: bool) -> bool:
    """At start-up nothing of ours runs yet, so any running operation of this host is an orphan whose worker
    is dead or is us under a recycled pid. Later, only dead workers and silent heartbeats count."""
    if op.runner_host == ctx.host:
        if op.runner_pid is None or not process_alive(op.runner_pid):
            return True
        if at_startup and op.runner_pid == ctx.pid:
            return True
    stale = ctx.clock() - timedelta(seconds=ctx.settings.operation_stale_seconds)
    return op.heartbeat_at is None or op.heartbeat_at < stale


def recover(ctx: JobContext, dispatch: Callable[[str], None], *, at_startup: bool = True) -> RecoveryReport:
    report = RecoveryReport()
    with session_scope(ctx.session_factory) as session:
        running = list(
            session.execute(select(Operation).where(Operation.state == OperationState.RUNNING)).scalars()
        )
        orphans = [
            (op.id, op.investigation_id, op.pid, op.runner_host)
            for op in running
            if is_orphaned(ctx, op, at_startup=at_startup)
        ]
    for op_id, investigation_id, pid, host in orphans:
        _recover_one(ctx, op_id, investigation_id, pid if host == ctx.host else None, report)
    _release_stale_locks(ctx)
    with session_scope(ctx.session_factory) as session:
        waiting = (
            session.execute(
                select(Operation.investigation_id).where(Operation.state == OperationState.QUEUED).distinct()
            )
            .scalars()
            .all()
        )
    for investigation_id in waiting:
        dispatch(investigation_id)
        report.dispatched.append(investigation_id)
    if report.interrupted:
        logger.warning(
            "recovery: interrupted %s, retried %s, needs attention %s",
            report.interrupted,
            report.retried,
            report.needs_attention,
        )
    return report


# Why an operation was interrupted, as its error says.
CRASHED = "the service stopped while this operation ran"
HANDED_OVER = "handed over: its worker shut down before it finished"


def hand_over(ctx: JobContext, op_id: str, investigation_id: str) -> RecoveryReport:
    """A running operation of this process that must not outlive its shutdown (``service.jobs.drain``): what
    a sweep would do once the process were gone, done now by the thread that ran it. The engine's process
    group is stopped if anything of it is still alive, the stack's lock cleared, the operation interrupted
    and retried (or handed to a person) exactly once."""
    with session_scope(ctx.session_factory) as session:
        pid = session.execute(select(Operation.pid).where(Operation.id == op_id)).scalar_one_or_none()
    report = RecoveryReport()
    _recover_one(ctx, op_id, investigation_id, pid, report, reason=HANDED_OVER)
    if report.interrupted:
        logger.warning(
            "handed over operation %s (retry %s, needs attention %s)",
            op_id,
            report.retried,
            report.needs_attention,
        )
    return report


def _recover_one(
    ctx: JobContext,
    op_id: str,
    investigation_id: str,
    local_pid: int | None,
    report: RecoveryReport,
    *,
    reason: str = CRASHED,
) -> None:
    """One orphan, by one recoverer: the operation's row stays locked (SELECT ... FOR UPDATE on PostgreSQL)
    from the check until the retry is committed, so the sweeps of two nodes never both clear the stack's
    lock or both queue a retry; the second finds the operation no longer running."""
    notes: list[str] = []
    now = ctx.clock()
    with ctx.unit_of_work() as uow:
        session = uow.session
        op = session.get(Operation, op_id, with_for_update=True)
        if op is None or op.state != OperationState.RUNNING:
            return
        inv = session.get(Investigation, investigation_id)
        if local_pid is not None and _group_alive(local_pid):
            ctx.executor.stop_process_group(local_pid)
            notes.append(f"stopped engine process group {local_pid}")
        stack = inv.stack_name if inv is not None else None
        if stack is not None:
            try:
                ctx.executor.clear_stack_lock(ctx.settings, stack)
                notes.append("cleared the stack lock")
            except Exception as exc:  # recorded; the next operation reports a concurrent update if it matters
                logger.exception("clearing the lock of %s", stack)
                notes.append(f"could not clear the stack lock: {exc}")
        if inv is None:
            return
        # Conditional as well: SQLite has no row locks, and a second recoverer must not queue a second retry.
        moved = session.execute(
            update(Operation)
            .where(Operation.id == op_id, Operation.state == OperationState.RUNNING)
            .values(
                state=OperationState.INTERRUPTED,
                finished_at=now,
                error_code=EngineErrorCode.INTERRUPTED,
                error="; ".join([reason, *notes]),
            )
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return
        session.add(
            OperationEvent(
                operation_id=op.id,
                type="operation_finished",
                payload={"state": op.state, "error_code": op.error_code, "error": op.error},
                created_at=now,
            )
        )
        if inv.active_operation_id == op.id:
            inv.active_operation_id = None
        retry: Operation | None = None
        if spec_of(op.action).retry_after_interrupt:
            retry = investigations.retry_operation(uow, op)
        else:
            investigations.mark_interrupted(uow, inv, op)
        audit.record(
            session,
            ctx.clock,
            actor=audit.SYSTEM,
            action="operation.interrupted",
            target=f"operation/{op.id}",
            outcome="retried" if retry else "needs_attention",
            details={
                "investigation_id": inv.id,
                "action": op.action,
                "reason": reason,
                "notes": notes,
                "retry_operation_id": retry.id if retry else None,
            },
        )
    report.interrupted.append(op_id)
    (report.retried if retry else report.needs_attention).append(retry.id if retry else investigation_id)


def _release_stale_locks(ctx: JobContext) -> None:
    """A lock that points at an operation which is not running is left over from a crash between steps."""
    with session_scope(ctx.session_factory) as session:
        locked = session.execute(
            select(Investigation.id, Investigation.active_operation_id).where(
                Investigation.active_operation_id.is_not(None)
            )
        ).all()
        for investigation_id, op_id in locked:
            op = session.get(Operation, op_id)
            if op is None or op.state != OperationState.RUNNING:
                session.execute(
                    update(Investigation)
                    .where(Investigation.id == investigation_id, Investigation.active_operation_id == op_id)
                    .values(active_operation_id=None)
                )
