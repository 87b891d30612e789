"""Type token -> handler class, and data source token -> function. The served set is docs/contracts.md's."""

from __future__ import annotations

from . import (
    cloudtrail,
    config_service,
    ec2,
    events,
    iam,
    iam_managed,
    kms,
    logs,
    organizations,
    route53resolver,
    s3,
    sns,
    sns_policy,
    sqs,
    ssm,
    ssm_parameter,
)
from .base import ResourceHandler
from .datasources import DataSource

_MODULES = (ec2, s3, iam, kms, logs, sns, ssm, route53resolver)
_DAY_ZERO_MODULES = (
    iam_managed,
    cloudtrail,
    config_service,
    events,
    sns_policy,
    ssm_parameter,
    organizations,
    sqs,
)

RESOURCES: dict[str, type[ResourceHandler]] = {
    handler.token: handler for module in (*_MODULES, *_DAY_ZERO_MODULES) for handler in module.HANDLERS
}

DATA_SOURCES: dict[str, DataSource] = {
    source.token: source
    for module in (*_MODULES, *_DAY_ZERO_MODULES)
    for source in getattr(module, "DATA_SOURCES", ())
}


def handler_for(token: str) -> type[ResourceHandler] | None:
    return RESOURCES.get(token)


def data_source_for(token: str) -> DataSource | None:
    return DATA_SOURCES.get(token)


__all__ = ["DATA_SOURCES", "RESOURCES", "data_source_for", "handler_for"]
