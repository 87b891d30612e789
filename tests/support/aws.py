"""Clients acting as one of a clean room's roles in the local AWS (what a person's tooling would hold)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from tools.local_aws.aws import LocalAws


def role_session(
    local_aws: LocalAws, role_arn: str, session_name: str = "test-person", **assume: Any
) -> Callable[[str], Any]:
    """One assumed-role session of `role_arn`: a function that makes a client of any service acting in it."""
    creds = local_aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name, **assume)[
        "Credentials"
    ]

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=local_aws.endpoint_url,
            region_name=local_aws.region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            verify=False,
        )

    return client


def client_as(local_aws: LocalAws, role_arn: str, service: str, **assume: Any) -> Any:
    return role_session(local_aws, role_arn, **assume)(service)
