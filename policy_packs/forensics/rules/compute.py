"""Compute hardening: instances and launch templates require IMDSv2."""

from __future__ import annotations

from typing import Any

from .base import ReportFn, Rule, get, is_unknown, props_of

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


def check_imdsv2_required(args: Any, report: ReportFn) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    props = props_of(args)
    options = props.get("metadataOptions")
    if is_unknown(options):
        return
    tokens = get(options, "httpTokens")
    endpoint = get(options, "httpEndpoint")
    if is_unknown(tokens) or tokens == "required":
        return
    if endpoint == "disabled":  # no metadata service at all is stricter than IMDSv2
        return
    kind = "instance" if args.resource_type == INSTANCE else "launch template"
    if tokens is None:
        report(f"{kind} '{args.name}' does not set metadataOptions.httpTokens (IMDSv1 stays reachable)")
    else:
        report(f"{kind} '{args.name}' sets metadataOptions.httpTokens={tokens!r}, not 'required'")


RULES = [
    Rule(
        name="imdsv2-required",
        description="EC2 instances and launch templates require IMDSv2 "
        "(metadataOptions.httpTokens=required).",
        remediation='set metadata_options={"http_tokens": "required", "http_endpoint": "enabled"}',
        check=check_imdsv2_required,
        resource_types=(INSTANCE, LAUNCH_TEMPLATE),
    ),
]
