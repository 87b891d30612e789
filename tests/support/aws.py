"""Clients acting as one of a clean room's roles in the local AWS (what a person's tooling would hold), or as
one of the roles the service assumes (to see what the service sees); clients over any credentials
(``clients_with``); and how AWS refuses a call (``refusal``, ``denied``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from service.config import LOCAL_DEPLOY_ROLE, LOCAL_SNAPSHOT_ROLE
from tools.local_aws.aws import LocalAws

# The roles day zero makes for the service alone (their trust names only the service's identity): the
# deploy role of a forensic account, the evidence role of a source account.
SERVICE_ROLES = (LOCAL_DEPLOY_ROLE, LOCAL_SNAPSHOT_ROLE)

# A function that makes a client of any service (its name) acting as one identity.
Clients = Callable[[str], Any]


def clients_with(
    credentials: Mapping[str, Any],
    *,
    endpoint_url: str | None,
    region: str,
    verify: bool = False,
    config: Config | None = None,
) -> Clients:
    """Clients acting with ``credentials`` as AWS hands them out (``AccessKeyId``, ``SecretAccessKey`` and,
    for an assumed role's session, ``SessionToken``), at ``endpoint_url`` (None: real AWS, or moto's
    in-process mock). ``verify`` is off by default: the suite reaches its local AWS with checks off
    (tools/local_aws/aws.py)."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials.get("SessionToken"),
            verify=verify,
            config=config,
        )

    return client


def assuming_keys(local_aws: LocalAws, role_arn: str) -> tuple[str, str]:
    """Whose keys assume ``role_arn``: the service's (when the local AWS has its identity, tests/conftest.py)
    for a role trusted only by the service, else the operator's."""
    if local_aws.service_credentials and role_arn.rsplit("/", 1)[-1] in SERVICE_ROLES:
        return local_aws.service_credentials
    return local_aws.access_key_id, local_aws.secret_access_key


def role_session(
    local_aws: LocalAws, role_arn: str, session_name: str = "test-person", **assume: Any
) -> Clients:
    """One assumed-role session of `role_arn`: a function that makes a client of any service acting in it."""
    sts = local_aws._client("sts", *assuming_keys(local_aws, role_arn))
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, **assume)["Credentials"]
    return clients_with(creds, endpoint_url=local_aws.endpoint_url, region=local_aws.region)


def client_as(local_aws: LocalAws, role_arn: str, service: str, **assume: Any) -> Any:
    return role_session(local_aws, role_arn, **assume)(service)


@dataclass(frozen=True)
class Refusal:
    """How AWS refused a call: its error code (the JSON protocols' ``...Exception`` suffix dropped, so
    that ``AccessDeniedException`` reads as ``AccessDenied``, as the query and XML protocols answer) and
    its message."""

    code: str
    message: str


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Refusal:
    """How ``call(*args, **kwargs)`` is refused; a call that is not refused fails the test."""
    with pytest.raises(ClientError) as refused:
        call(*args, **kwargs)
    error = refused.value.response["Error"]
    return Refusal(str(error["Code"]).removesuffix("Exception"), str(error.get("Message", "")))


def denied(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The error code ``call(*args, **kwargs)`` is refused with (``refusal``); a call that is not refused
    fails the test."""
    return refusal(call, *args, **kwargs).code
