"""Legal holds on a frozen clean room, on the real engine and policy pack, in a local AWS that enforces IAM
and bucket policies.

The attacks: a custodian lifts a hold alone through their own AWS role (PutObjectLegalHold OFF); a
break-glass officer releases with ``remove_legal_holds`` or destroys without the evidence bucket. Each is
refused (AccessDenied from AWS, 403 from the service) and boto3 shows every object still there and still
held. The honest path still works: a release with ``remove_legal_holds`` that a second person approved lifts
the holds (through the deployment, once the release has thawed the bucket).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from service import aws_clients
from service.main import create_app
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.persons import grant, local_people, with_people
from tests.support.settings import make_engine_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

ALICE = "alice"
BOB = "bob"
OFFICER = "officer"


def _holds(s3: Any, bucket: str) -> dict[tuple[str, str], str]:
    """(key, version) -> legal hold status, for every object version in the bucket."""
    found: dict[tuple[str, str], str] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            hold = s3.get_object_legal_hold(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            found[(v["Key"], v["VersionId"])] = hold["LegalHold"]["Status"]
    return found


def test_legal_holds_on_a_frozen_room_are_lifted_only_with_a_second_person(
    tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws
) -> None:
    aws = enforcing_aws
    settings = make_engine_settings(
        tmp_path, aws, pulumi_cli, as_administrator=True, integrations_periodic_tasks=False
    )
    # Alice's own AWS role, which her just-in-time grants name.
    alice_person = local_people(aws, ALICE)[ALICE]
    settings = with_people(settings, alice_person)
    seed(settings)
    with TestClient(create_app(settings, clock=TestClock())) as client:
        inv = open_ready(client, "SEC-960", timeout=900)
        # Her AWS role becomes the custodian's through a just-in-time grant (standing access needs MFA, which
        # never exists locally); a freeze keeps the custodian's grants.
        alice = issue(client, "data_custodian", ALICE)
        grant(client, inv["id"], "custodian", alice, ADMIN, hours=4, reason="custody of the frozen evidence")
        frozen = client.post(
            f"/v1/investigations/{inv['id']}/freeze", json={"reason": "litigation hold"}, headers=ADMIN
        )
        assert frozen.status_code == 202, frozen.text
        assert wait_operation(client, frozen.json()["operation"]["id"], timeout=900)["state"] == "succeeded"
        detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
        bucket, custodian_role = detail["outputs"]["evidenceBucket"], detail["outputs"]["custodianRoleArn"]
        # The service's own view (the deploy role, which the bucket policy lets read the holds).
        service_s3 = aws_clients.client(settings, "s3", detail["region"], role_arn=detail["assume_role_arn"])
        held = _holds(service_s3, bucket)
        assert held and set(held.values()) == {"ON"}, held

        # Break-glass cannot lift the holds nor delete the evidence, and a custodian cannot break glass.
        officer = issue(client, "break_glass_officer", OFFICER)
        url = f"/v1/investigations/{inv['id']}/break-glass"
        why = "counsel unreachable, the holds must go now, nobody else answers"
        lift = {"action": "release", "params": {"reason": "retention over", "remove_legal_holds": True}}
        delete = {"action": "destroy", "params": {"reason": "disk full", "retain_evidence_bucket": False}}
        for body, headers in ((lift, officer), (delete, officer), (lift, alice)):
            refused = client.post(url, json={**body, "reason": why}, headers=headers)
            assert refused.status_code == 403, refused.text
        assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "frozen"

        # The custodian's own AWS role: AccessDenied, and the hold is still on.
        as_custodian = alice_person.client(custodian_role, inv["id"], "s3")
        (key, version), _status = next(iter(held.items()))
        # Her role reads the hold (custody), but cannot lift it.
        status = as_custodian.get_object_legal_hold(Bucket=bucket, Key=key, VersionId=version)
        assert status["LegalHold"]["Status"] == "ON"
        with pytest.raises(ClientError) as denied:
            as_custodian.put_object_legal_hold(
                Bucket=bucket, Key=key, VersionId=version, LegalHold={"Status": "OFF"}
            )
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert _holds(service_s3, bucket) == held  # every object still there, every hold still on

        # The honest path: asked by Alice, approved by Bob, carried out by the deployment.
        asked = client.post(
            f"/v1/investigations/{inv['id']}/release",
            json={"reason": "retention period over", "remove_legal_holds": True},
            headers=alice,
        )
        assert asked.status_code == 202 and "approval" in asked.json(), asked.text
        approved = client.post(
            f"/v1/approvals/{asked.json()['approval']['id']}/approve",
            headers=issue(client, "data_custodian", BOB),
        )
        assert approved.status_code == 200, approved.text
        op = wait_operation(client, approved.json()["operation"]["id"], timeout=900)
        assert op["state"] == "succeeded", op
        lifted = _holds(service_s3, bucket)
        assert set(held) <= set(lifted) and {lifted[k] for k in held} == {"OFF"}
