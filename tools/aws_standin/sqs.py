"""SQS: the log-in alert queue of a forensic account (queue, its access policy) and the SNS subscription
that delivers the alert topic to it."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, not_found
from .iam import policy_text
from .values import Props

# pulumi-aws input -> SQS queue attribute (the ones the day-zero programs set).
_ATTRIBUTES = {
    "sqsManagedSseEnabled": "SqsManagedSseEnabled",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "messageRetentionSeconds": "MessageRetentionPeriod",
    "visibilityTimeoutSeconds": "VisibilityTimeout",
    "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
}
_QUEUE_NOT_FOUND = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def _attr(value: Any) -> str:
    return (
        str(value).lower()
        if isinstance(value, bool)
        else str(int(value))
        if isinstance(value, float)
        else str(value)
    )


def _gone(exc: ClientError) -> bool:
    return not_found(exc, *_QUEUE_NOT_FOUND)


class Queue(ResourceHandler):
    token = "aws:sqs/queue:Queue"
    inputs = frozenset({"name", *_ATTRIBUTES})
    outputs = frozenset({"arn", "url", "name", *_ATTRIBUTES})
    replace_on = frozenset({"name"})
    autoname = "name"
    autoname_max_len = 80
    taggable = True

    @property
    def sqs(self) -> Any:
        return self.aws.client("sqs")

    def _attributes(self, news: Props) -> dict[str, str]:
        return {aws: _attr(news[k]) for k, aws in _ATTRIBUTES.items() if news.get(k) not in (None, "")}

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        url = self.sqs.create_queue(
            QueueName=news["name"], Attributes=self._attributes(news), tags=self.tags_all(news)
        )["QueueUrl"]
        return url, self.read(url, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            attrs = self.sqs.get_queue_attributes(QueueUrl=resource_id, AttributeNames=["All"])["Attributes"]
            tags = self.sqs.list_queue_tags(QueueUrl=resource_id).get("Tags") or {}
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        return {
            "arn": attrs["QueueArn"],
            "url": resource_id,
            "name": resource_id.rsplit("/", 1)[-1],
            "sqsManagedSseEnabled": attrs.get("SqsManagedSseEnabled", "false") == "true",
            "kmsMasterKeyId": attrs.get("KmsMasterKeyId", ""),
            "messageRetentionSeconds": int(attrs.get("MessageRetentionPeriod", 345600)),
            "visibilityTimeoutSeconds": int(attrs.get("VisibilityTimeout", 30)),
            "receiveWaitTimeSeconds": int(attrs.get("ReceiveMessageWaitTimeSeconds", 0)),
            **self.tag_outputs({str(k): str(v) for k, v in tags.items()}, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        changed = {
            aws: _attr(news.get(k) or "")
            for k, aws in _ATTRIBUTES.items()
            if k in news and news[k] != olds.get(k)
        }
        if changed:
            self.sqs.set_queue_attributes(QueueUrl=resource_id, Attributes=changed)
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.sqs.untag_queue(QueueUrl=resource_id, TagKeys=to_remove)
        if to_set:
            self.sqs.tag_queue(QueueUrl=resource_id, Tags=to_set)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.sqs.delete_queue(QueueUrl=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class QueuePolicy(ResourceHandler):
    token = "aws:sqs/queuePolicy:QueuePolicy"
    inputs = frozenset({"queueUrl", "policy"})
    replace_on = frozenset({"queueUrl"})

    @property
    def sqs(self) -> Any:
        return self.aws.client("sqs")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.sqs.set_queue_attributes(QueueUrl=news["queueUrl"], Attributes={"Policy": news["policy"]})
        return news["queueUrl"], self.read(news["queueUrl"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            attrs = self.sqs.get_queue_attributes(QueueUrl=resource_id, AttributeNames=["Policy"])[
                "Attributes"
            ]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        if not attrs.get("Policy"):
            return None
        return {"queueUrl": resource_id, "policy": policy_text(attrs["Policy"], olds.get("policy"))}

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.sqs.set_queue_attributes(QueueUrl=resource_id, Attributes={"Policy": news["policy"]})
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        """A queue without a policy admits its owner account only, as AWS has it."""
        try:
            self.sqs.set_queue_attributes(QueueUrl=resource_id, Attributes={"Policy": ""})
        except ClientError as exc:
            if not _gone(exc):
                raise


class TopicSubscription(ResourceHandler):
    token = "aws:sns/topicSubscription:TopicSubscription"
    inputs = frozenset({"topic", "protocol", "endpoint", "rawMessageDelivery"})
    outputs = frozenset({"arn", "ownerId", "pendingConfirmation", "confirmationWasAuthenticated"})
    replace_on = frozenset({"topic", "protocol", "endpoint"})
    diff_defaults = {"rawMessageDelivery": False}

    @property
    def sns(self) -> Any:
        return self.aws.client("sns")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        if news["protocol"] != "sqs":
            raise ValueError(f"the stand-in subscribes SQS queues only, not {news['protocol']!r}")
        arn = self.sns.subscribe(
            TopicArn=news["topic"],
            Protocol="sqs",
            Endpoint=news["endpoint"],
            Attributes={"RawMessageDelivery": _attr(bool(news.get("rawMessageDelivery")))},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return arn, self.read(arn, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            attrs = self.sns.get_subscription_attributes(SubscriptionArn=resource_id)["Attributes"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {
            "arn": resource_id,
            "topic": attrs["TopicArn"],
            "protocol": attrs["Protocol"],
            "endpoint": attrs["Endpoint"],
            "rawMessageDelivery": attrs.get("RawMessageDelivery", "false") == "true",
            "ownerId": attrs.get("Owner", self.aws.account_id),
            "pendingConfirmation": attrs.get("PendingConfirmation", "false") == "true",
            "confirmationWasAuthenticated": attrs.get("ConfirmationWasAuthenticated", "true") == "true",
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.sns.set_subscription_attributes(
            SubscriptionArn=resource_id,
            AttributeName="RawMessageDelivery",
            AttributeValue=_attr(bool(news.get("rawMessageDelivery"))),
        )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.sns.unsubscribe(SubscriptionArn=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Queue, QueuePolicy, TopicSubscription)
