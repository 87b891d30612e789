"""A worker stopped with SIGTERM in the middle of an `up` (what systemd, Kubernetes and `docker stop` send,
and what "stop the old workers before the new ones start" relies on), through the real engine.

The grace is short (1 s) and the signal comes as the first resources are created, so the `up` is handed over
in nearly every run; the other outcome the drain allows (the rest took less than the grace, and the old worker
finished it) is checked just as strictly. Either way: the worker exits by itself, no process of the engine's
process group survives it, the stack is not left locked. Handed over: the operation is interrupted with that
reason, a second worker started afterwards takes the retry and completes it exactly once, and Pulumi's own
history shows the two updates one after the other. The local AWS holds exactly one clean room for the
investigation.

A second test gives the grace room (15 minutes): the worker finishes its `up` itself, exits, and leaves a
clean room opened after the signal queued for the next worker.

The unit twin (tests/jobs/test_worker_drain.py) takes each branch on purpose with the fake engine.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from service.audit.models import AuditEntry
from service.config import Settings
from service.jobs.drain import HANDOVER_SECONDS
from service.operations.models import Operation
from tests.jobs.test_scale_out_engine import _assert_exactly_the_clean_rooms
from tests.support import stack_history
from tests.support.api import open_body
from tests.support.processes import ServiceProcess, WorkerProcess
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

GRACE_SECONDS = 1.0
# Longer than any `up` of the test program takes on a loaded machine.
LONG_GRACE_SECONDS = 900.0
PROC = Path("/proc")


@pytest.fixture
def drain_settings(engine_settings: Settings, local_aws: LocalAws) -> Iterator[Settings]:
    yield _drain_settings(engine_settings, local_aws, GRACE_SECONDS)


def _drain_settings(engine_settings: Settings, local_aws: LocalAws, grace: float) -> Settings:
    settings = engine_settings.model_copy(
        update={
            "embedded_consumer": False,  # the API node only queues; the workers run
            "shutdown_grace_seconds": grace,
            "max_parallel_operations": 1,
            "integrations_periodic_tasks": False,
            # Every node, and every engine process, verifies the local AWS's certificate with its CA file.
            "aws_verify_tls": True,
            "aws_ca_bundle": local_aws.ca_file,
        }
    )
    seed(settings)
    return settings


def _group_members(pgid: int) -> list[str]:
    """Every live process of one process group, read from /proc (field 5 of stat is the group)."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended between listing and reading
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(f"{entry.name}: {command}")
    return members


def _wait(what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def test_a_worker_stopped_with_sigterm_mid_up_hands_its_operation_over(
    drain_settings: Settings, local_aws: LocalAws
) -> None:
    settings = drain_settings
    db = create_engine(settings.sqlalchemy_url)
    api = ServiceProcess(settings)
    first = WorkerProcess(settings, "worker-old")
    second = WorkerProcess(settings, "worker-new")
    try:
        api.start()
        first.start()
        opened = api.post("/v1/investigations", open_body("SEC-960"))
        assert opened.status_code == 202, opened.text
        op_id = opened.json()["operation"]["id"]
        inv_id = opened.json()["investigation"]["id"]

        def creating() -> dict[str, Any] | None:
            op = api.get(f"/v1/operations/{op_id}")
            assert op["state"] in ("queued", "running"), op
            return op if op["state"] == "running" and op["progress"]["done"] >= 1 else None

        running = _wait("the engine creating resources", creating, timeout=900, every=0.2)
        engine_pid = running["pid"]
        assert engine_pid and _group_members(engine_pid), "the engine runs in its own process group"

        stopping = time.monotonic()
        assert first.proc is not None
        first.proc.send_signal(signal.SIGTERM)
        exit_code = first.proc.wait(timeout=GRACE_SECONDS + HANDOVER_SECONDS + 30)
        drained_in = time.monotonic() - stopping
        log = first.log.read_text()
        assert exit_code == 0, log[-3000:]

        # Nothing of its engine outlives the worker: the CLI, the program, the provider, the analyzer.
        assert _group_members(engine_pid) == [], log[-3000:]
        with pytest.raises(ProcessLookupError):
            os.killpg(engine_pid, 0)
        # The stack is not left locked (file backend: lock files under .pulumi/locks/).
        locks = settings.state_dir / ".pulumi" / "locks"
        assert not locks.exists() or [p for p in locks.rglob("*") if p.is_file()] == []
        ended = api.get(f"/v1/operations/{op_id}")
        print(f"worker drained in {drained_in:.1f} s: {ended['state']} at {ended['progress']}")
        handed_over = ended["state"] == "interrupted"
        if handed_over:
            assert "handed over" in ended["error"]["message"], ended
            assert drained_in >= GRACE_SECONDS, "the running operation got its grace"
        else:  # the rest of the `up` took less than the grace: the old worker finished it
            assert ended["state"] == "succeeded", (ended, log[-3000:])
            assert drained_in < GRACE_SECONDS + 30, drained_in

        # The next worker takes the retry from the queue and completes it.
        second.start()

        def settled() -> dict[str, Any] | None:
            inv = api.get(f"/v1/investigations/{inv_id}")
            return inv if inv["status"] in ("ready", "failed", "needs_attention") else None

        inv = _wait("the retry", settled, timeout=900, every=1.0)
        assert inv["status"] == "ready", inv

        with db.connect() as conn:
            operations = conn.execute(select(Operation)).all()
            ends = Counter(
                conn.execute(
                    select(AuditEntry.target).where(
                        AuditEntry.action.in_(("operation.end", "operation.interrupted"))
                    )
                ).scalars()
            )
        states = {op.id: (op.state, op.runner_pid) for op in operations}
        retries = [op for op in operations if op.retry_of == op_id]
        if handed_over:
            assert len(retries) == 1, operations
            assert states == {
                op_id: ("interrupted", first.pid),
                retries[0].id: ("succeeded", second.pid),
            }
        else:
            assert states == {op_id: ("succeeded", first.pid)}
        assert ends == Counter({f"operation/{op.id}": 1 for op in operations})

        # Never two engines on one stack: the retry's update began after the handed-over one had ended.
        history = stack_history.updates(settings, inv["stack_name"])
        updates = sorted((h.start_time, h.end_time, h.result) for h in history if h.kind == "update")
        assert len(updates) == (2 if handed_over else 1) and updates[-1][2] == "succeeded", updates
        assert all(a[1] is not None and b[0] >= a[1] for a, b in itertools.pairwise(updates)), (
            f"updates overlapped (or one never ended): {updates}"
        )

        _assert_exactly_the_clean_rooms(local_aws, settings, [inv])
    finally:
        for node in (second, first, api):
            node.stop()
        db.dispose()


def test_a_worker_stopped_with_sigterm_mid_up_finishes_it_within_a_long_grace_and_takes_nothing_new(
    engine_settings: Settings, local_aws: LocalAws
) -> None:
    settings = _drain_settings(engine_settings, local_aws, grace=LONG_GRACE_SECONDS)
    db = create_engine(settings.sqlalchemy_url)
    api = ServiceProcess(settings)
    worker = WorkerProcess(settings, "worker-draining")
    try:
        api.start()
        worker.start()
        opened = api.post("/v1/investigations", open_body("SEC-961"))
        assert opened.status_code == 202, opened.text
        op_id = opened.json()["operation"]["id"]

        def creating() -> dict[str, Any] | None:
            op = api.get(f"/v1/operations/{op_id}")
            assert op["state"] in ("queued", "running"), op
            return op if op["state"] == "running" and op["progress"]["done"] >= 1 else None

        engine_pid = _wait("the engine creating resources", creating, timeout=900, every=0.2)["pid"]
        assert worker.proc is not None
        worker.proc.send_signal(signal.SIGTERM)
        # Queued while the worker drains: it must not start it.
        late = api.post("/v1/investigations", open_body("SEC-962"))
        assert late.status_code == 202, late.text
        exit_code = worker.proc.wait(timeout=LONG_GRACE_SECONDS)
        log = worker.log.read_text()
        assert exit_code == 0, log[-3000:]

        assert _group_members(engine_pid) == [], log[-3000:]
        finished = api.get(f"/v1/operations/{op_id}")
        assert finished["state"] == "succeeded", (finished, log[-3000:])
        assert api.get(f"/v1/operations/{late.json()['operation']['id']}")["state"] == "queued"
        with db.connect() as conn:
            operations = conn.execute(select(Operation)).all()
        assert {op.id: (op.state, op.runner_pid) for op in operations if op.state != "queued"} == {
            op_id: ("succeeded", worker.pid)
        }
    finally:
        for node in (worker, api):
            node.stop()
        db.dispose()
