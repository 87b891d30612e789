"""Containment needs exactly the source account's snapshot role as the seed grants it: on a local AWS that
enforces IAM, every change and its undoing is made through that role alone (and a call outside it, such as
terminating the instance or making any other role, is refused)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from programs.source_account.permissions import evidence_policy
from service.containment import changes, isolation
from service.containment import state as instance_state
from tests.support.aws import role_session
from tools.local_aws.aws import LocalAws

ROLE = "forensics-evidence-reader"


def _as_role(aws: LocalAws, role_arn: str) -> instance_state.SourceClients:
    make = role_session(aws, role_arn, "containment")
    return instance_state.SourceClients(
        ec2=make("ec2"),
        autoscaling=make("autoscaling"),
        elbv2=make("elbv2"),
        elb=make("elb"),
        iam=make("iam"),
    )


def _sample(aws: LocalAws) -> dict[str, Any]:
    """As the account's administrator: a web tier (group, target group, classic load balancer, profile)."""
    ec2, iam, elbv2, elb = aws.client("ec2"), aws.client("iam"), aws.client("elbv2"), aws.client("elb")
    vpc = ec2.create_vpc(CidrBlock="10.51.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.51.1.0/24", AvailabilityZone=f"{aws.region}a")
    subnet_id = subnet["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="web-app", AssumeRolePolicyDocument=json.dumps(trust))
    profile = iam.create_instance_profile(InstanceProfileName="web-app")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="web-app", RoleName="web-app")
    tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    elb.create_load_balancer(
        LoadBalancerName="legacy",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        Subnets=[subnet_id],
    )
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling = aws.client("autoscaling")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=1,
        MaxSize=3,
        DesiredCapacity=1,
        VPCZoneIdentifier=subnet_id,
        TargetGroupARNs=[tg["TargetGroupArn"]],
    )
    (member,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][
        0
    ]["Instances"]
    instance_id = member["InstanceId"]
    eni = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
        "NetworkInterfaces"
    ]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni[0]["NetworkInterfaceId"], Groups=[web])
    ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Arn": profile})
    elb.register_instances_with_load_balancer(
        LoadBalancerName="legacy", Instances=[{"InstanceId": instance_id}]
    )
    return {"instance_id": instance_id}


def test_containment_and_its_release_need_only_the_snapshot_role(enforcing_aws: LocalAws) -> None:
    aws = enforcing_aws
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": aws.admin_arn}, "Action": "sts:AssumeRole"}],
    }
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="forensic-acquisition",
        # The evidence role's one document (the forensic account only narrows sharing and key grants).
        PolicyDocument=json.dumps(evidence_policy("123456789012", ["111122223333"])),
    )
    isolation.make_deny_all_profile(iam)  # the account's baseline, as the seed makes it
    instance_id = _sample(aws)["instance_id"]
    role = _as_role(aws, role_arn)

    before = instance_state.read(role, instance_id, with_subnet_acls=True)
    assert before["autoScaling"]["group"] == "web" and before["classicLoadBalancers"] == ["legacy"]
    changes.protect(role.ec2, instance_id)
    changes.take_out_of_service(role, instance_id, before)
    changes.isolate_network(role.ec2, before, "inv-enforced", with_acl=True)
    changes.deny_credentials(role, instance_id)
    changes.tag(role.ec2, instance_id, "inv-enforced", "ev-000000000001")
    contained = instance_state.read(role, instance_id, with_subnet_acls=True)
    assert contained["autoScaling"] is None and contained["targetGroups"] == []
    assert contained["classicLoadBalancers"] == []
    assert contained["instanceProfile"]["arn"].endswith(f"instance-profile/{isolation.DENY_ALL_PROFILE}")

    # What the role may not do: terminate anything, write IAM (not even the deny-all role it passes).
    with pytest.raises(ClientError, match=r"UnauthorizedOperation|AccessDenied"):
        role.ec2.terminate_instances(InstanceIds=[instance_id])
    with pytest.raises(ClientError, match="AccessDenied"):
        role.iam.create_role(RoleName="attacker-made", AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(ClientError, match="AccessDenied"):
        role.iam.put_role_policy(
            RoleName=isolation.DENY_ALL_PROFILE,
            PolicyName=isolation.DENY_ALL_POLICY,
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )

    changes.restore(role, instance_id, before)
    after = instance_state.read(role, instance_id, with_subnet_acls=True)
    assert instance_state.comparable(after) == instance_state.comparable(before)

    # A deny-all role that someone gave more (an attached policy) is not used for containment.
    iam.attach_role_policy(
        RoleName=isolation.DENY_ALL_PROFILE, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    with pytest.raises(isolation.NotDenyAll, match="may do more than nothing"):
        changes.deny_credentials(role, instance_id)
    assert (
        instance_state.profile_association(role.ec2, instance_id)["arn"] == before["instanceProfile"]["arn"]
    )
