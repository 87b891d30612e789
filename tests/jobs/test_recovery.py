from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import update

from service import processes
from service.config import Settings
from service.investigations.models import Investigation
from service.jobs import recovery, worker
from service.jobs.recovery import RecoveryReport
from service.main import create_app
from service.operations.models import Operation
from service.orchestration import stacks
from service.orchestration.engine import PulumiExecutor
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.process_groups import record_signals, start_engine_group
from tests.support.settings import make_settings
from tools.local_servers import PostgresServer, RedisServer


@pytest.fixture
def idle_app(settings: Settings, fake: FakeExecutor) -> FastAPI:
    """No embedded consumer: operations stay queued until the test moves them."""
    return create_app(settings.model_copy(update={"embedded_consumer": False}), executor=fake)


@pytest.fixture
def idle_client(idle_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(idle_app) as client:
        yield client


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _pretend_running(app: FastAPI, op_id: str, engine_pid: int | None) -> None:
    with app.state.session_factory.begin() as session:
        session.execute(
            update(Operation)
            .where(Operation.id == op_id)
            .values(
                state="running",
                runner_host=socket.gethostname(),
                runner_pid=_dead_pid(),
                pid=engine_pid,
            )
        )
        op = session.get(Operation, op_id)
        session.execute(
            update(Investigation)
            .where(Investigation.id == op.investigation_id)
            .values(active_operation_id=op_id)
        )


def test_interrupted_open_is_stopped_unlocked_and_retried(
    idle_app: FastAPI, idle_client: TestClient, fake: FakeExecutor
) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    engine = subprocess.Popen(["sleep", "60"], start_new_session=True)
    _pretend_running(idle_app, op_id, engine.pid)

    report = idle_app.state.jobs.recover()

    assert engine.wait(timeout=5) != 0  # the orphaned engine process group was stopped
    assert fake.stopped == [engine.pid]
    assert fake.cleared == [opened["investigation"]["stack_name"]]
    assert report.interrupted == [op_id]
    old = idle_client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()
    assert (old["state"], old["error"]["code"]) == ("interrupted", "interrupted")
    detail = idle_client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
    retry = detail["timeline"][-1]
    assert (retry["retry_of"], retry["state"], retry["action"], retry["attempt"]) == (
        op_id,
        "queued",
        "open",
        2,
    )
    assert detail["status"] == "opening" and detail["active_operation_id"] is None
    assert report.dispatched == [opened["investigation"]["id"]]


# An engine process group as recovery meets it: it notes each SIGINT it gets in its file, then either ends
# shortly after (a CLI that cancels cleanly; a second SIGINT meanwhile is noted too) or keeps running (one
# still finishing its resource operations).
class RealStops(FakeExecutor):
    """The fake engine, but process groups are stopped as the real executor stops them."""

    def stop_process_groups(self, pids: list[int]) -> None:
        self.stopped.extend(pids)
        PulumiExecutor().stop_process_groups(pids)


def test_a_sweeps_orphaned_engines_are_all_interrupted_before_any_is_killed(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three orphans of one dead worker: every engine group gets its SIGINT before recovery waits for any
    (one shared grace, not one after the other), the one that ends on it is left alone, the two still running
    when the grace is over are killed, and each operation is interrupted and retried once."""
    monkeypatch.setattr(stacks, "CANCEL_GRACE_SECONDS", 1.0)
    signals = record_signals(monkeypatch)
    executor = RealStops()
    app = create_app(settings.model_copy(update={"embedded_consumer": False}), executor=executor)
    with TestClient(app) as client:
        opened = [
            client.post("/v1/investigations", json=open_body(f"SEC-7{i}"), headers=ADMIN).json()
            for i in range(3)
        ]
        engines = [start_engine_group(tmp_path, f"engine-{i}", ends_on_interrupt=i == 1) for i in range(3)]
        for inv, (engine, _) in zip(opened, engines, strict=True):
            _pretend_running(app, inv["operation"]["id"], engine.pid)

        report = app.state.jobs.recover()

        pids = [engine.pid for engine, _ in engines]
        interrupts = [pid for pid, sig in signals if sig == signal.SIGINT]
        kills = [pid for pid, sig in signals if sig == signal.SIGKILL]
        assert sorted(interrupts) == sorted(pids), signals  # each group interrupted exactly once
        first_kill = signals.index((kills[0], signal.SIGKILL)) if kills else len(signals)
        assert sorted(pid for pid, _ in signals[:first_kill]) == sorted(pids), signals
        assert sorted(kills) == sorted([pids[0], pids[2]]), signals  # only the two still running
        returncodes = [engine.wait(timeout=10) for engine, _ in engines]
        assert returncodes == [-signal.SIGKILL, 0, -signal.SIGKILL]
        assert [mark.read_text() for _, mark in engines] == ["SIGINT\n"] * 3  # the signal really got there
        assert sorted(report.interrupted) == sorted(inv["operation"]["id"] for inv in opened)
        assert len(report.retried) == 3
        assert sorted(executor.cleared) == sorted(inv["investigation"]["stack_name"] for inv in opened)


def test_interrupted_freeze_needs_attention(idle_app: FastAPI, idle_client: TestClient) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    with idle_app.state.session_factory.begin() as session:
        session.execute(update(Operation).values(state="succeeded"))
        session.execute(update(Investigation).values(status="ready"))
    freeze = idle_client.post(f"/v1/investigations/{inv_id}/freeze", headers=ADMIN).json()["operation"]
    _pretend_running(idle_app, freeze["id"], None)

    report = idle_app.state.jobs.recover()

    assert report.needs_attention == [inv_id] and report.retried == []
    detail = idle_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    assert detail["status"] == "needs_attention"
    assert "freeze operation" in detail["attention_reason"] and "interrupted" in detail["attention_reason"]
    assert [op["state"] for op in detail["timeline"]] == ["succeeded", "interrupted"]
    audit = idle_client.get("/v1/audit?action=operation.interrupted", headers=ADMIN).json()["items"]
    assert audit[0]["outcome"] == "needs_attention"


def test_recovery_at_start_up_then_the_retry_runs(
    settings: Settings, fake: FakeExecutor, idle_app: FastAPI, idle_client: TestClient
) -> None:
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    _pretend_running(idle_app, opened["operation"]["id"], None)
    idle_client.__exit__(None, None, None)

    with TestClient(create_app(settings, executor=fake)) as client:
        detail = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
        retry = detail["timeline"][-1]
        assert retry["retry_of"] == opened["operation"]["id"]
        assert wait_operation(client, retry["id"])["state"] == "succeeded"
        assert (
            client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()["status"]
            == "ready"
        )


def test_a_silent_worker_on_another_host_is_recovered_once_though_two_nodes_sweep(
    tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    """PostgreSQL: two nodes' sweeps find the same orphan at once (a worker on another host whose heartbeat
    stopped); one of them recovers it: one lock cleared, one interruption, one retry."""
    shared = {"database_url": postgres_server.database(), "jobs_url": redis_server.url()}
    settings = make_settings(tmp_path, embedded_consumer=False, operation_stale_seconds=60, **shared)
    slow = SlowUnlock()
    one = create_app(settings, executor=slow)
    two = create_app(settings, executor=slow)
    with TestClient(one) as client, TestClient(two):
        opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
        op_id = opened["operation"]["id"]
        with one.state.session_factory.begin() as session:
            session.execute(
                update(Operation)
                .where(Operation.id == op_id)
                .values(
                    state="running",
                    runner_host="worker-on-another-host",
                    runner_pid=1,  # alive here, but not ours: only the heartbeat can tell
                    heartbeat_at=datetime.now(UTC) - timedelta(minutes=10),
                )
            )
            session.execute(
                update(Investigation)
                .where(Investigation.id == opened["investigation"]["id"])
                .values(active_operation_id=op_id)
            )

        def sweep(app: FastAPI) -> RecoveryReport:
            jobs = app.state.jobs
            return recovery.recover(jobs.ctx, lambda _: None, at_startup=False)

        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(sweep, [one, two]))

        assert sorted(len(r.interrupted) for r in reports) == [0, 1]
        assert slow.cleared == [opened["investigation"]["stack_name"]] and slow.stopped == []
        detail = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
        assert [(op["state"], op["retry_of"]) for op in detail["timeline"]] == [
            ("interrupted", None),
            ("queued", op_id),
        ]
        audit = client.get("/v1/audit?action=operation.interrupted", headers=ADMIN).json()["items"]
        assert len(audit) == 1


class SlowUnlock(FakeExecutor):
    """Clearing a stack lock takes a while (a `pulumi cancel` against S3 does): long enough for the other
    node's sweep to reach the same orphan."""

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
        time.sleep(1.0)
        super().clear_stack_lock(settings, stack_name)


def test_two_nodes_sweeping_at_once_interrupt_a_local_orphans_engine_once(
    tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    """PostgreSQL: the sweeps of two nodes on the engine's host find the same orphan at once. Its engine
    gets one SIGINT (a second would make the CLI terminate rather than cancel): the engine is stopped only
    under the operation's row lock, and the second sweep finds the operation no longer running."""
    shared = {"database_url": postgres_server.database(), "jobs_url": redis_server.url()}
    settings = make_settings(tmp_path, embedded_consumer=False, **shared)

    class SlowUnlockRealStops(RealStops):
        def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
            time.sleep(1.0)
            super().clear_stack_lock(settings, stack_name)

    executor = SlowUnlockRealStops()
    one = create_app(settings, executor=executor)
    two = create_app(settings, executor=executor)
    with TestClient(one) as client, TestClient(two):
        opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
        op_id = opened["operation"]["id"]
        engine, mark = start_engine_group(tmp_path, "engine", ends_on_interrupt=True)
        _pretend_running(one, op_id, engine.pid)

        def sweep(app: FastAPI) -> RecoveryReport:
            return recovery.recover(app.state.jobs.ctx, lambda _: None, at_startup=False)

        with ThreadPoolExecutor(2) as pool:
            reports = list(pool.map(sweep, [one, two]))

        assert engine.wait(timeout=10) == 0
        assert mark.read_text() == "SIGINT\n"
        assert sorted(len(r.interrupted) for r in reports) == [0, 1]
        assert executor.stopped == [engine.pid]
        assert executor.cleared == [opened["investigation"]["stack_name"]]
        detail = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
        assert [(op["state"], op["retry_of"]) for op in detail["timeline"]] == [
            ("interrupted", None),
            ("queued", op_id),
        ]


def _zombie(*, new_group: bool = False) -> subprocess.Popen[bytes]:
    """A process that has ended but that nobody reaped yet: what an orphan is until pid 1 reaps it."""
    proc = subprocess.Popen(["true"], start_new_session=new_group)
    deadline = time.monotonic() + 10
    while (found := processes.stat(proc.pid)) is None or found.state != "Z":
        assert time.monotonic() < deadline, "the child never ended"
        time.sleep(0.01)
    return proc


def test_a_runner_that_ended_but_was_not_reaped_is_an_orphan_at_start_up(
    idle_app: FastAPI, idle_client: TestClient, fake: FakeExecutor
) -> None:
    # A killed API process's consumer ends at once, but pid 1 reaps it when it gets to it: the next start's
    # recovery must not take the zombie for a worker still running its operation (its heartbeat is fresh).
    opened = idle_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    _pretend_running(idle_app, op_id, None)
    runner = _zombie()
    try:
        with idle_app.state.session_factory.begin() as session:
            session.execute(
                update(Operation)
                .where(Operation.id == op_id)
                .values(runner_pid=runner.pid, heartbeat_at=datetime.now(UTC))
            )

        report = idle_app.state.jobs.recover()

        assert report.interrupted == [op_id]
        assert idle_client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()["state"] == "interrupted"
    finally:
        runner.wait()


def test_an_ended_process_or_group_is_not_alive_before_it_is_reaped() -> None:
    alone, leader = _zombie(), _zombie(new_group=True)
    running = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert not processes.process_alive(alone.pid)
        assert not processes.group_alive(leader.pid)
        assert processes.process_alive(running.pid) and processes.group_alive(running.pid)
    finally:
        running.kill()
        for proc in (alone, leader, running):
            proc.wait()
    assert not processes.process_alive(running.pid) and not processes.group_alive(running.pid)


def test_a_worker_process_sweeps_at_the_configured_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's own sweep thread recovers every ``recovery_sweep_seconds``, the first time one interval
    after it starts (start-up recovery has just run), each time as a sweep (only live workers' operations
    with a fresh heartbeat are left alone), not as start-up recovery."""
    settings = make_settings(tmp_path, recovery_sweep_seconds=0.05)
    jobs = create_app(settings, executor=FakeExecutor()).state.jobs
    stop = threading.Event()
    swept: list[tuple[float, bool]] = []

    def recover(ctx: object, dispatch: object, *, at_startup: bool = True) -> RecoveryReport:
        assert ctx is jobs.ctx and dispatch == jobs.dispatch
        swept.append((time.monotonic(), at_startup))
        if len(swept) == 3:
            stop.set()
        return RecoveryReport()

    monkeypatch.setattr(recovery, "recover", recover)
    started = time.monotonic()
    sweeper = threading.Thread(target=worker.sweep_forever, args=(jobs, stop))
    sweeper.start()
    sweeper.join(timeout=30)
    assert not sweeper.is_alive() and len(swept) == 3
    assert [at_startup for _, at_startup in swept] == [False, False, False]
    moments = [started, *(at for at, _ in swept)]
    assert all(later - earlier >= 0.05 for earlier, later in itertools.pairwise(moments))


def test_the_recovery_sweep_interval_is_a_setting_with_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings(data_dir=tmp_path).recovery_sweep_seconds == 60.0
    monkeypatch.setenv("FORENSICS_RECOVERY_SWEEP_SECONDS", "5")
    assert Settings(data_dir=tmp_path).recovery_sweep_seconds == 5.0
    for refused in (0, -1, 3601):
        with pytest.raises(ValidationError, match="recovery_sweep_seconds"):
            make_settings(tmp_path, recovery_sweep_seconds=refused)
