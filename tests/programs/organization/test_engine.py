"""The organization program deployed through the real engine by the session's day zero (``local_day_zero``,
tests/conftest.py: `make run`'s bootstrap, the organization's stack last), judged with boto3: the forensics
OU, its four SCPs attached to it with the documents the guidance asks for, and the forensic account moved
under it; the second run, which changes nothing, is tests/bootstrap/test_local_day_zero_engine.py's. The
local AWS stores SCPs but never enforces them (README, fidelity): what they deny is judged on the documents
read back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from programs.forensic_env.config import BREAK_GLASS_ROLE_NAME
from programs.organization import scps
from tests.support.local_day_zero import DAY_ZERO_GROUP, DayZero

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(DAY_ZERO_GROUP)]


def _denied(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sid -> statement, every one a Deny."""
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert all(s["Effect"] == "Deny" for s in statements.values()), document
    return statements


def test_the_forensics_ou_gets_its_scps_and_then_the_forensic_account(local_day_zero: DayZero) -> None:
    org = local_day_zero.aws.client("organizations")
    root = str(org.list_roots()["Roots"][0]["Id"])
    account = local_day_zero.forensic_account_id
    region = local_day_zero.done.operator.aws_region
    # The operator's break-glass role, or the bootstrap's default in the forensic account.
    break_glass = local_day_zero.done.operator.break_glass_role_arn or (
        f"arn:aws:iam::{account}:role/{BREAK_GLASS_ROLE_NAME}"
    )
    (stack,) = [s for s in local_day_zero.done.result.stacks if s.program == "organization"]
    outputs = stack.outputs

    ou = outputs["forensicsOuId"]
    assert org.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]["Name"] == (
        "forensics"
    )
    assert [p["Id"] for p in org.list_parents(ChildId=ou)["Parents"]] == [root]
    # The forensic account was moved under the OU.
    assert [p["Id"] for p in org.list_parents(ChildId=account)["Parents"]] == [ou]

    assert set(outputs["policyIds"]) == set(scps.SCP_NAMES)
    assert outputs["attachedTargets"] == dict.fromkeys(scps.SCP_NAMES, ou)
    attached = {
        p["Id"]
        for p in org.list_policies_for_target(TargetId=ou, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    }
    documents: dict[str, dict[str, Any]] = {}
    for name, policy_id in outputs["policyIds"].items():
        assert policy_id in attached, f"{name} is not attached to the OU"
        targets = org.list_targets_for_policy(PolicyId=policy_id)["Targets"]
        assert [t["TargetId"] for t in targets] == [ou]
        policy = org.describe_policy(PolicyId=policy_id)["Policy"]
        assert policy["PolicySummary"]["Type"] == "SERVICE_CONTROL_POLICY"
        documents[name] = json.loads(policy["Content"])

    (region_lock,) = _denied(documents[scps.REGION_LOCK]).values()
    assert region_lock["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": [region]}
    assert region_lock["Condition"]["StringEquals"] == {"aws:PrincipalAccount": [account]}
    assert {"iam:*", "sts:*", "organizations:*", "route53:*", "cloudfront:*"} <= set(region_lock["NotAction"])
    assert "ec2:*" not in region_lock["NotAction"] and "s3:*" not in region_lock["NotAction"]

    audit = _denied(documents[scps.AUDIT_PROTECTION])
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"} <= set(
        audit["TrailStaysOn"]["Action"]
    )
    assert {"config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder"} <= set(
        audit["ConfigStaysOn"]["Action"]
    )
    assert all("Condition" not in s for s in audit.values()), "nobody may stop the trail or Config"

    lock = _denied(documents[scps.ACCOUNT_LOCK])
    assert lock["NoRootUser"]["Action"] == "*"
    assert lock["NoRootUser"]["Condition"] == {"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}}
    assert lock["NoLeavingTheOrganization"]["Action"] == ["organizations:LeaveOrganization"]

    evidence = _denied(documents[scps.EVIDENCE_PROTECTION])
    assert evidence["ObjectLockOnlyByBreakGlass"]["Action"] == ["s3:PutBucketObjectLockConfiguration"]
    assert evidence["KeyDeletionOnlyByBreakGlass"]["Action"] == ["kms:ScheduleKeyDeletion"]
    for statement in evidence.values():
        assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [break_glass]}}
