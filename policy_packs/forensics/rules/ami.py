"""Everything that launches instances launches a fresh golden AMI from an allowed owner, as EC2 itself says.

A tag or output about the image is written by the program, so whoever controls the program (or its config)
would choose what the rule sees. The rule therefore asks EC2: for every image id an instance-launching
resource names (``launch.LAUNCH_SPEC_TYPES``), DescribeImages in the stack's region and forensic account, as
the deployment (``aws_access``), and judges the image's real CreationDate and OwnerId. Whatever cannot be
judged (an image id not known yet, EC2 unreachable or refusing) is a violation, never a pass.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pulumi_policy import PolicyConfigSchema

from programs.forensic_env.config import DEFAULT_AMI_OWNERS, DEFAULT_MAX_AMI_AGE_DAYS

from . import aws_access
from .base import UNKNOWN, ReportFn, Rule, as_list, is_unknown, props_of
from .launch import (
    INSTANCE,
    KIND,
    LAUNCH_CONFIGURATION,
    LAUNCH_SPEC_TYPES,
    LAUNCH_TEMPLATE,
    SPOT_FLEET_REQUEST,
    SPOT_INSTANCE_REQUEST,
)

# The service's max_ami_age_days setting, which the engine child's environment carries to this process.
ENV_MAX_AMI_AGE_DAYS = "FORENSICS_MAX_AMI_AGE_DAYS"
# The service's golden_ami_owner_accounts setting (JSON list of "self" or account ids), carried the same way.
ENV_AMI_OWNERS = "FORENSICS_POLICY_AMI_OWNERS"
# When the clean room was opened (ISO 8601, set by the service from its database): the image must have been
# fresh then. Judged against the time of each operation, a freeze months later would be refused because the
# workstation's image has aged since, and a clean room must always be freezable. Absent: now.
ENV_AMI_JUDGED_AT = "FORENSICS_POLICY_AMI_JUDGED_AT"
CONFIG_KEY = "maxAmiAgeDays"
STACK_CONFIG_KEY = "forensics:maxAmiAgeDays"
SSM_IMAGE_PREFIX = "resolve:ssm:"


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


def allowed_owners() -> list[str]:
    """The owners golden AMIs may come from ("self" or account ids); the program's default when unset."""
    raw = os.environ.get(ENV_AMI_OWNERS)
    if raw is None or not raw.strip():
        return list(DEFAULT_AMI_OWNERS)
    try:
        owners = json.loads(raw)
    except ValueError as exc:
        raise aws_access.AwsAccessError(f"{ENV_AMI_OWNERS} is not a JSON list: {exc}") from exc
    if not isinstance(owners, list) or not all(isinstance(o, str) and o for o in owners):
        raise aws_access.AwsAccessError(f"{ENV_AMI_OWNERS} is not a list of owners: {raw!r}")
    return owners


@dataclass(frozen=True)
class ImageReference:
    where: str  # "instance 'ws'", "spot fleet request 'sf' launchSpecifications[0]"
    prop: str  # the property naming the image
    value: Any  # an image id, UNKNOWN, or None when nothing is named


def _unset(value: Any) -> bool:
    return value is None or value == ""


def image_references(rtype: str, name: str, props: dict[str, Any]) -> list[ImageReference]:
    """The images a resource launches, as it names them itself ([] for other types)."""
    if rtype not in LAUNCH_SPEC_TYPES:
        return []
    where = f"{KIND[rtype]} '{name}'"
    if rtype in (INSTANCE, SPOT_INSTANCE_REQUEST):
        ami = props.get("ami")
        if _unset(ami) and props.get("launchTemplate") is not None:
            return []  # the template names the image, and is judged itself (launch-templates-in-stack)
        return [ImageReference(where, "ami", None if _unset(ami) else ami)]
    if rtype in (LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION):
        image = props.get("imageId")
        if _unset(image) and rtype == LAUNCH_TEMPLATE:
            return []  # whatever launches from it names the image, and is judged itself
        return [ImageReference(where, "imageId", None if _unset(image) else image)]
    assert rtype == SPOT_FLEET_REQUEST
    specs = props.get("launchSpecifications")
    if is_unknown(specs):
        return [ImageReference(where, "launchSpecifications", UNKNOWN)]
    found: list[ImageReference] = []
    for index, spec in enumerate(as_list(specs)):
        path = f"launchSpecifications[{index}]"
        ami = UNKNOWN if is_unknown(spec) else spec.get("ami") if isinstance(spec, dict) else None
        found.append(ImageReference(f"{where} {path}", "ami", None if _unset(ami) else ami))
    return found


def _parse_creation_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        created = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def _owner_problem(image: dict[str, Any], owners: list[str], account_id: str) -> str | None:
    accounts = {account_id if owner == "self" else owner for owner in owners}
    owner = str(image.get("OwnerId") or "")
    if owner in accounts:
        return None
    shown = ", ".join(f"self ({account_id})" if o == "self" else o for o in owners)
    return f"is owned by {owner or 'no account'}, which is not an allowed golden AMI owner ({shown})"


def _image_problem(ref: ImageReference, limit: int, now: datetime) -> str | None:
    value = ref.value
    if value is None:
        return f"names no image ({ref.prop})"
    if is_unknown(value):
        return (
            f"takes its image ({ref.prop}) from a value not known yet, so the image's age and owner cannot "
            "be checked: launch the golden AMI by an image id known at preview (a data source or config)"
        )
    if not isinstance(value, str):
        return f"names {value!r} as its image ({ref.prop}), which is not an image id"
    if value.startswith(SSM_IMAGE_PREFIX):
        return (
            f"names its image through an SSM parameter ({ref.prop}={value!r}), which EC2 resolves only at "
            "launch, so the image launched cannot be checked: name the image id"
        )
    try:
        connection = aws_access.connect()
        owners = allowed_owners()
    except aws_access.AwsAccessError as exc:
        return f"launches image {value}, which cannot be checked ({exc}); the rule fails closed"
    try:
        images = connection.ec2.describe_images(ImageIds=[value]).get("Images") or []
    except Exception as exc:
        code = str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""
        if not code.startswith("InvalidAMIID"):
            reason = aws_access.describe_error(exc)
            return f"launches image {value}, which EC2 would not describe ({reason}); the rule fails closed"
        images = []
    image = next((i for i in images if isinstance(i, dict) and i.get("ImageId") == value), None)
    if image is None:
        return (
            f"launches image {value}, which EC2 does not know in {connection.region} "
            f"(account {connection.account_id})"
        )
    owner_problem = _owner_problem(image, owners, connection.account_id)
    if owner_problem:
        return f"launches image {value}, which {owner_problem}"
    creation = image.get("CreationDate")
    created = _parse_creation_date(creation)
    if created is None:
        return f"launches image {value}, for which EC2 reports no usable creation date ({creation!r})"
    if now - created > timedelta(days=limit):
        days = (now - created).days
        when = (
            f"{days} days before the clean room opened on {now:%Y-%m-%d}"
            if os.environ.get(ENV_AMI_JUDGED_AT)
            else f"{days} days ago"
        )
        return f"launches image {value}, created {creation} ({when}); the limit is {limit} days"
    return None


def judged_at() -> datetime:
    raw = os.environ.get(ENV_AMI_JUDGED_AT)
    if not raw:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)  # the stricter choice: now is never earlier than when the room opened
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_golden_ami_fresh(args: Any, report: ReportFn) -> None:
    refs = image_references(args.resource_type, args.name, props_of(args))
    if not refs:
        return
    limit = max_ami_age_days(args)
    now = judged_at()
    for ref in refs:
        problem = _image_problem(ref, limit, now)
        if problem:
            report(f"{ref.where} {problem}")


RULES = [
    Rule(
        name="golden-ami-fresh",
        description="Everything that launches EC2 instances (instances, spot requests, launch templates, "
        "launch configurations, spot fleet launch specifications) launches an image that EC2, asked in the "
        "stack's region and forensic account, says is owned by an allowed golden AMI owner and is no older "
        f"than maxAmiAgeDays (default {DEFAULT_MAX_AMI_AGE_DAYS}). Tags and outputs about the image count "
        "for nothing; an image that cannot be checked is a violation.",
        remediation=(
            "publish a fresh golden AMI from an allowed owner and launch it by its image id (known at "
            "preview); the deployment's identity must be allowed ec2:DescribeImages"
        ),
        check=check_golden_ami_fresh,
        config_schema=PolicyConfigSchema(
            properties={CONFIG_KEY: {"type": "integer", "minimum": 0}},
        ),
        resource_types=LAUNCH_SPEC_TYPES,
    ),
]
