"""Compute hardening: everything that launches instances requires IMDSv2, and launches only from templates
the pack can see."""

from __future__ import annotations

from typing import Any

from .base import (
    ReportFn,
    Rule,
    get,
    identifiers,
    is_unknown,
    label,
    props_of,
    resolve_reference,
    resources_of,
    target_key,
    urn_of,
)
from .launch import (
    LAUNCH_CONFIGURATION,
    LAUNCH_SPEC_TYPES,
    LAUNCH_TEMPLATE,
    NOT_SETTABLE,
    TEMPLATE_LAUNCHER_TYPES,
    LaunchSpec,
    launch_specs,
    template_references,
)


def _imds_problem(spec: LaunchSpec) -> str | None:
    options = spec.metadata_options
    if options is NOT_SETTABLE:
        return "cannot require IMDSv2 (it has no metadata options): launch from a launch template instead"
    if is_unknown(options):
        return None
    tokens = get(options, "httpTokens")
    endpoint = get(options, "httpEndpoint")
    if is_unknown(tokens) or tokens == "required":
        return None
    if endpoint == "disabled":  # no metadata service at all is stricter than IMDSv2
        return None
    if tokens is None:
        return "does not set metadataOptions.httpTokens (IMDSv1 stays reachable)"
    return f"sets metadataOptions.httpTokens={tokens!r}, not 'required'"


def check_imdsv2_required(args: Any, report: ReportFn) -> None:
    if args.resource_type not in LAUNCH_SPEC_TYPES:
        return
    for spec in launch_specs(args.resource_type, args.name, props_of(args)):
        problem = _imds_problem(spec)
        if problem:
            report(f"{spec.where} {problem}")


def check_launch_templates_in_stack(args: Any, report: ReportFn) -> None:
    templates = resources_of(args, LAUNCH_TEMPLATE)
    configurations = resources_of(args, LAUNCH_CONFIGURATION)
    known = {
        kind: (targets, {target_key(t): identifiers(props_of(t), "id", "name", "arn") for t in targets})
        for kind, targets in (("launch template", templates), ("launch configuration", configurations))
    }
    for launcher in resources_of(args, *TEMPLATE_LAUNCHER_TYPES):
        for ref in template_references(launcher.resource_type, props_of(launcher)):
            targets, target_ids = known[ref.kind]
            matched, unresolved = resolve_reference(launcher, ref.value, ref.prop, targets, target_ids)
            if matched or unresolved:
                continue
            shown = "a value not known yet" if is_unknown(ref.value) else repr(ref.value)
            report(
                f"{label(launcher)} {ref.where} launches from the {ref.kind} {shown}, which this stack does "
                "not declare, so the compute rules cannot check what it launches",
                urn_of(launcher),
            )


RULES = [
    Rule(
        name="imdsv2-required",
        description="Everything that launches EC2 instances (instances, spot requests, launch templates, "
        "launch configurations, spot fleet launch specifications) requires IMDSv2 "
        "(metadataOptions.httpTokens=required).",
        remediation='set metadata_options={"http_tokens": "required", "http_endpoint": "enabled"}; '
        "spot fleets launch from a launch template that sets it",
        check=check_imdsv2_required,
        resource_types=LAUNCH_SPEC_TYPES,
    ),
    Rule(
        name="launch-templates-in-stack",
        description="Instances, spot requests, EC2 fleets, spot fleets and Auto Scaling groups launch only "
        "from launch templates or launch configurations declared in the same stack, so that no-public-ip, "
        "imdsv2-required and ebs-encrypted-with-cmk judge what they launch.",
        remediation="declare the aws.ec2.LaunchTemplate in this stack and reference it by its id "
        "(launch_template={'id': template.id})",
        check=check_launch_templates_in_stack,
        kind="stack",
        resource_types=TEMPLATE_LAUNCHER_TYPES,
    ),
]
