"""Start-up recovery (and a periodic sweep): nothing is left half-known.

An operation still ``running`` whose worker is gone is found; its engine process group is stopped if it is
still alive on this host, the stack's lock is cleared (``pulumi cancel``), and the operation is marked
``interrupted``. open/preview/refresh are retried as a NEW operation linked to the interrupted one (they
converge or change nothing); freeze/release/destroy are left for a human: the investigation goes to
``needs_attention`` with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from service import (
    features,  # noqa: F401  (registers every feature's actions: the table is complete here)
    processes,
)
from service.audit import service as audit
from service.db.session import session_scope
from service.investigations import service as investigations
from service.investigations.actions import spec_of
from service.investigations.models import Investigation
from service.jobs.job_context import JobContext
from service.operations.models import Operation, OperationEvent
from service.operations.states import OperationState
from service.orchestration.messages import EngineErrorCode
from service.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    interrupted: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    needs_attention: list[str] = field(default_factory=list)
    dispatched: list[str] = field(default_factory=list)


def _group_alive(pid: int) -> bool:
    """A group of this host that is ours and still running (one we may not signal we cannot stop either)."""
    try:
        return processes.group_alive(pid)
    except PermissionError:
        return False


def is_orphaned(ctx: JobContext, op: Operation, *, at_startup: bool) -> bool:
    """At start-up nothing of ours runs yet, so any running operation of this host is an orphan whose worker
    is dead or is us under a recycled pid. Later, only dead workers and silent heartbeats count."""
    if op.runner_host == ctx.host:
        if op.runner_pid is None or not processes.process_alive(op.runner_pid):
            return True
        if at_startup and op.runner_pid == ctx.pid:
            return True
    stale = ctx.clock() - timedelta(seconds=ctx.settings.operation_stale_seconds)
    return op.heartbeat_at is None or op.heartbeat_at < stale


@dataclass(frozen=True)
class Orphan:
    """A running operation whose worker is gone; ``local_pid`` is its engine's process group when that ran
    on this host (only there can it be stopped)."""

    op_id: str
    investigation_id: str
    local_pid: int | None


def recover(ctx: JobContext, dispatch: Callable[[str], None], *, at_startup: bool = True) -> RecoveryReport:
    report = RecoveryReport()
    with session_scope(ctx.session_factory) as session:
        running = list(
            session.execute(select(Operation).where(Operation.state == OperationState.RUNNING)).scalars()
        )
        orphans = [
            Orphan(op.id, op.investigation_id, op.pid if op.runner_host == ctx.host else None)
            for op in running
            if is_orphaned(ctx, op, at_startup=at_startup)
        ]
    if orphans:
        _recover(ctx, orphans, report)
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
    _recover(ctx, [Orphan(op_id, investigation_id, pid)], report, reason=HANDED_OVER)
    if report.interrupted:
        logger.warning(
            "handed over operation %s (retry %s, needs attention %s)",
            op_id,
            report.retried,
            report.needs_attention,
        )
    return report


def _recover(
    ctx: JobContext, orphans: list[Orphan], report: RecoveryReport, *, reason: str = CRASHED
) -> None:
    """The orphans of one sweep, by one recoverer, in one transaction: their operation rows stay locked
    (SELECT ... FOR UPDATE on PostgreSQL) from the check until the retries are committed, so the sweeps of two
    nodes never both stop an engine, clear a stack's lock or queue a retry; the second finds the operations
    no longer running. Rows are locked in id order, so two sweeps that found the same orphans wait for each
    other rather than deadlock.

    The local engines are stopped together (``OperationExecutor.stop_process_groups``: one shared grace, not
    one per engine), then every stack's lock is cleared (a CLI run each), and only then are the rows written:
    on SQLite, which locks the whole file for a write, nothing waits on the CLI while that lock is held."""
    now = ctx.clock()
    with ctx.unit_of_work() as uow:
        session = uow.session
        locked: list[tuple[Orphan, Operation]] = []
        for orphan in sorted(orphans, key=lambda o: o.op_id):
            op = session.get(Operation, orphan.op_id, with_for_update=True)
            if op is not None and op.state == OperationState.RUNNING:
                locked.append((orphan, op))
        notes: dict[str, list[str]] = {orphan.op_id: [] for orphan, _ in locked}
        engines = {
            orphan.op_id: orphan.local_pid
            for orphan, _ in locked
            if orphan.local_pid is not None and _group_alive(orphan.local_pid)
        }
        if engines:
            ctx.executor.stop_process_groups(list(engines.values()))
            for op_id, pid in engines.items():
                notes[op_id].append(f"stopped engine process group {pid}")
        investigations_of: dict[str, Investigation | None] = {}
        for orphan, _ in locked:
            inv = session.get(Investigation, orphan.investigation_id)
            investigations_of[orphan.op_id] = inv
            if inv is not None and inv.stack_name is not None:
                notes[orphan.op_id].append(_clear_stack_lock(ctx, inv.stack_name))
        for orphan, op in locked:
            inv = investigations_of[orphan.op_id]
            if inv is not None:
                _interrupt(uow, op, inv, reason, notes[orphan.op_id], now, report)


def _clear_stack_lock(ctx: JobContext, stack: str) -> str:
    """``pulumi cancel`` on the stack; what happened, as a note for the operation's error."""
    try:
        ctx.executor.clear_stack_lock(ctx.settings, stack)
    except Exception as exc:  # recorded; the next operation reports a concurrent update if it matters
        logger.exception("clearing the lock of %s", stack)
        return f"could not clear the stack lock: {exc}"
    return "cleared the stack lock"


def _interrupt(
    uow: UnitOfWork,
    op: Operation,
    inv: Investigation,
    reason: str,
    notes: list[str],
    now: datetime,
    report: RecoveryReport,
) -> None:
    """The operation ends ``interrupted``; it is retried or its investigation handed to a person."""
    session = uow.session
    # Conditional as well: SQLite has no row locks, and a second recoverer must not queue a second retry.
    moved = session.execute(
        update(Operation)
        .where(Operation.id == op.id, Operation.state == OperationState.RUNNING)
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
        uow.clock,
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
    report.interrupted.append(op.id)
    (report.retried if retry else report.needs_attention).append(retry.id if retry else inv.id)


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
