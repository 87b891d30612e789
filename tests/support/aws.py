"""Clients acting as one of a clean room's roles in the local AWS (what a person's tooling would hold)."""

from __future__ import annotations

from typing import Any

import boto3

from tools.local_aws.aws import LocalAws


def client_as(local_aws: LocalAws, role_arn: str, service: str, **assume: Any) -> Any:
    creds = local_aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test-person", **assume)[
        "Credentials"
    ]
    return boto3.client(
        service,
        endpoint_url=local_aws.endpoint_url,
        region_name=local_aws.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        verify=False,
    )
