"""The golden AMI: the SSM parameter the clean room reads, and (with `goldenImagePipeline`) an EC2 Image
Builder pipeline that rebuilds the image monthly from the approved base image with a hardening component and
writes each new image id into that parameter. The local AWS has no Image Builder: locally the pipeline is off
and the parameter holds the seeded base image."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from programs.forensic_account.config import AccountConfig
from programs.forensic_account.permissions import document
from programs.forensic_account.tags import baseline_tags

PIPELINE_NAME = "forensics-golden-ami"
# Outside the `forensics-` prefix the deploy role manages: a clean room never touches the image builder.
BUILDER_ROLE_NAME = "imagebuilder-forensics-golden-ami"
# 04:00 UTC on the first of every month (Image Builder's cron has six fields, year last).
MONTHLY = "cron(0 4 1 * ? *)"
BUILDER_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
)
# The forensic workstation's hardening: no inbound SSH, patched, audit logging on, memory tools present.
HARDENING_COMPONENT = """\
name: forensics-hardening
description: Harden the forensic workstation image
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Patch
        action: UpdateOS
      - name: Harden
        action: ExecuteBash
        inputs:
          commands:
            - systemctl disable --now sshd || true
            - systemctl enable auditd || true
            - sysctl -w kernel.kptr_restrict=2
            - echo 'kernel.kptr_restrict = 2' > /etc/sysctl.d/90-forensics.conf
"""


class GoldenImage(pulumi.ComponentResource):
    parameter: aws.ssm.Parameter | None
    pipeline: aws.imagebuilder.ImagePipeline | None

    def __init__(self, name: str, cfg: AccountConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("forensics:baseline:GoldenImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.parameter = None
        self.pipeline = None
        if cfg.base_image_id:
            # The pipeline owns the value after the first build: later `up`s leave it alone.
            self.parameter = aws.ssm.Parameter(
                f"{name}-parameter",
                name=cfg.golden_ami_ssm_parameter,
                type="String",
                data_type="aws:ec2:image",
                insecure_value=cfg.base_image_id,
                tags=baseline_tags("golden-image"),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["insecureValue"]),
            )
        if not cfg.golden_image_pipeline:
            self.register_outputs({})
            return
        role = aws.iam.Role(
            f"{name}-builder-role",
            name=BUILDER_ROLE_NAME,
            assume_role_policy=document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            ),
            tags=baseline_tags("golden-image", BUILDER_ROLE_NAME),
            opts=child,
        )
        for n, arn in enumerate(BUILDER_MANAGED_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-builder-policy-{n}", role=role.name, policy_arn=arn, opts=child
            )
        profile = aws.iam.InstanceProfile(
            f"{name}-builder-profile",
            name=BUILDER_ROLE_NAME,
            role=role.name,
            tags=baseline_tags("golden-image", BUILDER_ROLE_NAME),
            opts=child,
        )
        component = aws.imagebuilder.Component(
            f"{name}-hardening",
            name="forensics-hardening",
            platform="Linux",
            version="1.0.0",
            data=HARDENING_COMPONENT,
            tags=baseline_tags("golden-image"),
            opts=child,
        )
        recipe = aws.imagebuilder.ImageRecipe(
            f"{name}-recipe",
            name=PIPELINE_NAME,
            parent_image=cfg.base_image_id,
            version="1.0.0",
            components=[{"component_arn": component.arn}],
            tags=baseline_tags("golden-image"),
            opts=child,
        )
        infrastructure = aws.imagebuilder.InfrastructureConfiguration(
            f"{name}-infrastructure",
            name=PIPELINE_NAME,
            instance_profile_name=profile.name,
            instance_types=["t3.large"],
            terminate_instance_on_failure=True,
            instance_metadata_options={"http_tokens": "required"},
            tags=baseline_tags("golden-image"),
            opts=child,
        )
        distribution = aws.imagebuilder.DistributionConfiguration(
            f"{name}-distribution",
            name=PIPELINE_NAME,
            distributions=[
                {
                    "region": cfg.region,
                    "ami_distribution_configuration": {
                        "name": "forensics-golden-{{ imagebuilder:buildDate }}",
                        "ami_tags": baseline_tags("golden-image"),
                    },
                    "ssm_parameter_configurations": [
                        {"parameter_name": cfg.golden_ami_ssm_parameter, "data_type": "aws:ec2:image"}
                    ],
                }
            ],
            tags=baseline_tags("golden-image"),
            opts=child,
        )
        self.pipeline = aws.imagebuilder.ImagePipeline(
            f"{name}-pipeline",
            name=PIPELINE_NAME,
            image_recipe_arn=recipe.arn,
            infrastructure_configuration_arn=infrastructure.arn,
            distribution_configuration_arn=distribution.arn,
            schedule={
                "schedule_expression": MONTHLY,
                "pipeline_execution_start_condition": "EXPRESSION_MATCH_ONLY",
            },
            status="ENABLED",
            tags=baseline_tags("golden-image"),
            opts=child,
        )
        self.register_outputs({"pipelineArn": self.pipeline.arn})
