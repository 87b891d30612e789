"""SNS: a topic's access policy declared apart from the topic (aws.sns.TopicPolicy)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, not_found
from .iam import policy_text
from .values import Props


class TopicPolicy(ResourceHandler):
    token = "aws:sns/topicPolicy:TopicPolicy"
    inputs = frozenset({"arn", "policy"})
    outputs = frozenset({"owner"})
    replace_on = frozenset({"arn"})

    @property
    def sns(self) -> Any:
        return self.aws.client("sns")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.sns.set_topic_attributes(
            TopicArn=news["arn"], AttributeName="Policy", AttributeValue=news["policy"]
        )
        return news["arn"], self.read(news["arn"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            attrs = self.sns.get_topic_attributes(TopicArn=resource_id)["Attributes"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {
            "arn": resource_id,
            "owner": attrs.get("Owner", ""),
            "policy": policy_text(attrs.get("Policy", ""), olds.get("policy")),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.sns.set_topic_attributes(
            TopicArn=resource_id, AttributeName="Policy", AttributeValue=news["policy"]
        )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        """The topic keeps SNS's default policy (the owner account only), as AWS has it without one."""
        account = self.aws.account_id
        default = (
            '{"Version":"2008-10-17","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow",'
            '"Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes",'
            '"SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe",'
            '"SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"' + resource_id + '",'
            '"Condition":{"StringEquals":{"AWS:SourceOwner":"' + account + '"}}}]}'
        )
        try:
            self.sns.set_topic_attributes(
                TopicArn=resource_id, AttributeName="Policy", AttributeValue=default
            )
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (TopicPolicy,)
