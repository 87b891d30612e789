"""Stopping a real engine in the middle of an `up` (what cancel does, and what recovery does to an orphaned
engine) leaves nothing behind that the state does not know: the CLI cancels cleanly, resources being created
are answered and recorded, and every VPC and instance AWS holds for the clean room is in the stack's state."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.orchestration import stacks
from tests.support.api import ADMIN, open_body, wait_operation
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine


def _halfway(client: TestClient, operation_id: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        op = client.get(f"/v1/operations/{operation_id}", headers=ADMIN).json()
        if op["progress"]["done"] >= 10 or (op["state"] != "running" and op["state"] != "queued"):
            return dict(op)
        assert time.monotonic() < deadline, "the up never got going"
        time.sleep(0.05)


def test_cancelling_a_running_up_leaves_no_resource_unknown_to_the_state(
    engine_client: TestClient, engine_settings: Settings, local_aws: LocalAws
) -> None:
    opened = engine_client.post("/v1/investigations", json=open_body("SEC-990"), headers=ADMIN)
    assert opened.status_code == 202, opened.text
    inv_id = opened.json()["investigation"]["id"]
    op_id = opened.json()["operation"]["id"]
    assert _halfway(engine_client, op_id)["state"] == "running"

    cancelled = engine_client.post(f"/v1/operations/{op_id}/cancel", headers=ADMIN)
    assert cancelled.status_code in (200, 202), cancelled.text
    ended = wait_operation(engine_client, op_id, timeout=900)
    assert ended["state"] == "cancelled", ended

    inv = engine_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    deployment = stacks.export_stack(engine_settings, inv["stack_name"])["deployment"]
    assert not deployment.get("pending_operations"), deployment.get("pending_operations")
    in_state: dict[str, set[str]] = {}
    for resource in deployment["resources"]:
        if resource.get("id"):
            in_state.setdefault(resource["type"], set()).add(resource["id"])
    assert in_state.get("aws:ec2/vpc:Vpc"), "the cancel came after the VPC was made"
    ec2 = local_aws.client("ec2")
    tag = [{"Name": "tag:forensics:investigation-id", "Values": [inv_id]}]
    vpcs = {v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]}
    instances = {
        i["InstanceId"]
        for r in ec2.describe_instances(Filters=tag)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    }
    assert vpcs == in_state.get("aws:ec2/vpc:Vpc", set())
    assert instances == in_state.get("aws:ec2/instance:Instance", set())
