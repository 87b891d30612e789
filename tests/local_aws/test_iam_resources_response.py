"""The resources the local AWS's IAM judge derives for a source account's response calls
(tools/local_aws/iam_resources_response.py), named as the Service Authorization Reference names them; the
enforced containment test (tests/unit/test_containment_role_enforced.py) proves them end to end."""

from __future__ import annotations

from typing import Any

from tools.local_aws.iam_resources import RESOURCES
from tools.local_aws.iam_resources import Request as JudgedRequest
from tools.local_aws.iam_resources_response import RESPONSE_RESOURCES, register

ACCOUNT = "210987654321"
REGION = "eu-west-1"


def _arns(action: str, params: dict[str, Any], path: str = "/") -> list[str]:
    request = JudgedRequest(action, REGION, ACCOUNT, params, {}, path)
    return [target.arn for target in RESPONSE_RESOURCES[action](request)]


def test_each_call_is_judged_on_the_resource_aws_names() -> None:
    group = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/0123456789abcdef"
    assert _arns("elasticloadbalancing:DeregisterTargets", {"TargetGroupArn": group}) == [group]
    assert _arns(
        "elasticloadbalancing:RegisterInstancesWithLoadBalancer", {"LoadBalancerName": "legacy"}
    ) == [f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/legacy"]
    assert _arns("logs:FilterLogEvents", {"logGroupName": "/vpc/flow"}) == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/vpc/flow"
    ]
    assert _arns("guardduty:GetDetector", {}, "/detector/abc123") == [
        f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/abc123"
    ]
    assert _arns("securityhub:GetFindings", {}) == [f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"]
    assert _arns(
        "ec2:ModifyNetworkInterfaceAttribute",
        {"NetworkInterfaceId": "eni-0a", "SecurityGroupId.1": "sg-0b"},
    ) == [
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/eni-0a",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0b",
    ]


def test_registering_adds_them_to_the_judges_table() -> None:
    register()
    assert all(RESOURCES[action] is derive for action, derive in RESPONSE_RESOURCES.items())
