"""What an instance-launching resource puts on the instances it launches, whatever the resource type.

pulumi-aws has several spellings of "launch an EC2 instance": an Instance, a SpotInstanceRequest, a
LaunchTemplate, a LaunchConfiguration, the launch specifications of a SpotFleetRequest; EC2 Fleets and Auto
Scaling groups launch from templates or launch configurations (see `template_references`). `launch_specs`
reads each spelling into the same `LaunchSpec`; the rules (no-public-ip, imdsv2-required,
ebs-encrypted-with-cmk) judge LaunchSpecs only, so a rule cannot be sidestepped by picking another type.
This module reads properties; it decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import UNKNOWN, as_list, get, is_set, is_unknown

INSTANCE = "aws:ec2/instance:Instance"
SPOT_INSTANCE_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_FLEET_REQUEST = "aws:ec2/spotFleetRequest:SpotFleetRequest"
FLEET = "aws:ec2/fleet:Fleet"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"

# Types whose own properties describe the instances they launch.
LAUNCH_SPEC_TYPES = (
    INSTANCE,
    SPOT_INSTANCE_REQUEST,
    LAUNCH_TEMPLATE,
    LAUNCH_CONFIGURATION,
    SPOT_FLEET_REQUEST,
)
# Types that launch from a launch template or launch configuration named by reference.
TEMPLATE_LAUNCHER_TYPES = (INSTANCE, SPOT_INSTANCE_REQUEST, SPOT_FLEET_REQUEST, FLEET, AUTOSCALING_GROUP)

KIND = {
    INSTANCE: "instance",
    SPOT_INSTANCE_REQUEST: "spot instance request",
    LAUNCH_TEMPLATE: "launch template",
    LAUNCH_CONFIGURATION: "launch configuration",
    SPOT_FLEET_REQUEST: "spot fleet request",
    FLEET: "EC2 fleet",
    AUTOSCALING_GROUP: "Auto Scaling group",
}


class _NotSettable:
    def __repr__(self) -> str:
        return "NOT_SETTABLE"


NOT_SETTABLE: Any = _NotSettable()  # the type has no way to express the setting


@dataclass
class LaunchSpec:
    where: str  # "instance 'ws'", "spot fleet request 'sf' launchSpecifications[0]"
    # (path, value) of settings that give an instance a public or carrier IPv4 address when true.
    public_ip: list[tuple[str, Any]] = field(default_factory=list)
    # (path, value) of IPv6 address settings: a count, a list of addresses, or a flag.
    ipv6: list[tuple[str, Any]] = field(default_factory=list)
    # Whether a subnet is chosen (subnetId, network interfaces or a launch template; UNKNOWN counts as
    # chosen). None when the type does not choose one itself (templates, launch configurations).
    placed: bool | None = None
    # metadataOptions: a dict, None (not set), UNKNOWN, or NOT_SETTABLE.
    metadata_options: Any = None
    # (path, device) of the root device that must be declared; device None when it is not declared.
    root_device: tuple[str, Any] | None = None
    # (path, device) of the other declared EBS devices.
    devices: list[tuple[str, Any]] = field(default_factory=list)
    # False when the type's block devices have no KMS key setting (launch configurations).
    kms_settable: bool = True


def _listed(value: Any) -> list[Any]:
    return [] if is_unknown(value) else as_list(value)


def _instance_like(kind: str, name: str, props: dict[str, Any]) -> LaunchSpec:
    placed = any(
        is_set(props.get(key))
        for key in ("subnetId", "networkInterfaces", "primaryNetworkInterface", "launchTemplate")
    )
    spec = LaunchSpec(
        where=f"{kind} '{name}'",
        public_ip=[("associatePublicIpAddress", props.get("associatePublicIpAddress"))],
        ipv6=[
            ("ipv6AddressCount", props.get("ipv6AddressCount")),
            ("ipv6Addresses", props.get("ipv6Addresses")),
            ("enablePrimaryIpv6", props.get("enablePrimaryIpv6")),
        ],
        placed=placed,
        metadata_options=props.get("metadataOptions"),
        root_device=None if is_unknown(props.get("rootBlockDevice")) else ("rootBlockDevice", None),
    )
    root = props.get("rootBlockDevice")
    if isinstance(root, dict):
        spec.root_device = ("rootBlockDevice", root)
    for index, device in enumerate(_listed(props.get("ebsBlockDevices"))):
        spec.devices.append((f"ebsBlockDevices[{index}]", device))
    return spec


def _launch_template(name: str, props: dict[str, Any]) -> LaunchSpec:
    spec = LaunchSpec(where=f"launch template '{name}'", metadata_options=props.get("metadataOptions"))
    for index, nic in enumerate(_listed(props.get("networkInterfaces"))):
        if not isinstance(nic, dict):
            continue
        path = f"networkInterfaces[{index}]"
        spec.public_ip += [
            (f"{path}.associatePublicIpAddress", nic.get("associatePublicIpAddress")),
            (f"{path}.associateCarrierIpAddress", nic.get("associateCarrierIpAddress")),
        ]
        spec.ipv6 += [
            (f"{path}.{key}", nic.get(key))
            for key in ("ipv6AddressCount", "ipv6Addresses", "ipv6PrefixCount", "ipv6Prefixes", "primaryIpv6")
        ]
    mappings = props.get("blockDeviceMappings")
    if is_unknown(mappings):
        return spec
    for index, mapping in enumerate(as_list(mappings)):
        ebs = get(mapping, "ebs")
        if ebs is not None:
            spec.devices.append((f"blockDeviceMappings[{index}].ebs", ebs))
    if not spec.devices:  # without an EBS mapping the AMI's own mapping decides the root disk's encryption
        spec.root_device = ("blockDeviceMappings[].ebs", None)
    return spec


def _launch_configuration(name: str, props: dict[str, Any]) -> LaunchSpec:
    spec = _instance_like("launch configuration", name, props)
    spec.placed = None  # the Auto Scaling group chooses the subnets
    spec.ipv6 = []
    spec.kms_settable = False
    return spec


def _spot_fleet(name: str, props: dict[str, Any]) -> list[LaunchSpec]:
    specs: list[LaunchSpec] = []
    for index, item in enumerate(_listed(props.get("launchSpecifications"))):
        if not isinstance(item, dict):
            continue
        where = f"spot fleet request '{name}' launchSpecifications[{index}]"
        roots = item.get("rootBlockDevices")
        spec = LaunchSpec(
            where=where,
            public_ip=[("associatePublicIpAddress", item.get("associatePublicIpAddress"))],
            placed=is_set(item.get("subnetId")),
            metadata_options=NOT_SETTABLE,  # launch specifications have no metadata options
        )
        if not is_unknown(roots):
            root_list = as_list(roots)
            spec.root_device = ("rootBlockDevices[0]", root_list[0] if root_list else None)
        for dev_index, device in enumerate(_listed(item.get("ebsBlockDevices"))):
            spec.devices.append((f"ebsBlockDevices[{dev_index}]", device))
        specs.append(spec)
    return specs


def launch_specs(rtype: str, name: str, props: dict[str, Any]) -> list[LaunchSpec]:
    """The launch specifications a resource declares itself ([] for other types)."""
    if rtype in (INSTANCE, SPOT_INSTANCE_REQUEST):
        return [_instance_like(KIND[rtype], name, props)]
    if rtype == LAUNCH_TEMPLATE:
        return [_launch_template(name, props)]
    if rtype == LAUNCH_CONFIGURATION:
        return [_launch_configuration(name, props)]
    if rtype == SPOT_FLEET_REQUEST:
        return _spot_fleet(name, props)
    return []


@dataclass
class TemplateReference:
    where: str  # "launchTemplate", "mixedInstancesPolicy.launchTemplate.overrides[0]..."
    prop: str  # the top-level property holding it (for the engine's property dependencies)
    kind: str  # "launch template" or "launch configuration"
    value: Any  # the id or name (a string, or UNKNOWN)


def _spec_reference(spec: Any, id_key: str, name_key: str) -> Any:
    """The id (else the name) a launch template specification names; None when it names nothing."""
    if is_unknown(spec):
        return UNKNOWN
    for key in (id_key, name_key):
        value = get(spec, key)
        if is_set(value):
            return value
    return None


def template_references(rtype: str, props: dict[str, Any]) -> list[TemplateReference]:
    """The launch templates / launch configurations a resource launches from."""
    found: list[TemplateReference] = []

    def add(where: str, prop: str, kind: str, value: Any) -> None:
        if value is not None:
            found.append(TemplateReference(where, prop, kind, value))

    template = "launch template"
    if rtype in (INSTANCE, SPOT_INSTANCE_REQUEST):
        spec = props.get("launchTemplate")
        if spec is not None:
            add("launchTemplate", "launchTemplate", template, _spec_reference(spec, "id", "name"))
    elif rtype == AUTOSCALING_GROUP:
        config = props.get("launchConfiguration")
        if is_set(config):
            add("launchConfiguration", "launchConfiguration", "launch configuration", config)
        spec = props.get("launchTemplate")
        if spec is not None:
            add("launchTemplate", "launchTemplate", template, _spec_reference(spec, "id", "name"))
        mixed = get(props, "mixedInstancesPolicy", "launchTemplate")
        if mixed is not None:
            base = "mixedInstancesPolicy.launchTemplate"
            spec = get(mixed, "launchTemplateSpecification")
            add(
                f"{base}.launchTemplateSpecification",
                "mixedInstancesPolicy",
                template,
                _spec_reference(spec, "launchTemplateId", "launchTemplateName"),
            )
            for index, override in enumerate(_listed(get(mixed, "overrides"))):
                spec = get(override, "launchTemplateSpecification")
                if spec is not None:
                    add(
                        f"{base}.overrides[{index}].launchTemplateSpecification",
                        "mixedInstancesPolicy",
                        template,
                        _spec_reference(spec, "launchTemplateId", "launchTemplateName"),
                    )
    elif rtype in (FLEET, SPOT_FLEET_REQUEST):
        id_key, name_key = ("launchTemplateId", "launchTemplateName") if rtype == FLEET else ("id", "name")
        configs = props.get("launchTemplateConfigs")
        if is_unknown(configs):
            add("launchTemplateConfigs", "launchTemplateConfigs", template, UNKNOWN)
        for index, config in enumerate(_listed(configs)):
            spec = get(config, "launchTemplateSpecification")
            add(
                f"launchTemplateConfigs[{index}].launchTemplateSpecification",
                "launchTemplateConfigs",
                template,
                _spec_reference(spec, id_key, name_key),
            )
    return found
