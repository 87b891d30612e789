"""The isolation resources containment swaps in, made in the source account once and reused: a security group
with no rules per VPC, an instance profile whose role may do nothing, and (on request) a deny-all network ACL
per VPC."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

# The deny-all profile is the source account's baseline (programs/source_account/response.py makes it).
from programs.source_account.response import DENY_ALL, DENY_ALL_POLICY, DENY_ALL_PROFILE, EC2_TRUST
from service.errors import NotFound

ISOLATION_GROUP = "forensics-isolation"
ISOLATION_ACL_TAG = ("forensics:isolation", "deny-all")


def isolation_group(ec2: Any, vpc_id: str, investigation_id: str) -> str:
    """The VPC's group with no rules. A new group allows all egress until that rule is revoked, and a reused
    group may have gained rules since: whatever rules it has are revoked, every time."""
    found = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [ISOLATION_GROUP]}]
    )["SecurityGroups"]
    if found:
        group = found[0]
    else:
        group_id = ec2.create_security_group(
            GroupName=ISOLATION_GROUP,
            Description="Forensic isolation: no inbound or outbound rules",
            VpcId=vpc_id,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [{"Key": "forensics:created-by-investigation", "Value": investigation_id}],
                }
            ],
        )["GroupId"]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
    if group.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
    return str(group["GroupId"])


class NotDenyAll(Exception):
    """The account's deny-all instance profile is missing, or its role may do more than nothing."""


def make_deny_all_profile(iam: Any) -> str:
    """The account's baseline makes it once, with the snapshot role (an administrator's act: the snapshot role
    itself may not write IAM, since a role it could write and pass would be a way to any permission)."""
    try:
        iam.get_role(RoleName=DENY_ALL_PROFILE)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(
            RoleName=DENY_ALL_PROFILE,
            AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
            Description="Forensic containment: an instance holding this profile may call nothing",
        )
    iam.put_role_policy(
        RoleName=DENY_ALL_PROFILE, PolicyName=DENY_ALL_POLICY, PolicyDocument=json.dumps(DENY_ALL)
    )
    try:
        profile = iam.get_instance_profile(InstanceProfileName=DENY_ALL_PROFILE)["InstanceProfile"]
    except iam.exceptions.NoSuchEntityException:
        profile = iam.create_instance_profile(InstanceProfileName=DENY_ALL_PROFILE)["InstanceProfile"]
    if not any(r["RoleName"] == DENY_ALL_PROFILE for r in profile.get("Roles", [])):
        iam.add_role_to_instance_profile(InstanceProfileName=DENY_ALL_PROFILE, RoleName=DENY_ALL_PROFILE)
    return str(profile["Arn"])


def deny_all_profile(iam: Any) -> str:
    """The ARN of the account's deny-all instance profile, read (never written) and checked first: its one
    role holds exactly the deny-all policy and nothing else, or containment does not use it."""
    try:
        profile = iam.get_instance_profile(InstanceProfileName=DENY_ALL_PROFILE)["InstanceProfile"]
    except iam.exceptions.NoSuchEntityException:
        raise NotDenyAll(
            f"the source account has no {DENY_ALL_PROFILE} instance profile (its baseline makes it with the "
            "snapshot role)"
        ) from None
    roles = [r["RoleName"] for r in profile.get("Roles", [])]
    if roles != [DENY_ALL_PROFILE]:
        raise NotDenyAll(f"instance profile {DENY_ALL_PROFILE} holds {roles}, not only {DENY_ALL_PROFILE}")
    inline = iam.list_role_policies(RoleName=DENY_ALL_PROFILE)["PolicyNames"]
    attached = iam.list_attached_role_policies(RoleName=DENY_ALL_PROFILE)["AttachedPolicies"]
    document = (
        iam.get_role_policy(RoleName=DENY_ALL_PROFILE, PolicyName=DENY_ALL_POLICY)["PolicyDocument"]
        if inline == [DENY_ALL_POLICY]
        else None
    )
    if isinstance(document, str):
        document = json.loads(unquote(document))
    if attached or document != DENY_ALL:
        raise NotDenyAll(
            f"role {DENY_ALL_PROFILE} may do more than nothing (inline {inline}, attached "
            f"{[p['PolicyArn'] for p in attached]}): not used for containment"
        )
    return str(profile["Arn"])


def deny_all_acl(ec2: Any, vpc_id: str, investigation_id: str) -> str:
    """A network ACL with only the implicit deny-all entries (a new ACL has no allow entry), per VPC."""
    key, value = ISOLATION_ACL_TAG
    found = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": f"tag:{key}", "Values": [value]}]
    )["NetworkAcls"]
    if found:
        acl = found[0]
    else:
        acl = ec2.create_network_acl(
            VpcId=vpc_id,
            TagSpecifications=[
                {
                    "ResourceType": "network-acl",
                    "Tags": [
                        {"Key": key, "Value": value},
                        {"Key": "forensics:created-by-investigation", "Value": investigation_id},
                    ],
                }
            ],
        )["NetworkAcl"]
    # Only the default rule (number 32767, deny) may be there: anything else would let traffic through.
    for entry in acl.get("Entries", []):
        if entry.get("RuleNumber") != 32767:
            ec2.delete_network_acl_entry(
                NetworkAclId=acl["NetworkAclId"], RuleNumber=entry["RuleNumber"], Egress=entry["Egress"]
            )
    return str(acl["NetworkAclId"])


def associate_acl(ec2: Any, subnet_id: str, acl_id: str) -> None:
    """Moves the subnet to ``acl_id`` (a subnet always has exactly one network ACL)."""
    found = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
    for acl in found["NetworkAcls"]:
        for association in acl.get("Associations", []):
            if association.get("SubnetId") == subnet_id:
                if acl["NetworkAclId"] != acl_id:
                    ec2.replace_network_acl_association(
                        AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id
                    )
                return
    raise NotFound(f"subnet {subnet_id} has no network ACL association")
