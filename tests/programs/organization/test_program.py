"""The organization program under Pulumi's mocks: the OU under the root (or the given parent), four SCPs
each attached to it, every forensic account adopted (imported, never created) and moved in only after every
attachment, kept on delete; the SCP documents deny what the guidance lists; bad config refused up front."""

from __future__ import annotations

import json
from typing import Any

import pytest

from programs.organization import scps
from programs.organization.config import NAMESPACE, ConfigError, validate_config
from programs.organization.program import OUTPUT_NAMES, organization
from tests.programs.day_zero_harness import ROOT_ID, DayZeroRun, run_day_zero

OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ACCOUNT = "aws:organizations/account:Account"

EU, US = "111122223333", "444455556666"
CONFIG: dict[str, Any] = {
    "forensicAccountIds": [EU, US],
    "parentId": "",
    "breakGlassRoleArn": f"arn:aws:iam::{EU}:role/forensics-break-glass",
    "allowedRegions": {EU: "eu-west-1", US: "us-east-1"},
}
MEMBERS = {EU: "forensics-eu", US: "forensics-us", "777788889999": "workloads"}


def _run(**change: Any) -> DayZeroRun:
    return run_day_zero(organization, NAMESPACE, {**CONFIG, **change}, MEMBERS)


def _document(run: DayZeroRun, name: str) -> dict[str, Any]:
    return dict(json.loads(run.one(POLICY, name).inputs["content"]))


def test_the_ou_its_attached_scps_and_the_adopted_accounts() -> None:
    run = _run()
    ou = run.one(OU)
    assert ou.inputs["parentId"] == ROOT_ID and ou.inputs["name"] == "forensics"
    policies = run.of_type(POLICY)
    assert sorted(p.inputs["name"] for p in policies) == sorted(scps.SCP_NAMES)
    assert all(p.inputs["type"] == "SERVICE_CONTROL_POLICY" for p in policies)
    attachments = run.of_type(ATTACHMENT)
    assert len(attachments) == len(scps.SCP_NAMES)
    assert {a.inputs["targetId"] for a in attachments} == {"ou-ab12-forensic"}
    # One attachment per policy, each naming its policy's id.
    assert len({a.inputs["policyId"] for a in attachments}) == len(policies)
    accounts = run.of_type(ACCOUNT)
    assert sorted(a.import_id for a in accounts) == [EU, US]
    attachment_names = {a.name for a in attachments}
    for account in accounts:
        assert account.inputs["parentId"] == "ou-ab12-forensic"
        assert account.retain_on_delete, "dropping an account from the config must never remove or close it"
        assert {"name", "email"} <= set(account.ignore_changes)
        assert account.inputs["name"] == MEMBERS[account.import_id]
        # Moved only after every SCP is attached (the guidance's order: guardrails before the move).
        assert {d.split("::")[-1] for d in account.dependencies} >= attachment_names
    assert set(run.outputs) == set(OUTPUT_NAMES)
    assert run.outputs["forensicsOuId"] == "ou-ab12-forensic"
    assert set(run.outputs["policyIds"]) == set(scps.SCP_NAMES)
    assert run.outputs["attachedTargets"] == dict.fromkeys(scps.SCP_NAMES, "ou-ab12-forensic")


def test_a_given_parent_is_used_instead_of_the_root() -> None:
    run = _run(parentId="ou-ab12-security1")
    assert run.one(OU).inputs["parentId"] == "ou-ab12-security1"


def test_each_account_keeps_to_its_own_region_global_services_exempted() -> None:
    document = _document(_run(), scps.REGION_LOCK)
    by_region = {
        s["Condition"]["StringNotEquals"]["aws:RequestedRegion"][0]: s for s in document["Statement"]
    }
    assert by_region["eu-west-1"]["Condition"]["StringEquals"] == {"aws:PrincipalAccount": [EU]}
    assert by_region["us-east-1"]["Condition"]["StringEquals"] == {"aws:PrincipalAccount": [US]}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Deny" and statement["Resource"] == "*"
        assert {"iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*", "support:*"} <= set(
            statement["NotAction"]
        )
        assert not {"ec2:*", "s3:*", "ebs:*", "ssm:*", "cloudtrail:*"} & set(statement["NotAction"])


def test_trail_config_root_leaving_object_lock_and_key_deletion_are_denied() -> None:
    run = _run()
    audit = {s["Sid"]: s for s in _document(run, scps.AUDIT_PROTECTION)["Statement"]}
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail"} <= set(
        audit["TrailStaysOn"]["Action"]
    )
    assert {"config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder"} <= set(
        audit["ConfigStaysOn"]["Action"]
    )
    lock = {s["Sid"]: s for s in _document(run, scps.ACCOUNT_LOCK)["Statement"]}
    assert lock["NoRootUser"]["Action"] == "*"
    assert lock["NoLeavingTheOrganization"]["Action"] == ["organizations:LeaveOrganization"]
    evidence = {s["Sid"]: s for s in _document(run, scps.EVIDENCE_PROTECTION)["Statement"]}
    assert evidence["ObjectLockOnlyByBreakGlass"]["Action"] == ["s3:PutBucketObjectLockConfiguration"]
    assert evidence["KeyDeletionOnlyByBreakGlass"]["Action"] == ["kms:ScheduleKeyDeletion"]
    # The break-glass role of every forensic account (an SCP judges the principal where it acts).
    expected = sorted(f"arn:aws:iam::{a}:role/forensics-break-glass" for a in (EU, US))
    for statement in evidence.values():
        assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": expected}}
    for name in scps.SCP_NAMES:
        content = run.one(POLICY, name).inputs["content"]
        assert len(content) <= scps.SCP_MAX_CHARS
        assert all(s["Effect"] == "Deny" for s in json.loads(content)["Statement"])


def test_an_account_outside_the_organization_fails_the_program() -> None:
    with pytest.raises(Exception, match="not members of the organization: 123412341234"):
        _run(
            forensicAccountIds=[EU, "123412341234"],
            allowedRegions={EU: "eu-west-1", "123412341234": "eu-west-1"},
        )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"forensicAccountIds": []}, "forensicAccountIds"),
        ({"forensicAccountIds": ["12"]}, "forensicAccountIds"),
        ({"forensicAccountIds": [EU, EU]}, "forensicAccountIds"),
        ({"parentId": "root"}, "parentId"),
        ({"breakGlassRoleArn": f"arn:aws:iam::{EU}:root"}, "breakGlassRoleArn"),
        ({"allowedRegions": {EU: "eu-west-1"}}, "allowedRegions"),
        ({"allowedRegions": {EU: "mars", US: "us-east-1"}}, "allowedRegions"),
        (
            {"allowedRegions": {EU: "eu-west-1", US: "us-east-1", "777788889999": "us-east-1"}},
            "allowedRegions",
        ),
        ({"ouName": "x"}, "ouName"),
    ],
)
def test_bad_config_is_refused_naming_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config({**CONFIG, **change})
    assert refused.value.key == f"{NAMESPACE}:{key}"
