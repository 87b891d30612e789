"""IAM: role, inline role policy, instance profile."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, drop_none, ints, not_found, tag_map
from .values import Props


def policy_text(current: Any, declared: str | None) -> str:
    """The declared document if AWS holds the same policy (AWS reformats and may URL-encode), else AWS's."""
    if isinstance(current, str):
        current = urllib.parse.unquote(current)
        try:
            current = json.loads(current)
        except ValueError:
            return str(current)
    if declared:
        try:
            if json.loads(declared) == current:
                return declared
        except ValueError:
            pass
    return json.dumps(current)


class IamHandler(ResourceHandler):
    @property
    def iam(self) -> Any:
        return self.aws.client("iam")


class Role(IamHandler):
    token = "aws:iam/role:Role"
    inputs = frozenset(
        {
            "name",
            "namePrefix",
            "path",
            "description",
            "assumeRolePolicy",
            "maxSessionDuration",
            "forceDetachPolicies",
            "permissionsBoundary",
            "managedPolicyArns",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "uniqueId",
            "createDate",
            "name",
            "path",
            "description",
            "maxSessionDuration",
            "assumeRolePolicy",
            "permissionsBoundary",
            "managedPolicyArns",
        }
    )
    replace_on = frozenset({"name", "namePrefix", "path"})
    autoname = "name"
    autoname_max_len = 64
    taggable = True

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        role_name = news["name"]
        tags = self.tags_all(news)
        self.iam.create_role(
            **drop_none(
                {
                    "RoleName": role_name,
                    "Path": news.get("path") or "/",
                    "AssumeRolePolicyDocument": news["assumeRolePolicy"],
                    "Description": news.get("description") or None,
                    "MaxSessionDuration": ints(news.get("maxSessionDuration")),
                    "PermissionsBoundary": news.get("permissionsBoundary") or None,
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()] or None,
                }
            )
        )
        for arn in news.get("managedPolicyArns") or []:
            self.iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
        return role_name, self.read(role_name, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            role = self.iam.get_role(RoleName=resource_id)["Role"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        out: Props = {
            "name": role["RoleName"],
            "arn": role["Arn"],
            "uniqueId": role["RoleId"],
            "path": role.get("Path", "/"),
            "createDate": role["CreateDate"].isoformat() if role.get("CreateDate") else "",
            "description": role.get("Description", ""),
            "maxSessionDuration": role.get("MaxSessionDuration", 3600),
            "assumeRolePolicy": policy_text(
                role.get("AssumeRolePolicyDocument"), olds.get("assumeRolePolicy")
            ),
            "permissionsBoundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", ""),
            **self.tag_outputs(tag_map(role.get("Tags")), olds),
        }
        if "managedPolicyArns" in olds:  # deprecated exclusive management: only reported when used
            attached = self.iam.list_attached_role_policies(RoleName=resource_id)["AttachedPolicies"]
            out["managedPolicyArns"] = sorted(p["PolicyArn"] for p in attached)
        return out

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        iam = self.iam
        if (
            news.get("assumeRolePolicy")
            and policy_text(olds.get("assumeRolePolicy"), news["assumeRolePolicy"])
            != news["assumeRolePolicy"]
        ):
            iam.update_assume_role_policy(RoleName=resource_id, PolicyDocument=news["assumeRolePolicy"])
        if (news.get("description") or "") != (olds.get("description") or "") or (
            news.get("maxSessionDuration") is not None
            and news.get("maxSessionDuration") != olds.get("maxSessionDuration")
        ):
            iam.update_role(
                **drop_none(
                    {
                        "RoleName": resource_id,
                        "Description": news.get("description") or "",
                        "MaxSessionDuration": ints(news.get("maxSessionDuration")),
                    }
                )
            )
        boundary = news.get("permissionsBoundary") or ""
        if boundary != (olds.get("permissionsBoundary") or ""):
            if boundary:
                iam.put_role_permissions_boundary(RoleName=resource_id, PermissionsBoundary=boundary)
            else:
                iam.delete_role_permissions_boundary(RoleName=resource_id)
        if "managedPolicyArns" in news:
            old, new = set(olds.get("managedPolicyArns") or []), set(news.get("managedPolicyArns") or [])
            for arn in new - old:
                iam.attach_role_policy(RoleName=resource_id, PolicyArn=arn)
            for arn in old - new:
                iam.detach_role_policy(RoleName=resource_id, PolicyArn=arn)
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            iam.untag_role(RoleName=resource_id, TagKeys=to_remove)
        if to_set:
            iam.tag_role(RoleName=resource_id, Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        iam = self.iam
        try:
            # As pulumi-aws: always leave instance profiles; policies only with forceDetachPolicies.
            for profile in iam.list_instance_profiles_for_role(RoleName=resource_id)["InstanceProfiles"]:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=profile["InstanceProfileName"], RoleName=resource_id
                )
            if olds.get("forceDetachPolicies") or olds.get("managedPolicyArns"):
                for policy in iam.list_attached_role_policies(RoleName=resource_id)["AttachedPolicies"]:
                    iam.detach_role_policy(RoleName=resource_id, PolicyArn=policy["PolicyArn"])
            if olds.get("forceDetachPolicies"):
                for policy_name in iam.list_role_policies(RoleName=resource_id)["PolicyNames"]:
                    iam.delete_role_policy(RoleName=resource_id, PolicyName=policy_name)
            iam.delete_role(RoleName=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


class RolePolicy(IamHandler):
    token = "aws:iam/rolePolicy:RolePolicy"
    inputs = frozenset({"role", "name", "namePrefix", "policy"})
    outputs = frozenset({"name"})
    replace_on = frozenset({"role", "name", "namePrefix"})
    autoname = "name"
    autoname_max_len = 128

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.iam.put_role_policy(
            RoleName=news["role"], PolicyName=news["name"], PolicyDocument=news["policy"]
        )
        return f"{news['role']}:{news['name']}", {"name": news["name"]}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        role, _, policy_name = resource_id.partition(":")
        try:
            got = self.iam.get_role_policy(RoleName=role, PolicyName=policy_name)
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        return {
            "role": role,
            "name": policy_name,
            "policy": policy_text(got["PolicyDocument"], olds.get("policy")),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        role, _, policy_name = resource_id.partition(":")
        self.iam.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=news["policy"])
        return {"name": policy_name}

    def delete(self, resource_id: str, olds: Props) -> None:
        role, _, policy_name = resource_id.partition(":")
        try:
            self.iam.delete_role_policy(RoleName=role, PolicyName=policy_name)
        except ClientError as exc:
            if not not_found(exc):
                raise


class InstanceProfile(IamHandler):
    token = "aws:iam/instanceProfile:InstanceProfile"
    inputs = frozenset({"name", "namePrefix", "path", "role"})
    outputs = frozenset({"arn", "uniqueId", "createDate", "name", "path", "role"})
    replace_on = frozenset({"name", "namePrefix", "path"})
    autoname = "name"
    autoname_max_len = 128
    taggable = True

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        profile_name = news["name"]
        tags = self.tags_all(news)
        self.iam.create_instance_profile(
            **drop_none(
                {
                    "InstanceProfileName": profile_name,
                    "Path": news.get("path") or "/",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()] or None,
                }
            )
        )
        if news.get("role"):
            self.iam.add_role_to_instance_profile(InstanceProfileName=profile_name, RoleName=news["role"])
        return profile_name, self.read(profile_name, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            profile = self.iam.get_instance_profile(InstanceProfileName=resource_id)["InstanceProfile"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        roles = profile.get("Roles", [])
        return {
            "name": profile["InstanceProfileName"],
            "arn": profile["Arn"],
            "uniqueId": profile["InstanceProfileId"],
            "path": profile.get("Path", "/"),
            "createDate": profile["CreateDate"].isoformat() if profile.get("CreateDate") else "",
            "role": roles[0]["RoleName"] if roles else "",
            **self.tag_outputs(tag_map(profile.get("Tags")), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        iam = self.iam
        if (news.get("role") or "") != (olds.get("role") or ""):
            if olds.get("role"):
                iam.remove_role_from_instance_profile(InstanceProfileName=resource_id, RoleName=olds["role"])
            if news.get("role"):
                iam.add_role_to_instance_profile(InstanceProfileName=resource_id, RoleName=news["role"])
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            iam.untag_instance_profile(InstanceProfileName=resource_id, TagKeys=to_remove)
        if to_set:
            iam.tag_instance_profile(
                InstanceProfileName=resource_id, Tags=[{"Key": k, "Value": v} for k, v in to_set.items()]
            )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        iam = self.iam
        try:
            profile = iam.get_instance_profile(InstanceProfileName=resource_id)["InstanceProfile"]
            for role in profile.get("Roles", []):
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=resource_id, RoleName=role["RoleName"]
                )
            iam.delete_instance_profile(InstanceProfileName=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Role, RolePolicy, InstanceProfile)
