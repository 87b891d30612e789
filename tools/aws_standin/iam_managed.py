"""IAM customer managed policies and their attachment to roles (the day-zero boundary, the Config role)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, aws_tags, not_found, tag_map
from .iam import policy_text
from .values import Props


class Policy(ResourceHandler):
    token = "aws:iam/policy:Policy"
    inputs = frozenset({"name", "namePrefix", "path", "description", "policy"})
    outputs = frozenset({"arn", "name", "path", "description", "policyId", "attachmentCount"})
    replace_on = frozenset({"name", "namePrefix", "path", "description"})
    autoname = "name"
    autoname_max_len = 128
    taggable = True

    @property
    def iam(self) -> Any:
        return self.aws.client("iam")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        created = self.iam.create_policy(
            PolicyName=news["name"],
            Path=news.get("path") or "/",
            Description=news.get("description") or "",
            PolicyDocument=news["policy"],
            Tags=aws_tags(self.tags_all(news)),
        )["Policy"]
        return created["Arn"], self.read(created["Arn"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            policy = self.iam.get_policy(PolicyArn=resource_id)["Policy"]
            version = self.iam.get_policy_version(PolicyArn=resource_id, VersionId=policy["DefaultVersionId"])
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        tags = tag_map(self.iam.list_policy_tags(PolicyArn=resource_id).get("Tags"))
        return {
            "arn": resource_id,
            "name": policy["PolicyName"],
            "path": policy.get("Path", "/"),
            "description": policy.get("Description", olds.get("description") or ""),
            "policyId": policy["PolicyId"],
            "attachmentCount": policy.get("AttachmentCount", 0),
            "policy": policy_text(version["PolicyVersion"]["Document"], olds.get("policy")),
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        if news["policy"] != olds.get("policy"):
            # IAM keeps five versions: drop the oldest non-default one first, as the real provider does.
            versions = self.iam.list_policy_versions(PolicyArn=resource_id)["Versions"]
            if len(versions) >= 5:
                oldest = min(
                    (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
                )
                self.iam.delete_policy_version(PolicyArn=resource_id, VersionId=oldest["VersionId"])
            self.iam.create_policy_version(
                PolicyArn=resource_id, PolicyDocument=news["policy"], SetAsDefault=True
            )
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.iam.untag_policy(PolicyArn=resource_id, TagKeys=to_remove)
        if to_set:
            self.iam.tag_policy(PolicyArn=resource_id, Tags=aws_tags(to_set))
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            for version in self.iam.list_policy_versions(PolicyArn=resource_id)["Versions"]:
                if not version["IsDefaultVersion"]:
                    self.iam.delete_policy_version(PolicyArn=resource_id, VersionId=version["VersionId"])
            self.iam.delete_policy(PolicyArn=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


class RolePolicyAttachment(ResourceHandler):
    token = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    inputs = frozenset({"role", "policyArn"})
    replace_on = frozenset({"role", "policyArn"})

    @property
    def iam(self) -> Any:
        return self.aws.client("iam")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.iam.attach_role_policy(RoleName=news["role"], PolicyArn=news["policyArn"])
        return f"{news['role']}/{news['policyArn']}", {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        role, _, arn = resource_id.partition("/")
        try:
            pages = self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            attached = {p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]}
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {"role": role, "policyArn": arn} if arn in attached else None

    def delete(self, resource_id: str, olds: Props) -> None:
        role, _, arn = resource_id.partition("/")
        try:
            self.iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Policy, RolePolicyAttachment)
