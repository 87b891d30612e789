"""AWS Config recording every supported resource of the account (global ones in this region's stack)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import CONFIG_RECORDER_NAME, AccountConfig
from programs.forensic_account.permissions import CONFIG_ROLE_NAME, config_recorder_trust
from programs.forensic_account.tags import baseline_tags
from programs.forensic_account.trail import CONFIG_PREFIX

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"


class ConfigRecording(pulumi.ComponentResource):
    recorder: aws.cfg.Recorder
    status: aws.cfg.RecorderStatus

    def __init__(
        self,
        name: str,
        cfg: AccountConfig,
        bucket: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:baseline:ConfigRecording", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=CONFIG_ROLE_NAME,
            assume_role_policy=config_recorder_trust(),
            tags=baseline_tags("config", CONFIG_ROLE_NAME),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy", role=role.name, policy_arn=CONFIG_ROLE_POLICY, opts=child
        )
        self.recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            name=CONFIG_RECORDER_NAME,
            role_arn=role.arn,
            recording_group={"all_supported": True, "include_global_resource_types": True},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-channel",
            name=CONFIG_RECORDER_NAME,
            s3_bucket_name=bucket,
            s3_key_prefix=CONFIG_PREFIX,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.recorder]),
        )
        self.status = aws.cfg.RecorderStatus(
            f"{name}-status",
            name=self.recorder.name,
            is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]),
        )
        self.register_outputs({"recorder": self.recorder.name})
