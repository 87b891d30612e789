"""The organization program deployed through the real engine (Automation API, a local workspace on
programs/organization) into the local AWS, judged with boto3: the forensics OU, its four SCPs attached to it
with the documents the guidance asks for, and the forensic account moved under it; a second run changes
nothing. The local AWS stores SCPs but never enforces them (README, fidelity): what they deny is judged on
the documents read back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from programs.organization import scps
from service.config import PROJECT_ROOT, Settings
from tests.support.day_zero import program_stack
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

PROGRAM = PROJECT_ROOT / "programs" / "organization"
REGION = "eu-west-1"


def _organization(org: Any) -> str:
    """The management account's organization (made once per local AWS); its root's id."""
    try:
        org.create_organization(FeatureSet="ALL")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "AlreadyInOrganizationException":
            raise
    return str(org.list_roots()["Roots"][0]["Id"])


def _denied(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sid -> statement, every one a Deny."""
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert all(s["Effect"] == "Deny" for s in statements.values()), document
    return statements


def test_the_forensics_ou_gets_its_scps_and_then_the_forensic_account(
    engine_settings: Settings, local_aws: LocalAws
) -> None:
    org = local_aws.client("organizations")
    root = _organization(org)
    status = org.create_account(AccountName="forensics-eu-west-1", Email="forensics-euw1@example.com")
    account = status["CreateAccountStatus"]["AccountId"]
    break_glass = f"arn:aws:iam::{account}:role/forensics-break-glass"
    config = {
        "forensicAccountIds": [account],
        "parentId": "",
        "breakGlassRoleArn": break_glass,
        "allowedRegions": {account: REGION},
    }
    with program_stack(
        engine_settings, PROGRAM, "programs.organization.program:organization", "organization", config
    ) as stack:
        outputs = stack.up()

        ou = outputs["forensicsOuId"]
        assert org.describe_organizational_unit(OrganizationalUnitId=ou)["OrganizationalUnit"]["Name"] == (
            "forensics"
        )
        assert [p["Id"] for p in org.list_parents(ChildId=ou)["Parents"]] == [root]
        # The account was moved under the OU (it was under the root).
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
        assert region_lock["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": [REGION]}
        assert region_lock["Condition"]["StringEquals"] == {"aws:PrincipalAccount": [account]}
        assert {"iam:*", "sts:*", "organizations:*", "route53:*", "cloudfront:*"} <= set(
            region_lock["NotAction"]
        )
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
        assert lock["NoRootUser"]["Condition"] == {
            "StringLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]}
        }
        assert lock["NoLeavingTheOrganization"]["Action"] == ["organizations:LeaveOrganization"]

        evidence = _denied(documents[scps.EVIDENCE_PROTECTION])
        assert evidence["ObjectLockOnlyByBreakGlass"]["Action"] == ["s3:PutBucketObjectLockConfiguration"]
        assert evidence["KeyDeletionOnlyByBreakGlass"]["Action"] == ["kms:ScheduleKeyDeletion"]
        for statement in evidence.values():
            assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [break_glass]}}

        # Re-running changes nothing: the account stays adopted, nothing is created again.
        changes = stack.preview()
        assert set(changes) <= {"same"}, changes
