"""`forensics bootstrap` on the real engine, judged on the session's day zero (``local_day_zero``,
tests/conftest.py: the bootstrap run by `make run`'s day zero in a local AWS of its own that enforces IAM):
the stacks in the guidance's order, the forensic account's baseline built by programs/forensic_account and
the source account's evidence role where it belongs, checked with boto3. What the source account's and the
organization's stacks hold is judged by their programs' engine tests (tests/programs/source_account,
tests/programs/organization); the second run, which changes nothing, is test_local_day_zero_engine.py's."""

from __future__ import annotations

import json

import pytest

from tests.support.iam_audit import documents, in_account
from tests.support.local_day_zero import DAY_ZERO_GROUP, DayZero

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(DAY_ZERO_GROUP)]


def test_bootstrap_builds_the_baseline(local_day_zero: DayZero) -> None:
    aws, done = local_day_zero.aws, local_day_zero.done
    settings, first = done.operator, done.result
    service = done.service_arn
    source_account, external_id = done.source_account_id, local_day_zero.source_external_id
    account = settings.aws_account_id
    # The guidance's order: every account's baseline, then the organization's guardrails.
    assert [s.stack_name for s in first.stacks] == [
        f"account-{account}-{settings.aws_region}",
        f"source-{source_account}",
        "organization",
    ]
    assert first.changed and first.stacks[0].changes.get("create", 0) > 20

    iam = aws.client("iam")
    role = iam.get_role(RoleName="forensics-deploy")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": [service]}
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

    cloudtrail = aws.client("cloudtrail")
    trail = cloudtrail.describe_trails(trailNameList=["forensics-audit"])["trailList"][0]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert cloudtrail.get_trail_status(Name="forensics-audit")["IsLogging"]
    config = aws.client("config")
    assert config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
    events = aws.client("events")
    rule = events.describe_rule(Name="forensics-login")
    targets = events.list_targets_by_rule(Rule="forensics-login")["Targets"]
    assert [t["Arn"] for t in targets] == [first.stacks[0].outputs["alertTopicArn"]]
    assert "StartSession" in rule["EventPattern"]
    key = aws.client("kms").describe_key(KeyId="alias/forensics-signing")["KeyMetadata"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    lock = aws.client("s3").get_object_lock_configuration(Bucket=settings.anchor_bucket)
    retention = lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 3650)

    accounts = json.loads(first.settings["FORENSICS_FORENSIC_ACCOUNTS"])
    assert accounts[settings.aws_region]["deploy_role_arn"] == role["Arn"]
    # The alert topic really delivers to the queue the settings name (SNS's envelope, raw delivery off).
    queue_url = accounts[settings.aws_region]["alert_queue_url"]
    assert queue_url == first.stacks[0].outputs["alertQueueUrl"]
    sqs = aws.client("sqs")
    sse = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert sse["SqsManagedSseEnabled"] == "true" and "aws:SecureTransport" in sse["Policy"]
    aws.client("sns").publish(TopicArn=first.stacks[0].outputs["alertTopicArn"], Message='{"id": "x"}')
    [delivered] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert json.loads(delivered["Body"])["Message"] == '{"id": "x"}'
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=delivered["ReceiptHandle"])
    assert first.settings["FORENSICS_AUDIT_ANCHOR_BUCKET"] == settings.anchor_bucket

    # The source account's evidence role, built in that account through the member-account role (its trust
    # and its one document are tests/programs/source_account/test_engine.py's) ...
    source_iam = in_account(aws, source_account, "iam")
    evidence = source_iam.get_role(RoleName="forensics-evidence-reader")["Role"]
    assert evidence["Arn"] == f"arn:aws:iam::{source_account}:role/forensics-evidence-reader"
    # ... and nothing of it in the forensic account.
    assert "forensics-evidence-reader" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    sources = json.loads(first.settings["FORENSICS_SOURCE_ACCOUNTS"])
    assert sources == {source_account: {"snapshot_role_arn": evidence["Arn"], "external_id": external_id}}
