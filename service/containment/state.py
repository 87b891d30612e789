"""What an instance is before containment, read through the source account's role: the record that containment
is undone from. Each call that reads it is listed with the record (the query that produced the artifact)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The tags containment puts on the instance (the evidence role may write no others on it: response.py).
from programs.source_account.response import CONTAINMENT_TAGS as CONTAINMENT_TAGS
from programs.source_account.response import TAG_ARTIFACT as TAG_ARTIFACT
from programs.source_account.response import TAG_CONTAINED as TAG_CONTAINED
from programs.source_account.response import TAG_INVESTIGATION as TAG_INVESTIGATION
from service.errors import NotFound

QUERIES = [
    "ec2:DescribeInstances InstanceIds=[{instance}]",
    "ec2:DescribeInstanceAttribute disableApiTermination, disableApiStop, instanceInitiatedShutdownBehavior",
    "ec2:DescribeIamInstanceProfileAssociations instance-id={instance}",
    "autoscaling:DescribeAutoScalingInstances InstanceIds=[{instance}]",
    "elasticloadbalancing:DescribeTargetGroups + DescribeTargetHealth (every instance target group)",
    "elasticloadbalancing:DescribeLoadBalancers (classic)",
    "ec2:DescribeNetworkAcls association.subnet-id (when the subnet is isolated too)",
]


@dataclass(frozen=True)
class SourceClients:
    """The source account's APIs, each through its snapshot (evidence) role."""

    ec2: Any
    autoscaling: Any
    elbv2: Any
    elb: Any
    iam: Any


def describe_instance(ec2: Any, instance_id: str) -> dict[str, Any]:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    if not reservations or not reservations[0]["Instances"]:
        raise NotFound(f"instance {instance_id} not found")
    instance: dict[str, Any] = reservations[0]["Instances"][0]
    return instance


def attributes(ec2: Any, instance_id: str) -> dict[str, Any]:
    def value(name: str, key: str) -> Any:
        return ec2.describe_instance_attribute(InstanceId=instance_id, Attribute=name)[key]["Value"]

    return {
        "disableApiTermination": bool(value("disableApiTermination", "DisableApiTermination")),
        "disableApiStop": bool(value("disableApiStop", "DisableApiStop")),
        "instanceInitiatedShutdownBehavior": str(
            value("instanceInitiatedShutdownBehavior", "InstanceInitiatedShutdownBehavior")
        ),
    }


def profile_association(ec2: Any, instance_id: str) -> dict[str, Any] | None:
    found = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    live = [a for a in found if a.get("State") in ("associated", "associating")]
    if not live:
        return None
    return {"associationId": live[0]["AssociationId"], "arn": live[0]["IamInstanceProfile"]["Arn"]}


def auto_scaling(autoscaling: Any, instance_id: str) -> dict[str, Any] | None:
    found = autoscaling.describe_auto_scaling_instances(InstanceIds=[instance_id])["AutoScalingInstances"]
    if not found:
        return None
    member = found[0]
    return {"group": member["AutoScalingGroupName"], "lifecycleState": member["LifecycleState"]}


def target_groups(elbv2: Any, instance_id: str) -> list[dict[str, Any]]:
    """Every registration of the instance (a target may be registered on several ports of one group). A target
    being drained is leaving already: not a registration."""
    registered: list[dict[str, Any]] = []
    for page in elbv2.get_paginator("describe_target_groups").paginate():
        for group in page["TargetGroups"]:
            if group.get("TargetType", "instance") != "instance":
                continue
            health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            for target in health["TargetHealthDescriptions"]:
                draining = (target.get("TargetHealth") or {}).get("State") == "draining"
                if target["Target"]["Id"] == instance_id and not draining:
                    entry = {"arn": group["TargetGroupArn"], "id": instance_id}
                    if target["Target"].get("Port") is not None:
                        entry["port"] = int(target["Target"]["Port"])
                    registered.append(entry)
    return sorted(registered, key=lambda e: (e["arn"], e.get("port", 0)))


def classic_load_balancers(elb: Any, instance_id: str) -> list[str]:
    names = []
    for page in elb.get_paginator("describe_load_balancers").paginate():
        for balancer in page["LoadBalancerDescriptions"]:
            if any(i.get("InstanceId") == instance_id for i in balancer.get("Instances", [])):
                names.append(balancer["LoadBalancerName"])
    return sorted(names)


def network_interfaces(instance: dict[str, Any]) -> list[dict[str, Any]]:
    """Security groups belong to each network interface; the instance's list is its primary one's only."""
    return sorted(
        (
            {
                "id": eni["NetworkInterfaceId"],
                "subnetId": eni.get("SubnetId"),
                "groups": sorted(g["GroupId"] for g in eni.get("Groups", [])),
            }
            for eni in instance.get("NetworkInterfaces", [])
        ),
        key=lambda e: e["id"],
    )


def subnet_acls(ec2: Any, subnet_ids: list[str]) -> list[dict[str, Any]]:
    acls = []
    for subnet in sorted(set(subnet_ids)):
        found = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
        for acl in found["NetworkAcls"]:
            for association in acl.get("Associations", []):
                if association.get("SubnetId") == subnet:
                    acls.append({"subnetId": subnet, "networkAclId": acl["NetworkAclId"]})
    return acls


def tags(instance: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags", [])}


def read(clients: SourceClients, instance_id: str, *, with_subnet_acls: bool) -> dict[str, Any]:
    """Everything containment changes, as it is now (and the full describe output, for the record)."""
    instance = describe_instance(clients.ec2, instance_id)
    enis = network_interfaces(instance)
    return {
        "instanceId": instance_id,
        "vpcId": instance.get("VpcId"),
        "state": (instance.get("State") or {}).get("Name"),
        "attributes": attributes(clients.ec2, instance_id),
        "networkInterfaces": enis,
        "instanceProfile": profile_association(clients.ec2, instance_id),
        "autoScaling": auto_scaling(clients.autoscaling, instance_id),
        "targetGroups": target_groups(clients.elbv2, instance_id),
        "classicLoadBalancers": classic_load_balancers(clients.elb, instance_id),
        "tags": tags(instance),
        "subnetNetworkAcls": (
            subnet_acls(clients.ec2, [e["subnetId"] for e in enis if e.get("subnetId")])
            if with_subnet_acls
            else None
        ),
        "describeInstances": instance,
    }


# What release-containment must bring back exactly, compared key by key after it ran.
RESTORED = (
    "attributes",
    "networkInterfaces",
    "instanceProfileArn",
    "autoScalingGroup",
    "targetGroups",
    "classicLoadBalancers",
    "tags",
    "subnetNetworkAcls",
)


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The attributes release-containment restores, in a form two readings can be compared in."""
    profile = state.get("instanceProfile") or {}
    group = state.get("autoScaling") or {}
    return {
        "attributes": state["attributes"],
        "networkInterfaces": state["networkInterfaces"],
        "instanceProfileArn": profile.get("arn"),
        "autoScalingGroup": group.get("group"),
        "targetGroups": state["targetGroups"],
        "classicLoadBalancers": state["classicLoadBalancers"],
        "tags": state["tags"],
        "subnetNetworkAcls": state.get("subnetNetworkAcls"),
    }
