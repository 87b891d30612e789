"""EventBridge: a rule on the default bus and its targets (the day-zero log-in alerts)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, aws_tags, drop_none, not_found, tag_map
from .values import Props


def _same_json(current: str | None, declared: str | None) -> str:
    """The declared pattern when AWS holds the same JSON (it may reorder keys), else AWS's."""
    if current and declared:
        try:
            if json.loads(current) == json.loads(declared):
                return declared
        except ValueError:
            pass
    return current or ""


class EventRule(ResourceHandler):
    token = "aws:cloudwatch/eventRule:EventRule"
    inputs = frozenset({"name", "namePrefix", "description", "eventPattern", "scheduleExpression", "state"})
    outputs = frozenset({"arn", "name", "eventBusName", "state"})
    replace_on = frozenset({"name", "namePrefix", "eventBusName"})
    autoname = "name"
    autoname_max_len = 64
    taggable = True

    @property
    def events(self) -> Any:
        return self.aws.client("events")

    def _put(self, news: Props, name: str) -> str:
        arn: str = self.events.put_rule(
            **drop_none(
                {
                    "Name": name,
                    "Description": news.get("description") or None,
                    "EventPattern": news.get("eventPattern") or None,
                    "ScheduleExpression": news.get("scheduleExpression") or None,
                    "State": news.get("state") or "ENABLED",
                }
            )
        )["RuleArn"]
        return arn

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        arn = self._put(news, news["name"])
        self.events.tag_resource(ResourceARN=arn, Tags=aws_tags(self.tags_all(news)))
        return news["name"], self.read(news["name"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            rule = self.events.describe_rule(Name=resource_id)
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        tags = tag_map(self.events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags"))
        return {
            "arn": rule["Arn"],
            "name": rule["Name"],
            "eventBusName": rule.get("EventBusName", "default"),
            "description": rule.get("Description", ""),
            "eventPattern": _same_json(rule.get("EventPattern"), olds.get("eventPattern")),
            "scheduleExpression": rule.get("ScheduleExpression", ""),
            "state": rule.get("State", "ENABLED"),
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        arn = self._put(news, resource_id)
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.events.untag_resource(ResourceARN=arn, TagKeys=to_remove)
        if to_set:
            self.events.tag_resource(ResourceARN=arn, Tags=aws_tags(to_set))
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.events.delete_rule(Name=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


class EventTarget(ResourceHandler):
    token = "aws:cloudwatch/eventTarget:EventTarget"
    inputs = frozenset({"rule", "arn", "targetId", "input"})
    outputs = frozenset({"targetId"})
    replace_on = frozenset({"rule", "targetId"})

    @property
    def events(self) -> Any:
        return self.aws.client("events")

    def _put(self, news: Props, target_id: str) -> None:
        target = drop_none({"Id": target_id, "Arn": news["arn"], "Input": news.get("input") or None})
        failed = self.events.put_targets(Rule=news["rule"], Targets=[target]).get("FailedEntryCount", 0)
        if failed:
            raise RuntimeError(f"EventBridge refused target {target_id} of rule {news['rule']}")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        target_id = news.get("targetId") or name[:64]
        self._put(news, target_id)
        return f"{news['rule']}/{target_id}", {"targetId": target_id}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        rule, _, target_id = resource_id.partition("/")
        try:
            targets = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        found = next((t for t in targets if t["Id"] == target_id), None)
        if found is None:
            return None
        return drop_none(
            {"rule": rule, "targetId": target_id, "arn": found["Arn"], "input": found.get("Input")}
        )

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        _, _, target_id = resource_id.partition("/")
        self._put(news, target_id)
        return {"targetId": target_id}

    def delete(self, resource_id: str, olds: Props) -> None:
        rule, _, target_id = resource_id.partition("/")
        try:
            self.events.remove_targets(Rule=rule, Ids=[target_id])
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (EventRule, EventTarget)
