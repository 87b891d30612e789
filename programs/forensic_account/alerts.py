"""Alerts on log-in: a Session Manager session started, or a clean-room role assumed, in this account is
published to an SNS topic the service subscribes to (its alert channel and the investigation's ticket)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import ALERT_TOPIC_NAME, LOGIN_RULE_NAME, AccountConfig
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


class LoginAlerts(pulumi.ComponentResource):
    topic: aws.sns.Topic
    rule: aws.cloudwatch.EventRule

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
        self.register_outputs({"topicArn": self.topic.arn})
