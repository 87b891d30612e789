"""SSM: a String parameter (the golden AMI id the clean room reads). Secure strings are not served."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, StandinError, aws_tags, drop_none, not_found, tag_map
from .values import Props


class Parameter(ResourceHandler):
    token = "aws:ssm/parameter:Parameter"
    inputs = frozenset({"name", "type", "dataType", "value", "insecureValue", "description", "tier"})
    outputs = frozenset({"arn", "name", "version", "dataType", "tier"})
    replace_on = frozenset({"name", "type"})
    autoname = "name"
    autoname_max_len = 2048
    taggable = True

    @property
    def ssm(self) -> Any:
        return self.aws.client("ssm")

    def _value(self, news: Props) -> str:
        if news.get("type") not in ("String", "StringList"):
            raise StandinError(f"{self.token}: type {news.get('type')!r} is not served by the local stand-in")
        value = news.get("insecureValue") if news.get("insecureValue") is not None else news.get("value")
        if value is None:
            raise StandinError(f"{self.token}: value or insecureValue is required")
        return str(value)

    def _put(self, news: Props, overwrite: bool) -> None:
        self.ssm.put_parameter(
            **drop_none(
                {
                    "Name": news["name"],
                    "Type": news["type"],
                    "Value": self._value(news),
                    "DataType": news.get("dataType") or None,
                    "Description": news.get("description") or None,
                    "Tier": news.get("tier") or None,
                    "Overwrite": overwrite,
                }
            )
        )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self._put(news, overwrite=False)
        self.ssm.add_tags_to_resource(
            ResourceType="Parameter", ResourceId=news["name"], Tags=aws_tags(self.tags_all(news))
        )
        return news["name"], self.read(news["name"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            param = self.ssm.get_parameter(Name=resource_id)["Parameter"]
        except ClientError as exc:
            if not_found(exc, "ParameterNotFound"):
                return None
            raise
        tags = tag_map(
            self.ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=resource_id).get("TagList")
        )
        value_key = "insecureValue" if olds.get("insecureValue") is not None else "value"
        return {
            "arn": param.get("ARN") or self.aws.arn("ssm", f"parameter/{resource_id.lstrip('/')}"),
            "name": param["Name"],
            "type": param["Type"],
            "dataType": param.get("DataType", "text"),
            "version": param.get("Version", 1),
            "tier": olds.get("tier") or "Standard",
            value_key: param["Value"],
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._put(news, overwrite=True)
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.ssm.remove_tags_from_resource(
                ResourceType="Parameter", ResourceId=resource_id, TagKeys=to_remove
            )
        if to_set:
            self.ssm.add_tags_to_resource(
                ResourceType="Parameter", ResourceId=resource_id, Tags=aws_tags(to_set)
            )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.ssm.delete_parameter(Name=resource_id)
        except ClientError as exc:
            if not not_found(exc, "ParameterNotFound"):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Parameter,)
