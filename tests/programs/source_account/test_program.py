"""The source-account program under Pulumi's mocks: exactly one role with permissions.py's documents, its
config refused up front when wrong, and the outputs the bootstrap reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy_packs.forensics.rules.action_catalogue import resource_less
from programs.source_account import response
from programs.source_account.config import NAMESPACE, ConfigError, validate_config
from programs.source_account.permissions import (
    ACQUISITION_ACTIONS,
    CONTAINMENT_ACTIONS,
    EVIDENCE_POLICY_NAME,
    EVIDENCE_ROLE_NAME,
    KEY_INVESTIGATION_TAG,
    PASS_ROLE_ACTIONS,
    evidence_policy,
    evidence_trust,
)
from programs.source_account.program import OUTPUT_NAMES, source_account
from programs.source_account.rollout import stack_name
from service.config import Settings
from service.containment import state as containment_state
from service.custody import memory_capture
from tests.policy.harness import Res, run_everything
from tests.programs.day_zero_harness import run_day_zero

SERVICE = "arn:aws:iam::999988887777:role/forensics-service"
CONFIG: dict[str, Any] = {
    "accountId": "210987654321",
    "servicePrincipalArns": [SERVICE],
    "externalId": "ext-0123456789abcdef",
    "forensicAccountIds": ["111122223333"],
}


def test_one_role_with_the_documents_of_permissions_py() -> None:
    run = run_day_zero(source_account, NAMESPACE, CONFIG)
    assert sorted(r.type for r in run.resources if r.type.startswith("aws:")) == [
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/role:Role",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:ssm/document:Document",
    ]
    role = run.one("aws:iam/role:Role", "evidence-role")
    assert role.inputs["name"] == EVIDENCE_ROLE_NAME
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust == evidence_trust([SERVICE], CONFIG["externalId"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"AWS": [SERVICE]}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": CONFIG["externalId"]}}
    assert "managedPolicyArns" not in role.inputs
    policy = run.one("aws:iam/rolePolicy:RolePolicy", "evidence-policy")
    assert policy.inputs["name"] == EVIDENCE_POLICY_NAME
    assert json.loads(policy.inputs["policy"]) == evidence_policy(
        CONFIG["accountId"], CONFIG["forensicAccountIds"]
    )
    assert run.outputs == {
        "accountId": CONFIG["accountId"],
        "evidenceRoleArn": f"arn:aws:iam::999988887777:role/{EVIDENCE_ROLE_NAME}",
        "externalId": CONFIG["externalId"],
    }
    assert set(run.outputs) == set(OUTPUT_NAMES)


SOURCE = CONFIG["accountId"]
FORENSIC = "111122223333"
EC2 = f"arn:aws:ec2:*:{SOURCE}"
SNAPSHOTS = "arn:aws:ec2:*::snapshot/*"
KEYS = [f"arn:aws:kms:*:{SOURCE}:key/*"]
# What the role may touch, statement by statement: every resource in the source account, or named as AWS
# names it without an account (snapshots, S3 objects); "*" only for calls AWS authorizes on no resource.
EXPECTED_RESOURCES: dict[str, list[str]] = {
    "DescribeWhatNeedsNoResource": ["*"],
    "SnapshotTheAccountsVolumes": [f"{EC2}:volume/*", SNAPSHOTS],
    "CopyItsSnapshots": [SNAPSHOTS],
    "TagOnlyWhatItCreates": [SNAPSHOTS, f"{EC2}:security-group/*", f"{EC2}:network-acl/*"],
    "ShareOnlyWithForensicAccounts": [SNAPSHOTS],
    "ReadBlocksToHash": [SNAPSHOTS],
    "RunOnlyTheMemoryDocument": [
        f"arn:aws:ssm:*:{SOURCE}:document/{response.MEMORY_DOCUMENT_NAME}",
        f"{EC2}:instance/*",
    ],
    "ReadTheInstancesLogs": [
        f"arn:aws:iam::{SOURCE}:instance-profile/*",
        f"arn:aws:logs:*:{SOURCE}:log-group:*",
        f"arn:aws:config:*:{SOURCE}:configuration-recorder/*",
        f"arn:aws:guardduty:*:{SOURCE}:detector/*",
        f"arn:aws:securityhub:*:{SOURCE}:hub/default",
        f"arn:aws:securityhub:*:{SOURCE}:hubv2/*",
    ],
    "ReadOnlyTheAccountsFlowLogFiles": [f"arn:aws:s3:::*/AWSLogs/{SOURCE}/vpcflowlogs/*"],
    "ListOnlyTheAccountsFlowLogFiles": ["arn:aws:s3:::*"],
    "ProtectAndRestoreInstances": [f"{EC2}:instance/*"],
    "TagInstancesOnlyWithContainmentsTags": [f"{EC2}:instance/*"],
    "IsolateTheNetwork": [
        f"{EC2}:network-interface/*",
        f"{EC2}:security-group/*",
        f"{EC2}:network-acl/*",
        f"{EC2}:subnet/*",
        f"{EC2}:vpc/*",
    ],
    "TakeOutOfService": [f"arn:aws:autoscaling:*:{SOURCE}:autoScalingGroup:*:autoScalingGroupName/*"],
    "LeaveAndRejoinTargetGroups": [f"arn:aws:elasticloadbalancing:*:{SOURCE}:targetgroup/*/*"],
    "LeaveAndRejoinClassicLoadBalancers": [f"arn:aws:elasticloadbalancing:*:{SOURCE}:loadbalancer/*"],
    "CheckTheDenyAllRole": [f"arn:aws:iam::{SOURCE}:role/{response.DENY_ALL_PROFILE}"],
    "PassProfilesOnlyToEc2": [f"arn:aws:iam::{SOURCE}:role/*"],
    "KnowTheAccountsKeys": KEYS,
    "MakeKeysTaggedWithTheInvestigation": ["*"],
    "TagKeysOnlyWithTheInvestigation": KEYS,
    "GrantKeysOnlyToForensicAccounts": KEYS,
    "UseKeysOnlyThroughEc2": KEYS,
}
INVESTIGATION_TAG = {"Null": {f"aws:RequestTag/{KEY_INVESTIGATION_TAG}": "false"}}
EXPECTED_CONDITIONS: dict[str, dict[str, Any]] = {
    "TagOnlyWhatItCreates": {
        "StringEquals": {
            "ec2:CreateAction": ["CreateSnapshot", "CopySnapshot", "CreateSecurityGroup", "CreateNetworkAcl"]
        }
    },
    "ShareOnlyWithForensicAccounts": {"StringEquals": {"ec2:Add/userId": [FORENSIC]}},
    "ListOnlyTheAccountsFlowLogFiles": {"StringLike": {"s3:prefix": f"*AWSLogs/{SOURCE}/vpcflowlogs/*"}},
    "TagInstancesOnlyWithContainmentsTags": {
        "ForAllValues:StringEquals": {"aws:TagKeys": list(containment_state.CONTAINMENT_TAGS)}
    },
    "PassProfilesOnlyToEc2": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
    "MakeKeysTaggedWithTheInvestigation": INVESTIGATION_TAG,
    "TagKeysOnlyWithTheInvestigation": {
        **INVESTIGATION_TAG,
        "ForAllValues:StringEquals": {"aws:TagKeys": [KEY_INVESTIGATION_TAG]},
    },
    "GrantKeysOnlyToForensicAccounts": {
        "StringEquals": {"kms:GranteePrincipal": [f"arn:aws:iam::{FORENSIC}:root"]}
    },
    "UseKeysOnlyThroughEc2": {"StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"}},
}


def test_every_statement_names_exactly_its_resources_and_conditions() -> None:
    document = evidence_policy(SOURCE, [FORENSIC])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert len(by_sid) == len(document["Statement"])
    assert {sid: s["Resource"] for sid, s in by_sid.items()} == EXPECTED_RESOURCES
    assert {sid: s["Condition"] for sid, s in by_sid.items() if "Condition" in s} == EXPECTED_CONDITIONS


def test_resource_star_only_for_calls_aws_authorizes_on_no_resource() -> None:
    """The Service Authorization Reference (the pack's catalogue): a statement on "*" holds only actions with
    no resource type; every other action is scoped to ARNs of the source account (or account-less ones)."""
    for statement in evidence_policy(SOURCE, [FORENSIC])["Statement"]:
        if statement["Resource"] == ["*"]:
            assert all(resource_less(a) for a in statement["Action"]), statement["Sid"]
            continue
        for action in statement["Action"]:
            assert not resource_less(action), (statement["Sid"], action)
        for arn in statement["Resource"]:
            account = arn.split(":")[4]
            assert account in (SOURCE, ""), arn
            assert arn.split(":")[2] in ("s3", "ec2") or account == SOURCE, arn


def test_the_policy_allows_acquisition_and_nothing_that_changes_or_deletes() -> None:
    document = evidence_policy(SOURCE, [FORENSIC])
    allowed = [a for s in document["Statement"] for a in s["Action"]]
    assert set(ACQUISITION_ACTIONS) == set(allowed)
    assert len(ACQUISITION_ACTIONS) == len(set(ACQUISITION_ACTIONS))
    assert all(s["Effect"] == "Allow" and "NotAction" not in s for s in document["Statement"])
    assert all("NotResource" not in s for s in document["Statement"])
    # Containment changes the instance on purpose (and release undoes it); it never stops, terminates or
    # deletes one, nor its volumes or snapshots, and only its own tags and ACL entries are deleted.
    changes_on_purpose = set(CONTAINMENT_ACTIONS) | set(PASS_ROLE_ACTIONS)
    for action in allowed:
        assert "*" not in action.split(":")[1] or action == "kms:ReEncrypt*", action
        verb = action.split(":")[1]
        assert not verb.startswith(("Terminate", "Stop")), action
        if action in changes_on_purpose:
            assert not verb.startswith("Delete") or verb in ("DeleteTags", "DeleteNetworkAclEntry"), action
        else:
            assert not verb.startswith(("Delete", "Put", "Attach", "Detach")), action


def test_the_policy_refuses_what_it_cannot_scope() -> None:
    with pytest.raises(ValueError, match="12-digit"):
        evidence_policy("*", [FORENSIC])
    with pytest.raises(ValueError, match="forensic account"):
        evidence_policy(SOURCE, [])


def test_the_policy_passes_the_forensics_pack() -> None:
    """The whole pack judges the role's document as it judges every stack's (the bootstrap runs it)."""
    run = run_day_zero(source_account, NAMESPACE, CONFIG)
    policy = run.one("aws:iam/rolePolicy:RolePolicy", "evidence-policy")
    found = run_everything([Res(policy.type, policy.name, dict(policy.inputs))])
    assert {name: [v.message for v in found] for name, found in found.items() if found} == {}


def test_the_seed_uses_the_same_document() -> None:
    import inspect

    from tools.local_aws import seed

    source = inspect.getsource(seed)
    assert "evidence_policy(" in source and "SNAPSHOT_ROLE_ACTIONS" not in source


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"accountId": "12345"}, "accountId"),
        ({"servicePrincipalArns": []}, "servicePrincipalArns"),
        ({"servicePrincipalArns": ["arn:aws:iam::999988887777:root"]}, "servicePrincipalArns"),
        ({"servicePrincipalArns": ["*"]}, "servicePrincipalArns"),
        ({"externalId": "short"}, "externalId"),
        ({"externalId": "has spaces in it, sixteen+"}, "externalId"),
        ({"forensicAccountIds": []}, "forensicAccountIds"),
        ({"forensicAccountIds": ["210987654321"]}, "forensicAccountIds"),
        ({"roleName": "admin"}, "roleName"),
    ],
)
def test_bad_config_is_refused_naming_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config({**CONFIG, **change})
    assert refused.value.key == f"{NAMESPACE}:{key}"


def test_config_arrives_as_the_engine_gives_it() -> None:
    flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in CONFIG.items()}
    cfg = validate_config({f"{NAMESPACE}:{k}": v for k, v in flat.items()})
    assert cfg.service_principal_arns == (SERVICE,)
    assert stack_name(cfg.account_id) == "source-210987654321"


def test_the_response_baseline_is_a_deny_all_profile_and_the_memory_document() -> None:
    """What the evidence role only reads or runs, made by the account's baseline (never by the role)."""
    run = run_day_zero(source_account, NAMESPACE, CONFIG)
    role = run.one("aws:iam/role:Role", "response-deny-all-role")
    assert role.inputs["name"] == response.DENY_ALL_PROFILE
    assert json.loads(role.inputs["assumeRolePolicy"]) == response.EC2_TRUST
    policy = run.one("aws:iam/rolePolicy:RolePolicy", "response-deny-all-policy")
    assert json.loads(policy.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
    profile = run.one("aws:iam/instanceProfile:InstanceProfile")
    assert (profile.inputs["name"], profile.inputs["role"]) == (
        response.DENY_ALL_PROFILE,
        response.DENY_ALL_PROFILE,
    )
    document = run.one("aws:ssm/document:Document")
    assert document.inputs["name"] == response.MEMORY_DOCUMENT_NAME == Settings().memory_document_name
    assert (document.inputs["documentType"], document.inputs["documentFormat"]) == ("Command", "JSON")
    # The one file the service runs and the local SSM agent compares with.
    assert document.inputs["content"] == memory_capture.document_content()
    assert json.loads(document.inputs["content"])["schemaVersion"]
