"""Clients acting as one of a clean room's roles in the local AWS (what a person's tooling would hold), or as
one of the roles the service assumes (to see what the service sees)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from service.config import LOCAL_DEPLOY_ROLE, LOCAL_SNAPSHOT_ROLE
from tools.local_aws.aws import LocalAws

# The roles day zero makes for the service alone (their trust names only the service's identity): the
# deploy role of a forensic account, the evidence role of a source account.
SERVICE_ROLES = (LOCAL_DEPLOY_ROLE, LOCAL_SNAPSHOT_ROLE)


def assuming_keys(local_aws: LocalAws, role_arn: str) -> tuple[str, str]:
    """Whose keys assume ``role_arn``: the service's (when the local AWS has its identity, tests/conftest.py)
    for a role trusted only by the service, else the operator's."""
    if local_aws.service_credentials and role_arn.rsplit("/", 1)[-1] in SERVICE_ROLES:
        return local_aws.service_credentials
    return local_aws.access_key_id, local_aws.secret_access_key


def role_session(
    local_aws: LocalAws, role_arn: str, session_name: str = "test-person", **assume: Any
) -> Callable[[str], Any]:
    """One assumed-role session of `role_arn`: a function that makes a client of any service acting in it."""
    sts = local_aws._client("sts", *assuming_keys(local_aws, role_arn))
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, **assume)["Credentials"]

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


def denied(call: Callable[[], Any]) -> str:
    """The error code ``call`` is refused with, the JSON protocols' ``AccessDeniedException`` read as
    ``AccessDenied``; a call that is not refused fails the test."""
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"]).removesuffix("Exception")
