"""The day-zero programs' types through the provider methods, checked against moto with boto3: managed
policies and attachments, the trail, AWS Config, EventBridge, a topic policy and an SSM parameter."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support.standin import REGION, Clients, Driver

TAGS = {"forensics:baseline": "test", "managed-by": "forensic-cleanroom"}
ACCOUNT = "123456789012"


def _doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_managed_policy_versions_and_attachment(driver: Driver, aws: Clients) -> None:
    iam = aws("iam")
    first = _doc({"Effect": "Allow", "Action": "ssm:StartSession", "Resource": "*"})
    arn, state = driver.create(
        "aws:iam/policy:Policy", "boundary", {"name": "dz-boundary", "policy": first, "tags": TAGS}
    )
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/dz-boundary" and state["policy"] == first
    assert state["tagsAll"] == TAGS
    second = _doc({"Effect": "Allow", "Action": "ssm:TerminateSession", "Resource": "*"})
    updated = driver.update(
        "aws:iam/policy:Policy",
        "boundary",
        arn,
        state,
        {"name": "dz-boundary", "policy": second, "tags": TAGS},
    )
    assert updated["policy"] == second
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    stored = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == json.loads(second)

    iam.create_role(RoleName="dz-role", AssumeRolePolicyDocument=_doc())
    attachment_id, _ = driver.create(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", {"role": "dz-role", "policyArn": arn}
    )
    attached = iam.list_attached_role_policies(RoleName="dz-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [arn]
    driver.delete("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", attachment_id, {})
    assert iam.list_attached_role_policies(RoleName="dz-role")["AttachedPolicies"] == []
    _, gone, _ = driver.read("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", attachment_id, {})
    assert gone == {}
    driver.delete("aws:iam/policy:Policy", "boundary", arn, updated)
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=arn)


def test_trail_logs_every_region_with_validation(driver: Driver, aws: Clients) -> None:
    aws("s3").create_bucket(Bucket="dz-trail-logs")
    inputs = {
        "name": "dz-trail",
        "s3BucketName": "dz-trail-logs",
        "isMultiRegionTrail": True,
        "enableLogFileValidation": True,
        "includeGlobalServiceEvents": True,
        "enableLogging": True,
        "tags": TAGS,
    }
    trail_id, state = driver.create("aws:cloudtrail/trail:Trail", "trail", inputs)
    cloudtrail = aws("cloudtrail")
    trail = cloudtrail.describe_trails(trailNameList=[trail_id])["trailList"][0]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert cloudtrail.get_trail_status(Name=trail_id)["IsLogging"] is True
    assert state["arn"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/dz-trail"
    assert state["enableLogFileValidation"] is True and state["tagsAll"] == TAGS
    stopped = driver.update(
        "aws:cloudtrail/trail:Trail", "trail", trail_id, state, {**inputs, "enableLogging": False}
    )
    assert stopped["enableLogging"] is False
    assert cloudtrail.get_trail_status(Name=trail_id)["IsLogging"] is False
    driver.delete("aws:cloudtrail/trail:Trail", "trail", trail_id, stopped)
    assert cloudtrail.describe_trails(trailNameList=[trail_id])["trailList"] == []


def test_config_records_and_delivers(driver: Driver, aws: Clients) -> None:
    aws("s3").create_bucket(Bucket="dz-config")
    role = aws("iam").create_role(RoleName="dz-config-role", AssumeRolePolicyDocument=_doc())["Role"]["Arn"]
    recorder_id, _ = driver.create(
        "aws:cfg/recorder:Recorder",
        "recorder",
        {
            "name": "dz",
            "roleArn": role,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        },
    )
    channel_id, _ = driver.create(
        "aws:cfg/deliveryChannel:DeliveryChannel",
        "channel",
        {"name": "dz", "s3BucketName": "dz-config", "s3KeyPrefix": "config"},
    )
    status_id, _ = driver.create(
        "aws:cfg/recorderStatus:RecorderStatus", "status", {"name": "dz", "isEnabled": True}
    )
    config = aws("config")
    assert (
        config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
        is True
    )
    recorder = config.describe_configuration_recorders()["ConfigurationRecorders"][0]
    assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is True
    _, read, _ = driver.read("aws:cfg/recorderStatus:RecorderStatus", "status", status_id, {})
    assert read["isEnabled"] is True
    driver.delete("aws:cfg/recorderStatus:RecorderStatus", "status", status_id, {})
    assert (
        config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
        is False
    )
    driver.delete("aws:cfg/deliveryChannel:DeliveryChannel", "channel", channel_id, {})
    driver.delete("aws:cfg/recorder:Recorder", "recorder", recorder_id, {})
    assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []


def test_event_rule_target_and_topic_policy(driver: Driver, aws: Clients) -> None:
    topic_arn = aws("sns").create_topic(Name="dz-alerts")["TopicArn"]
    pattern = json.dumps({"source": ["aws.ssm"], "detail": {"eventName": ["StartSession"]}})
    rule_id, rule = driver.create(
        "aws:cloudwatch/eventRule:EventRule",
        "rule",
        {"name": "dz-login", "eventPattern": pattern, "tags": TAGS},
    )
    assert (
        rule["arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/dz-login" and rule["eventPattern"] == pattern
    )
    target_id, _ = driver.create(
        "aws:cloudwatch/eventTarget:EventTarget", "target", {"rule": "dz-login", "arn": topic_arn}
    )
    events = aws("events")
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule="dz-login")["Targets"]] == [topic_arn]
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule["arn"]}},
        }
    )
    policy_id, state = driver.create(
        "aws:sns/topicPolicy:TopicPolicy", "policy", {"arn": topic_arn, "policy": policy}
    )
    stored = aws("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"]
    assert json.loads(stored) == json.loads(policy) and state["policy"] == policy
    driver.delete("aws:sns/topicPolicy:TopicPolicy", "policy", policy_id, state)
    stored = aws("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"]
    assert "events.amazonaws.com" not in stored
    driver.delete("aws:cloudwatch/eventTarget:EventTarget", "target", target_id, {})
    assert events.list_targets_by_rule(Rule="dz-login")["Targets"] == []
    driver.delete("aws:cloudwatch/eventRule:EventRule", "rule", rule_id, rule)
    with pytest.raises(ClientError):
        events.describe_rule(Name="dz-login")


def test_string_parameter(driver: Driver, aws: Clients) -> None:
    name = "/forensics/golden-ami/dz"
    inputs = {"name": name, "type": "String", "insecureValue": "ami-0123456789abcdef0", "tags": TAGS}
    param_id, state = driver.create("aws:ssm/parameter:Parameter", "param", inputs)
    ssm = aws("ssm")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "ami-0123456789abcdef0"
    assert state["insecureValue"] == "ami-0123456789abcdef0" and state["tagsAll"] == TAGS
    updated = driver.update(
        "aws:ssm/parameter:Parameter",
        "param",
        param_id,
        state,
        {**inputs, "insecureValue": "ami-0fedcba9876543210"},
    )
    assert updated["version"] == 2
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "ami-0fedcba9876543210"
    driver.delete("aws:ssm/parameter:Parameter", "param", param_id, updated)
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=name)


def test_alert_queue_policy_and_subscription_deliver_the_topic(driver: Driver, aws: Clients) -> None:
    topic_arn = aws("sns").create_topic(Name="dz-login-alerts")["TopicArn"]
    url, queue = driver.create(
        "aws:sqs/queue:Queue",
        "queue",
        {"name": "dz-login-alerts", "sqsManagedSseEnabled": True, "tags": TAGS},
    )
    assert queue["arn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:dz-login-alerts" and queue["url"] == url
    assert queue["sqsManagedSseEnabled"] is True and queue["tagsAll"] == TAGS
    sqs = aws("sqs")
    policy = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue["arn"],
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
        }
    )
    policy_id, policy_state = driver.create(
        "aws:sqs/queuePolicy:QueuePolicy", "policy", {"queueUrl": url, "policy": policy}
    )
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(stored) == json.loads(policy) and policy_state["policy"] == policy
    sub_arn, sub = driver.create(
        "aws:sns/topicSubscription:TopicSubscription",
        "subscription",
        {"topic": topic_arn, "protocol": "sqs", "endpoint": queue["arn"], "rawMessageDelivery": False},
    )
    assert (
        sub["topic"] == topic_arn and sub["endpoint"] == queue["arn"] and sub["rawMessageDelivery"] is False
    )
    aws("sns").publish(TopicArn=topic_arn, Message='{"id": "ev"}')
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert body["Type"] == "Notification" and body["Message"] == '{"id": "ev"}'  # SNS's envelope
    driver.delete("aws:sns/topicSubscription:TopicSubscription", "subscription", sub_arn, sub)
    subs = aws("sns").list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert subs == []
    driver.delete("aws:sqs/queuePolicy:QueuePolicy", "policy", policy_id, policy_state)
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get(
        "Attributes", {}
    )
    driver.delete("aws:sqs/queue:Queue", "queue", url, queue)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
