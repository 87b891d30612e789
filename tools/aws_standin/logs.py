"""CloudWatch Logs: log group."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, drop_none, ints, not_found
from .values import Props


class LogGroup(ResourceHandler):
    token = "aws:cloudwatch/logGroup:LogGroup"
    inputs = frozenset(
        {
            "name",
            "namePrefix",
            "kmsKeyId",
            "retentionInDays",
            "logGroupClass",
            "skipDestroy",
            "deletionProtectionEnabled",
        }
    )
    outputs = frozenset({"arn", "name", "kmsKeyId", "retentionInDays", "logGroupClass"})
    replace_on = frozenset({"name", "namePrefix", "logGroupClass"})
    autoname = "name"
    autoname_max_len = 512
    taggable = True

    @property
    def logs(self) -> Any:
        return self.aws.client("logs")

    def _arn(self, name: str) -> str:
        # pulumi-aws reports the ARN without the ":*" suffix DescribeLogGroups adds.
        return self.aws.arn("logs", f"log-group:{name}")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        group = news["name"]
        tags = self.tags_all(news)
        self.logs.create_log_group(
            **drop_none(
                {
                    "logGroupName": group,
                    "kmsKeyId": news.get("kmsKeyId") or None,
                    "logGroupClass": news.get("logGroupClass"),
                    "tags": tags or None,
                }
            )
        )
        if news.get("retentionInDays"):
            self.logs.put_retention_policy(logGroupName=group, retentionInDays=ints(news["retentionInDays"]))
        return group, self.read(group, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        found = [
            g
            for page in self.logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=resource_id
            )
            for g in page.get("logGroups", [])
            if g["logGroupName"] == resource_id
        ]
        if not found:
            return None
        group = found[0]
        arn = self._arn(resource_id)
        tags = self.logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        return {
            "name": resource_id,
            "arn": arn,
            "kmsKeyId": group.get("kmsKeyId", ""),
            "retentionInDays": group.get("retentionInDays", 0),
            "logGroupClass": group.get("logGroupClass", "STANDARD"),
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        logs = self.logs
        retention = ints(news.get("retentionInDays")) or 0
        if retention != (ints(olds.get("retentionInDays")) or 0):
            if retention:
                logs.put_retention_policy(logGroupName=resource_id, retentionInDays=retention)
            else:
                logs.delete_retention_policy(logGroupName=resource_id)
        key = news.get("kmsKeyId") or ""
        if key != (olds.get("kmsKeyId") or ""):
            if key:
                logs.associate_kms_key(logGroupName=resource_id, kmsKeyId=key)
            else:
                logs.disassociate_kms_key(logGroupName=resource_id)
        to_set, to_remove = self.tag_changes(olds, news)
        arn = self._arn(resource_id)
        if to_remove:
            logs.untag_resource(resourceArn=arn, tagKeys=to_remove)
        if to_set:
            logs.tag_resource(resourceArn=arn, tags=to_set)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        if olds.get("skipDestroy"):
            return
        try:
            self.logs.delete_log_group(logGroupName=resource_id)
        except ClientError as exc:
            if not not_found(exc, "ResourceNotFoundException"):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (LogGroup,)
