"""Alerts on log-in: a Session Manager session started, or a clean-room role assumed, in this account is
published to an SNS topic; the topic delivers to an SQS queue the service reads with its own principal
(service/integrations/login_alerts.py: its alert channel and the investigation's ticket). Raw message delivery
is off: each message is SNS's envelope around the EventBridge event."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import (
    ALERT_QUEUE_NAME,
    ALERT_TOPIC_NAME,
    LOGIN_RULE_NAME,
    AccountConfig,
)
from programs.forensic_account.permissions import document
from programs.forensic_account.tags import baseline_tags


def login_event_pattern(cfg: AccountConfig) -> dict[str, Any]:
    """CloudTrail management events (EventBridge receives them without a trail of its own): StartSession
    anywhere, AssumeRole of a clean-room role (forensics-<id>-<role>)."""
    return {
        "detail-type": ["AWS API Call via CloudTrail"],
        "$or": [
            {"source": ["aws.ssm"], "detail": {"eventName": ["StartSession", "ResumeSession"]}},
            {
                "source": ["aws.sts"],
                "detail": {
                    "eventName": ["AssumeRole"],
                    "requestParameters": {
                        "roleArn": [{"prefix": f"arn:{cfg.partition}:iam::{cfg.account_id}:role/forensics-"}]
                    },
                },
            },
        ],
    }


def topic_statements(cfg: AccountConfig) -> list[dict[str, Any]]:
    return [
        {
            "Sid": "LoginRulePublishes",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": cfg.alert_topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": cfg.login_rule_arn}},
        },
        {
            "Sid": "ServiceSubscribes",
            "Effect": "Allow",
            "Principal": {"AWS": list(cfg.service_principal_arns)},
            "Action": ["sns:Subscribe", "sns:GetTopicAttributes"],
            "Resource": cfg.alert_topic_arn,
        },
    ]


QUEUE_READ_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def queue_statements(cfg: AccountConfig) -> list[dict[str, Any]]:
    """TLS only; only the alert topic sends; only the service's principals read (and delete)."""
    return [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": cfg.alert_queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "AlertTopicSends",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": cfg.alert_queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": cfg.alert_topic_arn}},
        },
        {
            "Sid": "ServiceReads",
            "Effect": "Allow",
            "Principal": {"AWS": list(cfg.service_principal_arns)},
            "Action": list(QUEUE_READ_ACTIONS),
            "Resource": cfg.alert_queue_arn,
        },
    ]


class LoginAlerts(pulumi.ComponentResource):
    topic: aws.sns.Topic
    rule: aws.cloudwatch.EventRule
    queue: aws.sqs.Queue

    def __init__(self, name: str, cfg: AccountConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("forensics:baseline:LoginAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic", name=ALERT_TOPIC_NAME, tags=baseline_tags("alerts", ALERT_TOPIC_NAME), opts=child
        )
        policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=self.topic.arn, policy=document(topic_statements(cfg)), opts=child
        )
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=LOGIN_RULE_NAME,
            description="Session Manager sessions and clean-room role sign-ins",
            event_pattern=json.dumps(login_event_pattern(cfg)),
            tags=baseline_tags("alerts", LOGIN_RULE_NAME),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            arn=self.topic.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=ALERT_QUEUE_NAME,
            sqs_managed_sse_enabled=True,
            # Two weeks (SQS's longest): a service that is down for a while still hears every log-in.
            message_retention_seconds=1209600,
            tags=baseline_tags("alerts", ALERT_QUEUE_NAME),
            opts=child,
        )
        queue_policy = aws.sqs.QueuePolicy(
            f"{name}-queue-policy",
            queue_url=self.queue.url,
            policy=document(queue_statements(cfg)),
            opts=child,
        )
        aws.sns.TopicSubscription(
            f"{name}-subscription",
            topic=self.topic.arn,
            protocol="sqs",
            endpoint=self.queue.arn,
            raw_message_delivery=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[queue_policy]),
        )
        self.register_outputs({"topicArn": self.topic.arn, "queueUrl": self.queue.url})
