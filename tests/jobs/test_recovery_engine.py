"""A crash mid-deployment: the service is killed while the engine works, then started again.

Expected: the operation is marked interrupted, the stack lock is cleared, a retry reaches ready, and moto
holds exactly one clean room for the investigation (no orphans from the interrupted run).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from service import processes
from service.config import Settings
from service.orchestration import stacks
from tests.support.api import ADMIN, open_body
from tests.support.processes import ServiceProcess
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine


@pytest.fixture
def service_settings(engine_settings: Settings) -> Iterator[Settings]:
    seed(engine_settings)
    yield engine_settings


def test_killed_mid_up_is_recovered_and_retried(service_settings: Settings, local_aws: LocalAws) -> None:
    first = ServiceProcess(service_settings).start()
    try:
        opened = httpx.post(
            f"{first.url}/v1/investigations", json=open_body("SEC-950"), headers=ADMIN, timeout=30
        ).json()
        op_id = opened["operation"]["id"]
        inv_id = opened["investigation"]["id"]
        deadline = time.monotonic() + 600
        while True:  # wait until the engine is really creating resources
            op = first.get(f"/v1/operations/{op_id}")
            if op["state"] == "running" and op["progress"]["done"] >= 5:
                break
            assert op["state"] in ("queued", "running"), op
            assert time.monotonic() < deadline, op
            time.sleep(0.2)
        engine_pid = op["pid"]
        first.kill()
    finally:
        first.stop()

    second = ServiceProcess(service_settings).start()
    try:
        interrupted = second.get(f"/v1/operations/{op_id}")
        assert interrupted["state"] == "interrupted", interrupted
        # The orphaned engine was stopped by recovery: none of its group runs (ended processes may wait a
        # moment for pid 1 to reap them, as orphans do).
        assert not processes.group_alive(engine_pid)

        deadline = time.monotonic() + 900
        while True:
            inv = second.get(f"/v1/investigations/{inv_id}")
            if inv["status"] in ("ready", "failed", "needs_attention"):
                break
            assert time.monotonic() < deadline, inv
            time.sleep(1)
        assert inv["status"] == "ready", inv
        ops = inv["timeline"]
        retries = [o for o in ops if o.get("retry_of") == op_id]
        assert retries and retries[0]["state"] == "succeeded", ops

        # exactly one clean room for this investigation in AWS: nothing orphaned by the interrupted run
        investigation = inv["outputs"]["investigationId"]
        ec2 = local_aws.client("ec2")
        tag = [{"Name": "tag:forensics:investigation-id", "Values": [investigation]}]
        assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]] == [inv["outputs"]["vpcId"]]
        running = [
            i["InstanceId"]
            for r in ec2.describe_instances(Filters=tag)["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ]
        assert running == [inv["outputs"]["instanceId"]]
        # Every role in the account for this investigation is one the stack's state knows: an orphan left by
        # the interrupted run (created, never recorded) would be listed here and not there.
        pages = local_aws.client("iam").get_paginator("list_roles").paginate()  # 100 roles a page
        roles = {r["RoleName"] for page in pages for r in page["Roles"] if investigation in r["RoleName"]}
        exported = stacks.export_stack(service_settings, inv["stack_name"])["deployment"]["resources"]
        state_roles = {r["id"] for r in exported if r["type"] == "aws:iam/role:Role"}
        assert roles and roles == state_roles
        keys = [
            k for page in local_aws.client("kms").get_paginator("list_keys").paginate() for k in page["Keys"]
        ]
        tagged_keys = [
            k
            for k in keys
            if any(
                t.get("TagValue") == investigation
                for t in local_aws.client("kms").list_resource_tags(KeyId=k["KeyId"]).get("Tags", [])
            )
        ]
        enabled = [
            k
            for k in tagged_keys
            if local_aws.client("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
        ]
        assert len(enabled) == 1
        assert stacks.stack_exists(service_settings, inv["stack_name"])
    finally:
        second.stop()
