"""The resources AWS authorizes a source account's response calls on, for the local AWS's IAM judge
(``tools.local_aws.iam_resources``): what the evidence role's ARN-scoped statements
(programs/source_account/permissions.py) are matched against when IAM is enforced.

Without these the judge keeps moto's resource ``"*"`` for the calls, so an evidence role scoped to its
account's Auto Scaling groups, target groups, load balancers, log groups, GuardDuty detectors or Security Hub
hub is refused them locally while AWS allows them.
Each deriver names the resource as the Service Authorization Reference does:

- EC2 containment: ``ModifyNetworkInterfaceAttribute`` (the interface and the groups it is given),
  ``AssociateIamInstanceProfile`` (the instance), ``Replace/DisassociateIamInstanceProfile`` (the
  association's instance), ``CreateNetworkAcl`` (the new ACL and its VPC), ``DeleteNetworkAclEntry`` (the
  ACL), ``ReplaceNetworkAclAssociation`` (the ACL and the association's subnet);
- ``autoscaling:AttachInstances`` / ``DetachInstances``: the group
  (``arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>``, moto's);
- ``elasticloadbalancing:RegisterTargets`` / ``DeregisterTargets``: the target group (``TargetGroupArn``);
- the classic ``Register/DeregisterInstances...LoadBalancer``: ``...:loadbalancer/<name>``;
- ``logs:FilterLogEvents``: the log group; ``guardduty:GetDetector``: ``...:detector/<id>``;
  ``securityhub:GetFindings``: the account's hub (``...:hub/default``).

Not modelled: ``config:DescribeConfigurationRecorderStatus`` (its ARN needs the recorder's id, which moto does
not keep): it stays judged on ``"*"``, so an ARN-scoped grant of it is refused locally (a clear AccessDenied,
never a silent pass). tests/local_aws/test_iam_resources_response.py checks each ARN.
"""

from __future__ import annotations

import re
from typing import Any

from tools.local_aws.iam_resources import (
    RESOURCES,
    Request,
    Target,
    _ec2_existing,
    _ec2_named,
    _log_group,
    ec2_arn,
)


def _auto_scaling_group(request: Request) -> list[Target]:
    from moto.autoscaling.models import autoscaling_backends

    name = request.param("AutoScalingGroupName") or ""
    groups = dict.get(dict.get(autoscaling_backends, request.account, {}), request.region)
    group = groups.autoscaling_groups.get(name) if groups is not None else None
    if group is not None:
        return [Target(str(group.arn))]
    # An unknown group: AWS authorizes on the name (any group id), then answers that it does not exist.
    prefix = f"arn:aws:autoscaling:{request.region}:{request.account}:autoScalingGroup"
    return [Target(f"{prefix}:unknown:autoScalingGroupName/{name}")]


def _target_group(request: Request) -> list[Target]:
    arn = request.param("TargetGroupArn")
    return [Target(arn)] if arn else [Target("*")]


def _classic_load_balancer(request: Request) -> list[Target]:
    name = request.param("LoadBalancerName") or ""
    return [Target(f"arn:aws:elasticloadbalancing:{request.region}:{request.account}:loadbalancer/{name}")]


_DETECTOR_PATH = re.compile(r"^/detector/([^/?]+)")


def _detector(request: Request) -> list[Target]:
    found = _DETECTOR_PATH.match(request.path)
    detector = found.group(1) if found else request.param("DetectorId") or ""
    return [Target(f"arn:aws:guardduty:{request.region}:{request.account}:detector/{detector}")]


def _hub(request: Request) -> list[Target]:
    return [Target(f"arn:aws:securityhub:{request.region}:{request.account}:hub/default")]


def _ec2_backend(request: Request) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[request.account][request.region]


def _network_acl_made(request: Request) -> list[Target]:
    """CreateNetworkAcl: the new ACL (any id) and the VPC it is made in."""
    return [Target(ec2_arn(request, "network-acl", "acl-*")), *_ec2_named(request)]


def _network_acl(request: Request) -> list[Target]:
    """DeleteNetworkAclEntry: the ACL; ReplaceNetworkAclAssociation: the ACL and the association's subnet."""
    acl = request.param("NetworkAclId") or ""
    targets = [_ec2_existing(request, "network-acl", acl)]
    association = request.param("AssociationId")
    if association is not None:
        for held in list(_ec2_backend(request).network_acls.values()):
            found = held._associations.get(association)
            if found is not None:
                targets.append(_ec2_existing(request, "subnet", str(found.subnet_id)))
                break
        else:
            targets.append(Target(ec2_arn(request, "subnet", f"unknown-association-{association}")))
    return targets


def _profile_association(request: Request) -> list[Target]:
    """Replace/DisassociateIamInstanceProfile name an association: authorized on its instance."""
    association = request.param("AssociationId") or ""
    for held in list(_ec2_backend(request).iam_instance_profile_associations.values()):
        if held.association_id == association:
            return [_ec2_existing(request, "instance", str(held.instance_id))]
    return [Target(ec2_arn(request, "instance", f"unknown-association-{association}"))]


RESPONSE_RESOURCES = {
    "ec2:ModifyNetworkInterfaceAttribute": _ec2_named,
    "ec2:AssociateIamInstanceProfile": _ec2_named,
    "ec2:ReplaceIamInstanceProfileAssociation": _profile_association,
    "ec2:DisassociateIamInstanceProfile": _profile_association,
    "ec2:CreateNetworkAcl": _network_acl_made,
    "ec2:DeleteNetworkAclEntry": _network_acl,
    "ec2:ReplaceNetworkAclAssociation": _network_acl,
    "autoscaling:AttachInstances": _auto_scaling_group,
    "autoscaling:DetachInstances": _auto_scaling_group,
    "elasticloadbalancing:RegisterTargets": _target_group,
    "elasticloadbalancing:DeregisterTargets": _target_group,
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer": _classic_load_balancer,
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer": _classic_load_balancer,
    "logs:FilterLogEvents": _log_group,
    "guardduty:GetDetector": _detector,
    "securityhub:GetFindings": _hub,
}


def register() -> None:
    """Adds the derivers to the judge's table (idempotent)."""
    RESOURCES.update(RESPONSE_RESOURCES)
