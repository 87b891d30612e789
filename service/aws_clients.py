"""boto3 clients for the service's own AWS calls (legal hold, seeding), acting in an investigation's forensic
account: with the deploy role of that account assumed when one is configured, the way the provider does it
(pulumi-aws ``assumeRoles``), so the service and the stack always act in the same account."""

from __future__ import annotations

from typing import Any

from service.config import Settings, tls_verify


def _base_credentials(settings: Settings) -> dict[str, Any]:
    if settings.target != "local":
        return {}  # the ambient AWS credentials (role, profile, environment)
    return {
        "aws_access_key_id": settings.aws_access_key_id,
        "aws_secret_access_key": settings.aws_secret_access_key.get_secret_value(),
    }


def available(settings: Settings) -> bool:
    """Whether there is an AWS to call: always for target=aws; locally only with the local AWS's endpoint
    (without it, clients would reach real AWS with the local placeholder keys)."""
    return settings.target != "local" or settings.aws_endpoint_url is not None


def client(
    settings: Settings,
    service: str,
    region: str | None = None,
    *,
    role_arn: str | None = None,
    session_name: str = "forensics-service",
) -> Any:
    # On first use: boto3 is slow to import, and not every process that imports this module makes a client.
    import boto3
    from botocore.config import Config

    region = region or settings.aws_region
    credentials = _base_credentials(settings)
    common: dict[str, Any] = {"endpoint_url": settings.aws_endpoint_url, "verify": tls_verify(settings)}
    if role_arn:
        sts = boto3.client("sts", region_name=region, **credentials, **common)
        # The role's trust may require an external id (the day-zero programs' `externalId`).
        external_id = settings.external_id_for(role_arn)
        extra = {"ExternalId": external_id} if external_id else {}
        assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64], **extra)["Credentials"]
        credentials = {
            "aws_access_key_id": assumed["AccessKeyId"],
            "aws_secret_access_key": assumed["SecretAccessKey"],
            "aws_session_token": assumed["SessionToken"],
        }
    options = (
        Config(s3={"addressing_style": "path"}) if service == "s3" and settings.aws_endpoint_url else None
    )
    return boto3.client(service, region_name=region, config=options, **credentials, **common)
