"""SNS: topic."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, not_found, tag_map
from .iam import policy_text
from .values import Props

# pulumi-aws input -> SNS topic attribute (the ones a clean room uses; others pass through unmanaged).
_ATTRIBUTES = {
    "displayName": "DisplayName",
    "kmsMasterKeyId": "KmsMasterKeyId",
    "policy": "Policy",
    "deliveryPolicy": "DeliveryPolicy",
    "signatureVersion": "SignatureVersion",
    "tracingConfig": "TracingConfig",
    "contentBasedDeduplication": "ContentBasedDeduplication",
}


def _attr(value: Any) -> str:
    return (
        str(value).lower()
        if isinstance(value, bool)
        else str(int(value))
        if isinstance(value, float)
        else str(value)
    )


class Topic(ResourceHandler):
    token = "aws:sns/topic:Topic"
    inputs = frozenset({"name", "namePrefix", "fifoTopic", *_ATTRIBUTES})
    outputs = frozenset(
        {"arn", "name", "owner", "policy", "displayName", "kmsMasterKeyId", "fifoTopic", "signatureVersion"}
    )
    replace_on = frozenset({"name", "namePrefix", "fifoTopic"})
    autoname = "name"
    autoname_max_len = 256
    taggable = True

    @property
    def sns(self) -> Any:
        return self.aws.client("sns")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        topic_name = news["name"]
        attributes = {aws: _attr(news[k]) for k, aws in _ATTRIBUTES.items() if news.get(k) not in (None, "")}
        if news.get("fifoTopic"):
            attributes["FifoTopic"] = "true"
            topic_name = topic_name if topic_name.endswith(".fifo") else f"{topic_name}.fifo"
        tags = self.tags_all(news)
        arn = self.sns.create_topic(
            Name=topic_name, Attributes=attributes, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )["TopicArn"]
        return arn, self.read(arn, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            attrs = self.sns.get_topic_attributes(TopicArn=resource_id)["Attributes"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        tags = tag_map(self.sns.list_tags_for_resource(ResourceArn=resource_id).get("Tags"))
        return {
            "arn": resource_id,
            "name": resource_id.rsplit(":", 1)[-1],
            "owner": attrs.get("Owner", self.aws.account_id),
            "displayName": attrs.get("DisplayName", ""),
            "kmsMasterKeyId": attrs.get("KmsMasterKeyId", ""),
            "policy": policy_text(attrs["Policy"], olds.get("policy")) if attrs.get("Policy") else "",
            "fifoTopic": attrs.get("FifoTopic", "false") == "true",
            "signatureVersion": int(attrs.get("SignatureVersion") or olds.get("signatureVersion") or 1),
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        for key, aws_name in _ATTRIBUTES.items():
            if key in news and news.get(key) != olds.get(key):
                if (
                    key == "policy"
                    and news.get(key)
                    and policy_text(olds.get(key) or "{}", news[key]) == news[key]
                ):
                    continue
                self.sns.set_topic_attributes(
                    TopicArn=resource_id, AttributeName=aws_name, AttributeValue=_attr(news.get(key) or "")
                )
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.sns.untag_resource(ResourceArn=resource_id, TagKeys=to_remove)
        if to_set:
            self.sns.tag_resource(
                ResourceArn=resource_id, Tags=[{"Key": k, "Value": v} for k, v in to_set.items()]
            )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        self.sns.delete_topic(TopicArn=resource_id)


HANDLERS: tuple[type[ResourceHandler], ...] = (Topic,)
