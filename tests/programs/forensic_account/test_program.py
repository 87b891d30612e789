"""programs/forensic_account under Pulumi's mocks: what the deploy role may do, the boundary, the signing key,
the audit buckets, the trail, Config, the log-in alerts and the golden-image pipeline."""

from __future__ import annotations

import json
from typing import Any

import pytest

from programs.forensic_account.config import (
    ANCHOR_RETENTION_DAYS,
    ConfigError,
    validate_config,
)
from programs.forensic_account.program import OUTPUT_NAMES
from tests.support.policy_documents import statements_of

from .harness import ACCOUNT, BASE_IMAGE, REGION, SERVICE, run_account

# One worker runs the module, so the program run (the `run` module fixture, about a CPU-s) is made once, not
# once per worker that gets one of its tests.
pytestmark = pytest.mark.xdist_group(name="forensic-account-program")
ROLE = "aws:iam/role:Role"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/forensics-cleanroom-boundary"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/forensics-deploy"


def _by_sid(document: Any) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements_of(document) if "Sid" in s}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


@pytest.fixture(scope="module")
def run() -> Any:
    return run_account()


def test_exports_the_contract_outputs(run: Any) -> None:
    assert set(run.outputs) == set(OUTPUT_NAMES)
    assert run.outputs["deployRoleArn"] == DEPLOY_ROLE
    assert run.outputs["permissionsBoundaryArn"] == BOUNDARY
    assert run.outputs["signingKeyAlias"] == "alias/forensics-signing"
    assert run.outputs["anchorBucket"] == f"forensics-audit-anchors-{ACCOUNT}"
    assert run.outputs["trailName"] == "forensics-audit"
    assert run.outputs["alertTopicArn"].endswith(":forensics-login-alerts")


def test_only_the_service_assumes_the_deploy_role_with_the_external_id(run: Any) -> None:
    trust = statements_of(run.one(ROLE, "deploy-role").inputs["assumeRolePolicy"])
    assert trust == [
        {
            "Sid": "ServiceOnly",
            "Effect": "Allow",
            "Principal": {"AWS": [SERVICE]},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "forensics-ext-1"}},
        }
    ]


def test_without_an_external_id_the_trust_has_no_condition() -> None:
    trust = statements_of(run_account(externalId=None).one(ROLE, "deploy-role").inputs["assumeRolePolicy"])
    assert "Condition" not in trust[0]


def test_every_role_the_deploy_role_creates_carries_the_boundary(run: Any) -> None:
    policy = run.policy("aws:iam/rolePolicy:RolePolicy", "deploy-policy")
    granting = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and {"iam:CreateRole", "iam:PutRolePermissionsBoundary"} & set(_actions(s))
    ]
    assert granting and all(
        s["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}} for s in granting
    )
    assert all(
        not a.startswith("iam:AttachRolePolicy")
        for s in policy["Statement"]
        if s["Effect"] == "Allow"
        for a in _actions(s)
    )


def test_the_deploy_role_can_never_change_itself_or_the_guardrails(run: Any) -> None:
    sids = _by_sid(run.one("aws:iam/rolePolicy:RolePolicy", "deploy-policy").inputs["policy"])
    assert sids["NeverItself"]["Effect"] == "Deny"
    assert sids["NeverItself"]["Action"] == ["iam:*"]
    assert set(sids["NeverItself"]["Resource"]) == {DEPLOY_ROLE, BOUNDARY}
    assert "iam:DeleteRolePermissionsBoundary" in sids["NeverUnbound"]["Action"]
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"} <= set(sids["NeverTheTrail"]["Action"])
    assert "config:StopConfigurationRecorder" in sids["NeverConfig"]["Action"]
    assert f"arn:aws:s3:::forensics-audit-anchors-{ACCOUNT}" in sids["NeverTheAuditBuckets"]["Resource"]
    assert "kms:ScheduleKeyDeletion" in sids["NeverTheSigningKey"]["Action"]
    # Nor silence or read away the log-in alerts (the queue is the service's to read).
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:forensics-login-alerts"
    assert queue in sids["NeverTheAlerts"]["Resource"]
    assert {"sqs:PurgeQueue", "sqs:ReceiveMessage", "sns:Unsubscribe"} <= set(
        sids["NeverTheAlerts"]["Action"]
    )


def test_what_the_clean_room_creates_must_carry_the_investigation_tag(run: Any) -> None:
    sids = _by_sid(run.one("aws:iam/rolePolicy:RolePolicy", "deploy-policy").inputs["policy"])
    assert sids["CreateTagged"]["Condition"] == {
        "Null": {"aws:RequestTag/forensics:investigation-id": "false"}
    }
    assert sids["ManageTagged"]["Condition"] == {
        "Null": {"aws:ResourceTag/forensics:investigation-id": "false"}
    }
    assert "ec2:TerminateInstances" in sids["ManageTagged"]["Action"]
    # The CloudTrail reader and the signing step.
    assert {"cloudtrail:LookupEvents", "ec2:DescribeRegions"} <= set(sids["Describe"]["Action"])
    assert sids["SignStatements"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/forensics-signing"}
    }


def test_no_policy_allows_every_action_or_every_resource(run: Any) -> None:
    """Resource "*" only where AWS matches nothing else: actions authorized on no resource type."""
    from policy_packs.forensics.rules.action_catalogue import resource_less

    # A key policy's Resource "*" is the key itself (KMS allows nothing else there).
    documents = [
        r.inputs[prop]
        for r in run.custom()
        if r.type != "aws:kms/key:Key"
        for prop in ("policy", "assumeRolePolicy")
        if isinstance(r.inputs.get(prop), str) and r.inputs[prop].startswith("{")
    ]
    for document in documents:
        for statement in statements_of(document):
            if statement["Effect"] != "Allow":
                continue
            assert "*" not in _actions(statement) and "*:*" not in _actions(statement), statement
            resources = statement.get("Resource", [])
            if "*" in (resources if isinstance(resources, list) else [resources]):
                assert all(resource_less(a) for a in _actions(statement)), statement
    attached = [
        r.inputs["policyArn"] for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    ]
    assert not [arn for arn in attached if "AdministratorAccess" in arn]


def test_the_boundary_is_a_managed_policy_without_iam(run: Any) -> None:
    boundary = run.one("aws:iam/policy:Policy", "deploy-boundary")
    assert boundary.inputs["name"] == "forensics-cleanroom-boundary"
    actions = {a for s in statements_of(boundary.inputs["policy"]) for a in _actions(s)}
    assert not {a for a in actions if a.startswith(("iam:", "organizations:", "cloudtrail:", "config:"))}
    assert "ssm:StartSession" in actions


def test_the_signing_key_signs_only_for_the_service(run: Any) -> None:
    key = run.one("aws:kms/key:Key", "signing-key")
    assert key.inputs["customerMasterKeySpec"] == "ECC_NIST_P256"
    assert key.inputs["keyUsage"] == "SIGN_VERIFY"
    assert key.protect
    statements = statements_of(key.inputs["policy"])
    signers = [s for s in statements if "kms:Sign" in _actions(s)]
    assert [s["Principal"] for s in signers] == [{"AWS": DEPLOY_ROLE}]
    readers = next(s for s in statements if s["Sid"] == "OrganizationVerifies")
    assert set(_actions(readers)) == {"kms:GetPublicKey", "kms:DescribeKey"}
    assert readers["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    with_org = run_account(organizationId="o-abcdefghij").one("aws:kms/key:Key", "signing-key")
    readers = next(s for s in statements_of(with_org.inputs["policy"]) if s["Sid"] == "OrganizationVerifies")
    assert readers["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_anchor_and_trail_buckets_are_locked_in_compliance_mode(run: Any) -> None:
    locks = {
        r.name: r for r in run.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    }
    anchors = locks["anchors-object-lock"].inputs["rule"]["defaultRetention"]
    assert anchors == {"mode": "COMPLIANCE", "days": ANCHOR_RETENTION_DAYS}
    assert locks["trail-logs-object-lock"].inputs["rule"]["defaultRetention"]["mode"] == "COMPLIANCE"
    for bucket in run.of_type("aws:s3/bucket:Bucket"):
        assert bucket.inputs["objectLockEnabled"] is True
        assert bucket.protect


def test_the_trail_covers_every_region_and_validates_its_files(run: Any) -> None:
    trail = run.one("aws:cloudtrail/trail:Trail")
    assert trail.inputs["isMultiRegionTrail"] is True
    assert trail.inputs["enableLogFileValidation"] is True
    assert trail.inputs["includeGlobalServiceEvents"] is True
    assert trail.inputs["s3BucketName"] == f"forensics-trail-{ACCOUNT}-{REGION}"


def test_config_records_everything(run: Any) -> None:
    recorder = run.one("aws:cfg/recorder:Recorder")
    assert recorder.inputs["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True}
    assert run.one("aws:cfg/recorderStatus:RecorderStatus").inputs["isEnabled"] is True
    role = run.one(ROLE, "config-role")
    assert not role.inputs["name"].startswith("forensics-")  # out of the deploy role's reach


def test_log_ins_alert_the_topic(run: Any) -> None:
    rule = run.one("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(rule.inputs["eventPattern"])
    sources = [branch["source"][0] for branch in pattern["$or"]]
    assert sources == ["aws.ssm", "aws.sts"]
    assert "StartSession" in pattern["$or"][0]["detail"]["eventName"]
    target = run.one("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == run.outputs["alertTopicArn"]


def test_the_topic_delivers_to_a_queue_only_it_sends_to_and_only_the_service_reads(run: Any) -> None:
    queue = run.one("aws:sqs/queue:Queue")
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:forensics-login-alerts"
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert (
        run.outputs["alertQueueUrl"] == f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/forensics-login-alerts"
    )
    subscription = run.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["topic"] == run.outputs["alertTopicArn"]
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("sqs", queue_arn)
    assert subscription.inputs["rawMessageDelivery"] is False  # the service parses SNS's envelope
    policy = run.one("aws:sqs/queuePolicy:QueuePolicy")
    assert policy.inputs["queueUrl"] == run.outputs["alertQueueUrl"]
    statements = _by_sid(policy.inputs["policy"])
    assert statements["TlsOnly"]["Effect"] == "Deny"
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    sends = statements["AlertTopicSends"]
    assert sends["Principal"] == {"Service": "sns.amazonaws.com"} and _actions(sends) == ["sqs:SendMessage"]
    assert sends["Condition"] == {"ArnEquals": {"aws:SourceArn": run.outputs["alertTopicArn"]}}
    reads = statements["ServiceReads"]
    assert reads["Principal"] == {"AWS": [SERVICE]} and reads["Resource"] == queue_arn
    assert sorted(_actions(reads)) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert {s["Resource"] for s in statements.values()} == {queue_arn}


def test_the_golden_image_pipeline_runs_monthly_into_the_parameter(run: Any) -> None:
    pipeline = run.one("aws:imagebuilder/imagePipeline:ImagePipeline")
    assert pipeline.inputs["schedule"]["scheduleExpression"] == "cron(0 4 1 * ? *)"
    recipe = run.one("aws:imagebuilder/imageRecipe:ImageRecipe")
    assert recipe.inputs["parentImage"] == BASE_IMAGE
    distribution = run.one("aws:imagebuilder/distributionConfiguration:DistributionConfiguration")
    params = distribution.inputs["distributions"][0]["ssmParameterConfigurations"]
    assert params == [{"parameterName": "/forensics/golden-ami/latest", "dataType": "aws:ec2:image"}]


def test_without_the_pipeline_no_image_builder_resource_is_declared() -> None:
    run = run_account(goldenImagePipeline=False)
    assert not [r for r in run.resources if r.type.startswith("aws:imagebuilder")]
    assert run.one("aws:ssm/parameter:Parameter").inputs["insecureValue"] == BASE_IMAGE


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"servicePrincipalArns": []}, "servicePrincipalArns"),
        ({"servicePrincipalArns": ["not-an-arn"]}, "servicePrincipalArns"),
        ({"externalId": "x"}, "externalId"),
        ({"accountId": "12"}, "accountId"),
        ({"baseImageId": ""}, "baseImageId"),
        ({"goldenAmiSsmParameter": "/elsewhere"}, "goldenAmiSsmParameter"),
        ({"signingKeyAlias": "alias/other"}, "signingKeyAlias"),
        ({"organizationId": "org"}, "organizationId"),
        ({"unknownKey": "1"}, "unknownKey"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(change: dict[str, Any], key: str) -> None:
    from .harness import BASE_CONFIG

    with pytest.raises(ConfigError) as err:
        validate_config({**BASE_CONFIG, **change})
    assert err.value.key == f"forensics-forensic-account:{key}"
