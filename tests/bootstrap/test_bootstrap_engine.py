"""`forensics bootstrap` on the real engine into a local AWS of its own (nothing seeded): the forensic
account's baseline is built by programs/forensic_account, checked with boto3, and a second run changes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from programs.organization import scps
from programs.source_account import permissions
from service.bootstrap.programs import BootstrapOptions
from service.bootstrap.run import bootstrap
from service.config import LOCAL_SOURCE_ACCOUNT, Settings, SourceAccount
from tests.support.iam_audit import documents, in_account
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

SERVICE = "arn:aws:iam::123456789012:role/forensics-service"
SOURCE_EXTERNAL_ID = "bootstrap-engine-external-id"


@pytest.fixture(scope="module")
def empty_aws() -> Iterator[LocalAws]:
    """A local AWS nothing else has touched: day zero starts from an empty account."""
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def settings(tmp_path: Path, empty_aws: LocalAws, pulumi_cli: Path) -> Settings:
    return make_settings(
        tmp_path,
        aws=empty_aws,
        pulumi_cli=pulumi_cli,
        # A named role, as in production: the pack refuses a deploy role that trusts an account root.
        service_principal_arns=[SERVICE],
        # The source account evidence comes from, with the external id its trust will require.
        source_accounts={
            LOCAL_SOURCE_ACCOUNT: SourceAccount(
                snapshot_role_arn=f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/forensics-evidence-reader",
                external_id=SOURCE_EXTERNAL_ID,
            )
        },
    )


def test_bootstrap_builds_the_baseline_and_a_second_run_changes_nothing(
    settings: Settings, empty_aws: LocalAws
) -> None:
    # What the world has before day zero: the organization (locally, the service's account manages it).
    organizations = empty_aws.client("organizations")
    organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = organizations.list_roots()["Roots"][0]["Id"]
    options = BootstrapOptions(golden_image_pipeline=False, organization_id=organization_id)
    first = bootstrap(settings, options)
    account = settings.aws_account_id
    # The guidance's order: every account's baseline, then the organization's guardrails.
    assert [s.stack_name for s in first.stacks] == [
        f"account-{account}-{settings.aws_region}",
        f"source-{LOCAL_SOURCE_ACCOUNT}",
        "organization",
    ]
    assert first.changed and first.stacks[0].changes.get("create", 0) > 20

    iam = empty_aws.client("iam")
    role = iam.get_role(RoleName="forensics-deploy")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": [SERVICE]}
    deploy = iam.get_role_policy(RoleName="forensics-deploy", PolicyName="forensics-deploy")["PolicyDocument"]
    deploy = json.loads(deploy) if isinstance(deploy, str) else deploy
    bounded = next(s for s in deploy["Statement"] if s.get("Sid") == "RoleCreateBounded")
    boundary_arn = f"arn:aws:iam::{account}:policy/forensics-cleanroom-boundary"
    assert bounded["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": boundary_arn}}
    assert iam.get_policy(PolicyArn=boundary_arn)["Policy"]["PolicyName"] == "forensics-cleanroom-boundary"
    # No administrator anywhere in the account the bootstrap built.
    for _owner, where, document in documents(iam):
        text = document if isinstance(document, str) else json.dumps(document)
        assert "AdministratorAccess" not in text and '"*:*"' not in text, where
        if not isinstance(document, str):
            for statement in document["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert statement["Effect"] == "Deny" or "*" not in actions, where

    cloudtrail = empty_aws.client("cloudtrail")
    trail = cloudtrail.describe_trails(trailNameList=["forensics-audit"])["trailList"][0]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert cloudtrail.get_trail_status(Name="forensics-audit")["IsLogging"]
    config = empty_aws.client("config")
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
    events = empty_aws.client("events")
    rule = events.describe_rule(Name="forensics-login")
    targets = events.list_targets_by_rule(Rule="forensics-login")["Targets"]
    assert [t["Arn"] for t in targets] == [first.stacks[0].outputs["alertTopicArn"]]
    assert "StartSession" in rule["EventPattern"]
    key = empty_aws.client("kms").describe_key(KeyId="alias/forensics-signing")["KeyMetadata"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    lock = empty_aws.client("s3").get_object_lock_configuration(Bucket=settings.anchor_bucket)
    retention = lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 3650)

    accounts = json.loads(first.settings["FORENSICS_FORENSIC_ACCOUNTS"])
    assert accounts[settings.aws_region]["deploy_role_arn"] == role["Arn"]
    # The alert topic really delivers to the queue the settings name (SNS's envelope, raw delivery off).
    queue_url = accounts[settings.aws_region]["alert_queue_url"]
    assert queue_url == first.stacks[0].outputs["alertQueueUrl"]
    sqs = empty_aws.client("sqs")
    sse = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert sse["SqsManagedSseEnabled"] == "true" and "aws:SecureTransport" in sse["Policy"]
    empty_aws.client("sns").publish(TopicArn=first.stacks[0].outputs["alertTopicArn"], Message='{"id": "x"}')
    [delivered] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(delivered["Body"])["Message"] == '{"id": "x"}'
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=delivered["ReceiptHandle"])
    assert first.settings["FORENSICS_AUDIT_ANCHOR_BUCKET"] == settings.anchor_bucket

    # The source account's evidence role, built in that account through the member-account role: trusted by
    # the service only with the external id, holding exactly the one document of permissions.py.
    source_iam = in_account(empty_aws, LOCAL_SOURCE_ACCOUNT, "iam")
    evidence = source_iam.get_role(RoleName="forensics-evidence-reader")["Role"]
    assert evidence["Arn"] == f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/forensics-evidence-reader"
    evidence_trust = evidence["AssumeRolePolicyDocument"]
    evidence_trust = json.loads(evidence_trust) if isinstance(evidence_trust, str) else evidence_trust
    assert evidence_trust == permissions.evidence_trust([SERVICE], SOURCE_EXTERNAL_ID)
    document = source_iam.get_role_policy(
        RoleName="forensics-evidence-reader", PolicyName=permissions.EVIDENCE_POLICY_NAME
    )["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == permissions.evidence_policy(LOCAL_SOURCE_ACCOUNT, [account])
    # ... and nothing of it in the forensic account.
    assert "forensics-evidence-reader" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    sources = json.loads(first.settings["FORENSICS_SOURCE_ACCOUNTS"])
    assert sources == {
        LOCAL_SOURCE_ACCOUNT: {"snapshot_role_arn": evidence["Arn"], "external_id": SOURCE_EXTERNAL_ID}
    }

    # The forensics OU under the root, its SCPs attached to it, and the forensic account moved under it.
    outcome = first.stacks[-1].outputs
    ou = outcome["forensicsOuId"]
    assert [p["Id"] for p in organizations.list_parents(ChildId=ou)["Parents"]] == [root]
    assert [p["Id"] for p in organizations.list_parents(ChildId=account)["Parents"]] == [ou]
    attached = organizations.list_policies_for_target(TargetId=ou, Filter="SERVICE_CONTROL_POLICY")
    assert {p["Id"] for p in attached["Policies"]} >= set(outcome["policyIds"].values())
    assert set(outcome["policyIds"]) == set(scps.SCP_NAMES)
    assert outcome["attachedTargets"] == dict.fromkeys(scps.SCP_NAMES, ou)
    region_lock = json.loads(
        organizations.describe_policy(PolicyId=outcome["policyIds"][scps.REGION_LOCK])["Policy"]["Content"]
    )
    (statement,) = region_lock["Statement"]
    assert statement["Condition"]["StringNotEquals"] == {"aws:RequestedRegion": [settings.aws_region]}

    second = bootstrap(settings, options)
    assert not second.changed, second.stacks
    assert [p["Id"] for p in organizations.list_parents(ChildId=account)["Parents"]] == [ou]
    assert second.settings == first.settings
