"""The workstation runs a fresh golden AMI.

Policies see resources, not stack outputs, so the program records the image age on the instance as the tag
`forensics:ami-age-days`; this rule compares it with the limit.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from pulumi_policy import PolicyConfigSchema

from programs.forensic_env.config import DEFAULT_MAX_AMI_AGE_DAYS

from .base import ReportFn, Rule, is_unknown, props_of

INSTANCE = "aws:ec2/instance:Instance"
AMI_AGE_TAG = "forensics:ami-age-days"
AMI_CREATION_DATE_TAG = "forensics:ami-creation-date"  # fallback: the image's creationDate (ISO 8601)
# The service's max_ami_age_days setting, which the engine child's environment carries to this process.
ENV_MAX_AMI_AGE_DAYS = "FORENSICS_MAX_AMI_AGE_DAYS"
CONFIG_KEY = "maxAmiAgeDays"
STACK_CONFIG_KEY = "forensics:maxAmiAgeDays"


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool) or is_unknown(value):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            as_float = float(str(value).strip())
        except ValueError:
            return None
        return int(as_float) if as_float.is_integer() else None


def _stack_config_max() -> int | None:
    """`forensics:maxAmiAgeDays` from the stack config, which the engine passes to the pack's process."""
    try:
        import pulumi.runtime

        return _as_int(pulumi.runtime.get_config(STACK_CONFIG_KEY))
    except Exception:
        return None


def max_ami_age_days(args: Any = None) -> int:
    """The limit: policy config `maxAmiAgeDays`, else env FORENSICS_MAX_AMI_AGE_DAYS, else stack config
    `forensics:maxAmiAgeDays`, else the program's default (DEFAULT_MAX_AMI_AGE_DAYS)."""
    get_config = getattr(args, "get_config", None)
    if callable(get_config):
        try:
            configured = _as_int((get_config() or {}).get(CONFIG_KEY))
        except Exception:
            configured = None
        if configured is not None:
            return configured
    from_env = _as_int(os.environ.get(ENV_MAX_AMI_AGE_DAYS))
    if from_env is not None:
        return from_env
    from_stack = _stack_config_max()
    if from_stack is not None:
        return from_stack
    return DEFAULT_MAX_AMI_AGE_DAYS


def age_from_creation_date(value: Any, now: datetime | None = None) -> int | None:
    """Whole days since an AMI creationDate such as 2024-05-01T10:20:30.000Z; None if unparseable."""
    if not isinstance(value, str) or is_unknown(value) or not value.strip():
        return None
    try:
        created = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return max(0, ((now or datetime.now(UTC)) - created).days)


def check_golden_ami_fresh(args: Any, report: ReportFn) -> None:
    if args.resource_type != INSTANCE:
        return
    tags = props_of(args).get("tags")
    if is_unknown(tags):
        return
    tags = tags if isinstance(tags, dict) else {}
    value = tags.get(AMI_AGE_TAG)
    if is_unknown(value):
        return
    if value is None or value == "":
        created = tags.get(AMI_CREATION_DATE_TAG)
        if is_unknown(created):
            return
        value = age_from_creation_date(created)
        if value is None:
            report(
                f"instance '{args.name}' has no {AMI_AGE_TAG} tag (nor a parseable {AMI_CREATION_DATE_TAG}), "
                "so the golden AMI's age is unknown"
            )
            return
    age = _as_int(value)
    if age is None or age < 0:
        report(f"instance '{args.name}' has {AMI_AGE_TAG}={value!r}, which is not a whole number of days")
        return
    limit = max_ami_age_days(args)
    if age > limit:
        report(f"instance '{args.name}' runs a golden AMI {age} days old; the limit is {limit} days")


RULES = [
    Rule(
        name="golden-ami-fresh",
        description="The workstation instance runs a golden AMI no older than maxAmiAgeDays "
        f"(default {DEFAULT_MAX_AMI_AGE_DAYS}), as recorded in its {AMI_AGE_TAG} tag.",
        remediation=(
            f"rebuild/publish a fresh golden AMI, and tag the instance with {AMI_AGE_TAG}=<whole days since "
            f"the image's creationDate> (or {AMI_CREATION_DATE_TAG}=<the image's creationDate>)"
        ),
        check=check_golden_ami_fresh,
        config_schema=PolicyConfigSchema(
            properties={CONFIG_KEY: {"type": "integer", "minimum": 0}},
        ),
        resource_types=(INSTANCE,),
    ),
]
