"""The changes containment makes to an instance and their exact undoing: boto3 calls in the source account,
through its snapshot role, each returning what it did (for the custody event). No custody, no database: the
steps (``steps.py``) decide the order and record each."""

from __future__ import annotations

from typing import Any

from service.containment import isolation
from service.containment import state as instance_state
from service.errors import NotFound


def protect(ec2: Any, instance_id: str) -> dict[str, Any]:
    """Termination and stop protection; a shutdown from inside the instance stops it instead of terminating
    it (termination protection does not cover an instance-initiated shutdown)."""
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiStop={"Value": True})
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceInitiatedShutdownBehavior={"Value": "stop"})
    return {
        "disableApiTermination": True,
        "disableApiStop": True,
        "instanceInitiatedShutdownBehavior": "stop",
    }


def take_out_of_service(
    clients: instance_state.SourceClients, instance_id: str, recorded: dict[str, Any]
) -> dict[str, Any]:
    """Detached from its Auto Scaling group (not set to standby: a standby instance still belongs to the
    group, whose deletion or instance refresh can terminate it), without lowering the desired capacity (the
    group launches a replacement, so the service keeps running); then deregistered from every target group
    and classic load balancer it is still in (detaching does that for the group's own; the rest were
    registered directly)."""
    group = (recorded.get("autoScaling") or {}).get("group")
    if group:
        clients.autoscaling.detach_instances(
            InstanceIds=[instance_id], AutoScalingGroupName=group, ShouldDecrementDesiredCapacity=False
        )
    registrations = instance_state.target_groups(clients.elbv2, instance_id)
    for registration in registrations:
        clients.elbv2.deregister_targets(
            TargetGroupArn=registration["arn"], Targets=[_target(instance_id, registration)]
        )
    balancers = instance_state.classic_load_balancers(clients.elb, instance_id)
    for name in balancers:
        clients.elb.deregister_instances_from_load_balancer(
            LoadBalancerName=name, Instances=[{"InstanceId": instance_id}]
        )
    return {
        "detached_from": group,
        "target_groups": [r["arn"] for r in recorded["targetGroups"]],
        "deregistered_directly": [r["arn"] for r in registrations],
        "classic_load_balancers": balancers,
    }


def _target(instance_id: str, registration: dict[str, Any]) -> dict[str, Any]:
    return {"Id": instance_id, **({"Port": registration["port"]} if "port" in registration else {})}


def isolate_network(
    ec2: Any, recorded: dict[str, Any], investigation_id: str, *, with_acl: bool
) -> dict[str, Any]:
    """Every network interface gets only the VPC's isolation group; with ``with_acl``, each of its subnets
    gets the deny-all network ACL (stateless: it also cuts the connections the security groups still
    track)."""
    vpc = recorded.get("vpcId")
    if not vpc:
        raise NotFound(f"instance {recorded['instanceId']} is in no VPC")
    group = isolation.isolation_group(ec2, str(vpc), investigation_id)
    for eni in recorded["networkInterfaces"]:
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni["id"], Groups=[group])
    done: dict[str, Any] = {
        "isolation_group": group,
        "network_interfaces": [e["id"] for e in recorded["networkInterfaces"]],
    }
    if with_acl:
        acl = isolation.deny_all_acl(ec2, str(vpc), investigation_id)
        subnets = [e["subnetId"] for e in recorded["subnetNetworkAcls"] or []]
        for subnet in subnets:
            isolation.associate_acl(ec2, subnet, acl)
        done |= {"deny_all_network_acl": acl, "subnets": subnets}
    return done


def deny_credentials(clients: instance_state.SourceClients, instance_id: str) -> dict[str, Any]:
    """The deny-all profile replaces the instance's (or is associated, if it had none). Credentials the
    instance already fetched stay valid until they expire: see the README."""
    profile = isolation.deny_all_profile(clients.iam)
    current = instance_state.profile_association(clients.ec2, instance_id)
    if current is None:
        clients.ec2.associate_iam_instance_profile(
            InstanceId=instance_id, IamInstanceProfile={"Arn": profile}
        )
    elif current["arn"] != profile:
        clients.ec2.replace_iam_instance_profile_association(
            AssociationId=current["associationId"], IamInstanceProfile={"Arn": profile}
        )
    return {"instance_profile": profile, "replaced": current["arn"] if current else None}


def tag(ec2: Any, instance_id: str, investigation_id: str, record_artifact: str) -> dict[str, str]:
    tags = {
        instance_state.TAG_CONTAINED: "true",
        instance_state.TAG_INVESTIGATION: investigation_id,
        instance_state.TAG_ARTIFACT: record_artifact,
    }
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return tags


def restore(
    clients: instance_state.SourceClients, instance_id: str, recorded: dict[str, Any]
) -> dict[str, Any]:
    """Back to the record, protections last (the instance stays protected while it is being restored)."""
    ec2 = clients.ec2
    for entry in recorded.get("subnetNetworkAcls") or []:
        isolation.associate_acl(ec2, entry["subnetId"], entry["networkAclId"])
    for eni in recorded["networkInterfaces"]:
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni["id"], Groups=eni["groups"])
    _restore_profile(ec2, instance_id, (recorded.get("instanceProfile") or {}).get("arn"))
    _restore_tags(ec2, instance_id, recorded["tags"])
    group = (recorded.get("autoScaling") or {}).get("group")
    if group:
        # Attaching registers it with the group's own target groups and load balancers again, and adds one to
        # the group's desired capacity (the replacement launched at detach stays: scaling in would let the
        # group choose which instance to terminate).
        clients.autoscaling.attach_instances(InstanceIds=[instance_id], AutoScalingGroupName=group)
    for registration in recorded["targetGroups"]:
        clients.elbv2.register_targets(
            TargetGroupArn=registration["arn"], Targets=[_target(instance_id, registration)]
        )
    for name in recorded["classicLoadBalancers"]:
        clients.elb.register_instances_with_load_balancer(
            LoadBalancerName=name, Instances=[{"InstanceId": instance_id}]
        )
    attributes = recorded["attributes"]
    ec2.modify_instance_attribute(
        InstanceId=instance_id,
        InstanceInitiatedShutdownBehavior={"Value": attributes["instanceInitiatedShutdownBehavior"]},
    )
    ec2.modify_instance_attribute(
        InstanceId=instance_id, DisableApiStop={"Value": attributes["disableApiStop"]}
    )
    ec2.modify_instance_attribute(
        InstanceId=instance_id, DisableApiTermination={"Value": attributes["disableApiTermination"]}
    )
    return {"attached_to": group}


def _restore_profile(ec2: Any, instance_id: str, arn: str | None) -> None:
    current = instance_state.profile_association(ec2, instance_id)
    if arn is None:
        if current is not None:
            ec2.disassociate_iam_instance_profile(AssociationId=current["associationId"])
    elif current is None:
        ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Arn": arn})
    elif current["arn"] != arn:
        ec2.replace_iam_instance_profile_association(
            AssociationId=current["associationId"], IamInstanceProfile={"Arn": arn}
        )


def _restore_tags(ec2: Any, instance_id: str, recorded: dict[str, str]) -> None:
    ours = [{"Key": k} for k in instance_state.CONTAINMENT_TAGS if k not in recorded]
    if ours:
        ec2.delete_tags(Resources=[instance_id], Tags=ours)
    kept = [{"Key": k, "Value": recorded[k]} for k in instance_state.CONTAINMENT_TAGS if k in recorded]
    if kept:
        ec2.create_tags(Resources=[instance_id], Tags=kept)
