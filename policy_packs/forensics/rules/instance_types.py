"""Instance types: whatever launches instances uses a type from the operator's allowlist.

The list comes from the service's ``allowed_instance_types`` setting, which the engine child's environment
carries to this process (``FORENSICS_POLICY_INSTANCE_TYPES``, a JSON list); the program's default list when
unset. The API refuses other types before anything is queued; this rule is the last word for any stack, so a
request that slips past the API (or a program change) still creates nothing.
"""

from __future__ import annotations

import json
import os
from typing import Any

from programs.forensic_env.config import DEFAULT_ALLOWED_INSTANCE_TYPES

from .base import ReportFn, Rule, as_list, get, is_unknown, props_of
from .launch import (
    INSTANCE,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    SPOT_FLEET_REQUEST,
    SPOT_INSTANCE_REQUEST,
)

ENV_INSTANCE_TYPES = "FORENSICS_POLICY_INSTANCE_TYPES"
CHECKED_TYPES = (INSTANCE, SPOT_INSTANCE_REQUEST, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, SPOT_FLEET_REQUEST)


class InstanceTypesError(ValueError):
    """The allowlist in the environment is not a JSON list of type names (refuse rather than allow all)."""


def allowed_instance_types() -> list[str]:
    raw = os.environ.get(ENV_INSTANCE_TYPES)
    if raw is None or not raw.strip():
        return list(DEFAULT_ALLOWED_INSTANCE_TYPES)
    try:
        types = json.loads(raw)
    except ValueError as exc:
        raise InstanceTypesError(f"{ENV_INSTANCE_TYPES} is not a JSON list: {exc}") from exc
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        raise InstanceTypesError(f"{ENV_INSTANCE_TYPES} is not a list of instance types: {raw!r}")
    return types


def _declared_types(rtype: str, props: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, instance type) of every launch the resource declares; the type may be UNKNOWN in a preview."""
    if rtype == SPOT_FLEET_REQUEST:
        listed = props.get("launchSpecifications")
        specs = [] if is_unknown(listed) else as_list(listed)
        return [
            (f"launchSpecifications[{i}].instanceType", get(spec, "instanceType"))
            for i, spec in enumerate(specs)
        ]
    return [("instanceType", props.get("instanceType"))]


def check_instance_type_allowed(args: Any, report: ReportFn) -> None:
    if args.resource_type not in CHECKED_TYPES:
        return
    allowed = allowed_instance_types()
    for where, value in _declared_types(args.resource_type, props_of(args)):
        if value is None or is_unknown(value):
            continue  # not set (a template decides) or not known yet (judged again at the update)
        if str(value) not in allowed:
            report(
                f"'{args.name}' {where} is {value!r}, which is not an allowed instance type "
                f"(allowed: {', '.join(allowed)})"
            )


RULES = [
    Rule(
        name="instance-type-allowed",
        description="Instances, spot requests, launch templates, launch configurations and spot fleets use "
        "an instance type from the operator's allowlist (FORENSICS_ALLOWED_INSTANCE_TYPES).",
        remediation="choose an allowed instance type, or have the operator add it to "
        "FORENSICS_ALLOWED_INSTANCE_TYPES",
        check=check_instance_type_allowed,
        resource_types=CHECKED_TYPES,
    ),
]
