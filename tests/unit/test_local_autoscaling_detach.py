"""The local AWS detaches an instance from an Auto Scaling group as AWS does: it leaves the group's target
groups and classic load balancers; a registration made directly stays; attaching registers it again."""

from __future__ import annotations

import uuid
from typing import Any

from tools.local_aws.aws import LocalAws


def _targets(elbv2: Any, arn: str) -> set[str]:
    return {
        t["Target"]["Id"]
        for t in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    }


def test_a_detached_instance_leaves_the_groups_load_balancers(local_aws: LocalAws) -> None:
    ec2, autoscaling = local_aws.client("ec2"), local_aws.client("autoscaling")
    elbv2, elb = local_aws.client("elbv2"), local_aws.client("elb")
    name = f"detach-{uuid.uuid4().hex[:8]}"
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    zone = f"{local_aws.region}a"
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24", AvailabilityZone=zone)["Subnet"][
        "SubnetId"
    ]
    group_tg = elbv2.create_target_group(Name=f"{name}-g", Protocol="HTTP", Port=80, VpcId=vpc)
    direct_tg = elbv2.create_target_group(Name=f"{name}-d", Protocol="HTTP", Port=81, VpcId=vpc)
    group_arn = group_tg["TargetGroups"][0]["TargetGroupArn"]
    direct_arn = direct_tg["TargetGroups"][0]["TargetGroupArn"]
    elb.create_load_balancer(
        LoadBalancerName=name,
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        Subnets=[subnet],
    )
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=1,
        MaxSize=3,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet,
        TargetGroupARNs=[group_arn],
        LoadBalancerNames=[name],
    )
    members = [
        i["InstanceId"]
        for i in autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][
            0
        ]["Instances"]
    ]
    leaving, staying = members
    elbv2.register_targets(TargetGroupArn=direct_arn, Targets=[{"Id": leaving}])
    assert _targets(elbv2, group_arn) == set(members)

    autoscaling.detach_instances(
        InstanceIds=[leaving], AutoScalingGroupName=name, ShouldDecrementDesiredCapacity=True
    )
    assert leaving not in _targets(elbv2, group_arn) and staying in _targets(elbv2, group_arn)
    (balancer,) = elb.describe_load_balancers(LoadBalancerNames=[name])["LoadBalancerDescriptions"]
    in_balancer = {i["InstanceId"] for i in balancer["Instances"]}
    assert leaving not in in_balancer and staying in in_balancer
    assert _targets(elbv2, direct_arn) == {leaving}  # registered directly: AWS leaves it

    autoscaling.attach_instances(InstanceIds=[leaving], AutoScalingGroupName=name)
    assert _targets(elbv2, group_arn) == set(members)
