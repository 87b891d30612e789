"""KMS: key and alias."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, drop_none, ints, not_found, tag_map
from .iam import policy_text
from .values import Props


class Key(ResourceHandler):
    token = "aws:kms/key:Key"
    inputs = frozenset(
        {
            "description",
            "keyUsage",
            "customerMasterKeySpec",
            "policy",
            "enableKeyRotation",
            "rotationPeriodInDays",
            "deletionWindowInDays",
            "isEnabled",
            "multiRegion",
            "bypassPolicyLockoutSafetyCheck",
            "customKeyStoreId",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "keyId",
            "description",
            "keyUsage",
            "customerMasterKeySpec",
            "policy",
            "enableKeyRotation",
            "isEnabled",
            "multiRegion",
            "rotationPeriodInDays",
        }
    )
    replace_on = frozenset({"keyUsage", "customerMasterKeySpec", "multiRegion", "customKeyStoreId"})
    taggable = True

    @property
    def kms(self) -> Any:
        return self.aws.client("kms")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        kms = self.kms
        tags = self.tags_all(news)
        meta = kms.create_key(
            **drop_none(
                {
                    "Description": news.get("description"),
                    "Policy": news.get("policy") or None,
                    "KeyUsage": news.get("keyUsage"),
                    "KeySpec": news.get("customerMasterKeySpec"),
                    "MultiRegion": news.get("multiRegion"),
                    "BypassPolicyLockoutSafetyCheck": news.get("bypassPolicyLockoutSafetyCheck"),
                    "CustomKeyStoreId": news.get("customKeyStoreId"),
                    "Tags": [{"TagKey": k, "TagValue": v} for k, v in tags.items()] or None,
                }
            )
        )["KeyMetadata"]
        key_id = meta["KeyId"]
        if news.get("enableKeyRotation"):
            kms.enable_key_rotation(
                **drop_none(
                    {
                        "KeyId": key_id,
                        "RotationPeriodInDays": ints(news.get("rotationPeriodInDays")),
                    }
                )
            )
        if news.get("isEnabled") is False:
            kms.disable_key(KeyId=key_id)
        return key_id, self.read(key_id, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        kms = self.kms
        try:
            meta = kms.describe_key(KeyId=resource_id)["KeyMetadata"]
        except ClientError as exc:
            if not_found(exc):
                return None
            raise
        if meta.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
            return None
        rotation = kms.get_key_rotation_status(KeyId=resource_id)
        policy = kms.get_key_policy(KeyId=resource_id, PolicyName="default")["Policy"]
        tags = tag_map(kms.list_resource_tags(KeyId=resource_id).get("Tags"), "TagKey", "TagValue")
        return {
            "arn": meta["Arn"],
            "keyId": meta["KeyId"],
            "description": meta.get("Description", ""),
            "keyUsage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "customerMasterKeySpec": meta.get("KeySpec")
            or meta.get("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"),
            "isEnabled": bool(meta.get("Enabled")),
            "multiRegion": bool(meta.get("MultiRegion")),
            "enableKeyRotation": bool(rotation.get("KeyRotationEnabled")),
            # moto may not report the period; AWS's default is 365 days.
            "rotationPeriodInDays": rotation.get("RotationPeriodInDays")
            or (ints(olds.get("rotationPeriodInDays")) or 365 if rotation.get("KeyRotationEnabled") else 0),
            "policy": policy_text(policy, olds.get("policy")),
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        kms = self.kms
        if (news.get("description") or "") != (olds.get("description") or ""):
            kms.update_key_description(KeyId=resource_id, Description=news.get("description") or "")
        if news.get("policy") and policy_text(olds.get("policy") or "{}", news["policy"]) != news["policy"]:
            kms.put_key_policy(
                **drop_none(
                    {
                        "KeyId": resource_id,
                        "PolicyName": "default",
                        "Policy": news["policy"],
                        "BypassPolicyLockoutSafetyCheck": news.get("bypassPolicyLockoutSafetyCheck"),
                    }
                )
            )
        rotation = bool(news.get("enableKeyRotation"))
        if rotation != bool(olds.get("enableKeyRotation")) or (
            rotation and news.get("rotationPeriodInDays") not in (None, olds.get("rotationPeriodInDays"))
        ):
            if rotation:
                kms.enable_key_rotation(
                    **drop_none(
                        {
                            "KeyId": resource_id,
                            "RotationPeriodInDays": ints(news.get("rotationPeriodInDays")),
                        }
                    )
                )
            else:
                kms.disable_key_rotation(KeyId=resource_id)
        enabled = news.get("isEnabled", True)
        if bool(enabled) != bool(olds.get("isEnabled", True)):
            (kms.enable_key if enabled else kms.disable_key)(KeyId=resource_id)
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            kms.untag_resource(KeyId=resource_id, TagKeys=to_remove)
        if to_set:
            kms.tag_resource(
                KeyId=resource_id, Tags=[{"TagKey": k, "TagValue": v} for k, v in to_set.items()]
            )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.kms.schedule_key_deletion(
                KeyId=resource_id, PendingWindowInDays=ints(olds.get("deletionWindowInDays")) or 30
            )
        except ClientError as exc:
            if not not_found(exc) and "pending deletion" not in str(exc).lower():
                raise


class Alias(ResourceHandler):
    token = "aws:kms/alias:Alias"
    inputs = frozenset({"name", "namePrefix", "targetKeyId"})
    outputs = frozenset({"arn", "name", "targetKeyArn"})
    replace_on = frozenset({"name", "namePrefix"})
    autoname = "name"
    autoname_prefix = "alias/"
    autoname_max_len = 256

    @property
    def kms(self) -> Any:
        return self.aws.client("kms")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.kms.create_alias(AliasName=news["name"], TargetKeyId=news["targetKeyId"])
        return news["name"], self.read(news["name"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        for page in self.kms.get_paginator("list_aliases").paginate():
            for alias in page.get("Aliases", []):
                if alias["AliasName"] == resource_id:
                    key_arn = self.kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
                    old_target = olds.get("targetKeyId") or ""
                    return {
                        "name": resource_id,
                        "arn": alias.get("AliasArn") or self.aws.arn("kms", resource_id),
                        # Keep the program's spelling (id or ARN) when it names the same key.
                        "targetKeyId": old_target
                        if old_target in (alias["TargetKeyId"], key_arn)
                        else alias["TargetKeyId"],
                        "targetKeyArn": key_arn,
                    }
        return None

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.kms.update_alias(AliasName=resource_id, TargetKeyId=news["targetKeyId"])
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.kms.delete_alias(AliasName=resource_id)
        except ClientError as exc:
            if not not_found(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Key, Alias)
