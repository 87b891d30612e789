"""Several nodes at once, as the operations guide deploys them: two API processes and two worker processes
(``python -m service.jobs.worker``, what ``make worker`` runs) on one PostgreSQL database, one Redis queue and
one Pulumi state backend in S3 (a bucket of the local AWS), through the real engine.

Six investigations are opened through both APIs at once; one worker is killed with SIGKILL while an `up` of
its runs; the other worker's sweep finds the orphan, stops its engine, clears the stack's lock in S3 and
retries it. Expected: all six ready, every operation ended exactly once, the local AWS holding exactly the six
clean rooms (no orphans, no duplicates). Two operations never run on one stack at once: the retry's update
began after the interrupted one ended (the stack's own update history in S3), and two refreshes of one
investigation sent through both APIs at once ran one after the other (the operation timeline).

On the suite's enforcing local AWS: the nodes act as the local administrator (the module's
``FORENSICS_AWS_*``, inherited), deploy through the seeded deploy role (checked in each stack's provider),
verify the endpoint with the launcher's CA file, and the Pulumi CLI reaches the S3 state bucket with the
administrator's keys.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from pulumi import automation as auto
from sqlalchemy import create_engine, select

from service.audit.models import AuditEntry
from service.config import Settings
from service.operations.models import Operation
from service.orchestration import stacks
from tests.support import stack_history
from tests.support.api import open_body
from tests.support.processes import ServiceProcess, WorkerProcess
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import grant_service, seed
from tools.local_servers import PostgresServer, RedisServer

pytestmark = pytest.mark.engine

CLEAN_ROOMS = 6
ENDED = ("succeeded", "failed", "cancelled", "timed_out", "interrupted")


@pytest.fixture
def scale_out_settings(
    engine_settings: Settings,
    local_aws: LocalAws,
    postgres_server: PostgresServer,
    redis_server: RedisServer,
) -> Iterator[Settings]:
    settings = engine_settings.model_copy(
        update={
            "database_url": postgres_server.database(),
            "jobs_url": redis_server.url(),
            "pulumi_backend_url": local_aws.state_backend_url(f"forensics-state-{uuid.uuid4().hex[:12]}"),
            "embedded_consumer": False,  # the API nodes only queue; the workers run
            "max_parallel_operations": 3,  # six clean rooms build at once across the two workers
            "integrations_periodic_tasks": False,
            # Every node, and every engine process, verifies the local AWS's certificate with its CA file.
            "aws_verify_tls": True,
            "aws_ca_bundle": local_aws.ca_file,
        }
    )
    seed(settings)
    yield settings


def _wait(what: str, check: Any, timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


class Phases:
    """When each phase of a test ended, in seconds from its start (printed: where a run's time went)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.marks: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        self.marks.append((phase, time.monotonic() - self.start))

    def __str__(self) -> str:
        return "phases: " + ", ".join(f"{phase} {at:.1f} s" for phase, at in self.marks)


def _running_up(db: Any) -> Operation | None:
    """An `up` that is really creating resources (five or more done), with the worker pid running it."""
    with db.connect() as conn:
        row = conn.execute(
            select(Operation).where(Operation.state == "running", Operation.progress_done >= 5)
        ).first()
    return None if row is None else row  # type: ignore[no-any-return]


def test_two_api_and_two_worker_nodes_share_the_work_and_survive_a_dead_worker(
    scale_out_settings: Settings, local_aws: LocalAws
) -> None:
    settings = scale_out_settings
    assert settings.database_url is not None
    db = create_engine(settings.database_url)
    apis = [ServiceProcess(settings), ServiceProcess(settings)]
    workers = [WorkerProcess(settings, "worker-a"), WorkerProcess(settings, "worker-b")]
    nodes = [*apis, *workers]
    phases = Phases()
    try:
        # All four start at once: one of them migrates the empty database, the others wait for it.
        for node in workers:
            node.start()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda api: api.start(), apis))
        phases.mark("nodes started")

        with ThreadPoolExecutor(CLEAN_ROOMS) as pool:
            opened = list(
                pool.map(
                    lambda i: apis[i % 2].post("/v1/investigations", open_body(f"SEC-97{i}")),
                    range(CLEAN_ROOMS),
                )
            )
        assert [r.status_code for r in opened] == [202] * CLEAN_ROOMS, [r.text for r in opened]
        investigation_ids = [r.json()["investigation"]["id"] for r in opened]

        # One worker dies (SIGKILL) in the middle of an `up`.
        victim_op = _wait("an up in progress", lambda: _running_up(db), timeout=900, every=0.2)
        victim = next(w for w in workers if w.pid == victim_op.runner_pid)
        survivor = next(w for w in workers if w is not victim)
        victim.kill()
        killed_at = datetime.now(UTC)
        phases.mark("worker killed mid-up")

        def all_settled() -> list[dict[str, Any]] | None:
            found = [apis[0].get(f"/v1/investigations/{i}") for i in investigation_ids]
            busy = any(inv["status"] not in ("ready", "failed", "needs_attention") for inv in found)
            return None if busy else found

        settled = _wait("six clean rooms", all_settled, timeout=1800, every=2.0)
        phases.mark("six ready")
        assert [inv["status"] for inv in settled] == ["ready"] * CLEAN_ROOMS, [
            (inv["id"], inv["status"], inv.get("attention_reason")) for inv in settled
        ]
        assert survivor.proc is not None and survivor.proc.poll() is None

        # The killed worker's `up` was found by the other one, interrupted once, and retried once.
        interrupted = apis[1].get(f"/v1/operations/{victim_op.id}")
        assert interrupted["state"] == "interrupted", interrupted
        assert "cleared the stack lock" in interrupted["error"]["message"]
        if victim_op.pid is not None:
            with pytest.raises(ProcessLookupError):
                os.killpg(victim_op.pid, 0)  # its orphaned engine was stopped
        with db.connect() as conn:
            operations = conn.execute(select(Operation)).all()
            ends = conn.execute(
                select(AuditEntry.target).where(
                    AuditEntry.action.in_(("operation.end", "operation.interrupted"))
                )
            ).scalars()
            ended = Counter(ends)
        retries = [op for op in operations if op.retry_of == victim_op.id]
        # Where the sweep's time went: from its start (the orphans' end) to its last retry queued.
        orphans = [op for op in operations if op.state == "interrupted"]
        recovered = max(op.created_at for op in operations if op.retry_of) - min(
            op.finished_at for op in orphans
        )
        # And before it, from the kill to the orphans' end: the survivor's sweep interval, then their stop.
        found = min(op.finished_at for op in orphans) - killed_at
        print(f"recovery: ended {len(orphans)} orphans {found.total_seconds():.1f} s after the kill")
        print(f"recovery: {len(orphans)} orphans in {recovered.total_seconds():.1f} s")
        assert len(retries) == 1 and retries[0].state == "succeeded"
        # Every operation ran to one end, recorded once.
        assert {op.state for op in operations} <= {"succeeded", "interrupted"}
        assert ended == Counter({f"operation/{op.id}": 1 for op in operations})
        assert sum(op.state == "succeeded" for op in operations) == CLEAN_ROOMS
        started_by = {op.runner_pid for op in operations}
        assert started_by == {w.pid for w in workers}, "both workers took work"

        _assert_exactly_the_clean_rooms(local_aws, settings, settled)
        phases.mark("AWS side checked")

        # Two refreshes of one investigation through both APIs at once: the second waits for the first.
        target = settled[0]
        with ThreadPoolExecutor(2) as pool:
            raced = list(pool.map(lambda api: api.post(f"/v1/investigations/{target['id']}/refresh"), apis))
        assert [r.status_code for r in raced] == [202, 202], [r.text for r in raced]
        refresh_ids = [r.json()["operation"]["id"] for r in raced]

        def refreshes_done() -> list[dict[str, Any]] | None:
            ops = [apis[0].get(f"/v1/operations/{op_id}") for op_id in refresh_ids]
            return ops if all(op["state"] in ENDED for op in ops) else None

        refreshes = _wait("both refreshes", refreshes_done, timeout=900)
        phases.mark("two refreshes")
        assert [op["state"] for op in refreshes] == ["succeeded", "succeeded"], refreshes
        first, second = sorted(refreshes, key=lambda op: op["started_at"])
        assert second["started_at"] >= first["finished_at"], refreshes

        # The dead worker's `up` and its retry on the same stack, as Pulumi recorded them in the shared state:
        # the retry began after the interrupted update had ended (stopped by recovery, its lock cleared).
        victim_stack = next(inv["stack_name"] for inv in settled if inv["id"] == victim_op.investigation_id)
        history = stack_history.updates(settings, victim_stack)
        updates = sorted((h.start_time, h.end_time, h.result) for h in history if h.kind == "update")
        assert len(updates) == 2 and updates[-1][2] == "succeeded", updates
        assert updates[1][0] >= updates[0][1], f"two updates of one stack overlapped: {updates}"
        phases.mark("stack history checked")
    finally:
        for node in nodes:
            node.stop()
        db.dispose()
        phases.mark("nodes stopped")
        print(phases)


def _assert_exactly_the_clean_rooms(
    local_aws: LocalAws, settings: Settings, settled: list[dict[str, Any]]
) -> None:
    """One VPC, one live instance and exactly the stack's roles per clean room; none for anyone else. Each
    was deployed through the forensic account's deploy role (the provider assumes it), not as the nodes'
    own identity (in the suite, the local administrator)."""
    account = settings.account_for(settings.aws_region)
    assert account is not None and account.deploy_role_arn
    ec2 = local_aws.client("ec2")
    iam = local_aws.client("iam")
    ids = [inv["outputs"]["investigationId"] for inv in settled]
    tag = [{"Name": "tag:forensics:investigation-id", "Values": ids}]
    vpcs = ec2.describe_vpcs(Filters=tag)["Vpcs"]
    assert sorted(v["VpcId"] for v in vpcs) == sorted(inv["outputs"]["vpcId"] for inv in settled)
    instances = [
        i["InstanceId"]
        for r in ec2.describe_instances(Filters=tag)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    assert sorted(instances) == sorted(inv["outputs"]["instanceId"] for inv in settled)
    # Every page: the local AWS is shared by the whole suite, and IAM lists 100 roles a page.
    roles = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    for inv in settled:
        investigation = inv["outputs"]["investigationId"]
        exported = stacks.export_stack(settings, inv["stack_name"])["deployment"]["resources"]
        in_state = {r["id"] for r in exported if r["type"] == "aws:iam/role:Role"}
        providers = [r for r in exported if r["type"] == "pulumi:providers:aws"]
        assert providers and all(account.deploy_role_arn in json.dumps(p["inputs"]) for p in providers)
        assert in_state and {r for r in roles if investigation in r} == in_state


def test_a_dead_engines_stack_lock_in_s3_blocks_updates_until_recovery_clears_it(
    engine_settings: Settings, local_aws: LocalAws
) -> None:
    """The lock a SIGKILLed CLI leaves in the S3 backend (the object Pulumi writes under .pulumi/locks/) stops
    every other node's update of the stack; ``clear_stack_lock`` (what recovery runs) removes it."""
    bucket = f"forensics-state-{uuid.uuid4().hex[:12]}"
    settings = engine_settings.model_copy(update={"pulumi_backend_url": local_aws.state_backend_url(bucket)})
    # The service (the suite's forensics-service user) keeps state in this new bucket: granted as day zero
    # grants it (service_identity's StateObjects/StateBucket), or the CLI is refused its first read.
    grant_service(settings)
    stack_name = "inv-lock-test"
    s3 = local_aws.client("s3")
    lock_key = f".pulumi/locks/organization/forensics/{stack_name}/{uuid.uuid4()}.json"
    left_behind = (
        '{"pid": 4242, "username": "worker", "hostname": "dead-node", "timestamp": "2026-01-01T00:00:00Z"}'
    )
    with stacks.workspace(settings) as workspace:
        workspace.create_stack(stack_name)
        s3.put_object(Bucket=bucket, Key=lock_key, Body=left_behind.encode())

        stack = auto.Stack.select(stack_name, workspace)
        with pytest.raises(auto.errors.CommandError, match="locked"):
            stack.refresh()

        stacks.clear_stack_lock(settings, stack_name)

        listed = s3.list_objects_v2(Bucket=bucket, Prefix=".pulumi/locks/").get("Contents", [])
        assert listed == []
        assert stack.refresh().summary.result == "succeeded"
