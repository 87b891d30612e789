"""The stand-in's VpcEndpoint keeps an endpoint policy as pulumi-aws does: `policy` (a JSON document) is set
at creation, read back in the program's own spelling, compared by meaning, and changed in place."""

from __future__ import annotations

import json
from typing import Any

from tests.support.standin import Clients, Driver

VPC = "aws:ec2/vpc:Vpc"
RT = "aws:ec2/routeTable:RouteTable"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ACCOUNT = "123456789012"


def _policy(actions: list[str], resources: list[str]) -> str:
    statement: dict[str, Any] = {
        "Sid": "EvidenceBucketOnly",
        "Effect": "Allow",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_endpoint_policy_create_read_diff_update(driver: Driver, aws: Clients) -> None:
    ec2 = aws("ec2")
    vpc_id, vpc = driver.create(VPC, "vpc", {"cidrBlock": "10.78.0.0/16"})
    rt_id, rt = driver.create(RT, "rt", {"vpcId": vpc_id})
    bucket = "arn:aws:s3:::forensics-inv1-evidence"
    first = _policy(["s3:GetObject"], [bucket, f"{bucket}/*"])
    inputs = {
        "vpcId": vpc_id,
        "serviceName": "com.amazonaws.us-east-1.s3",
        "vpcEndpointType": "Gateway",
        "routeTableIds": [rt_id],
        "policy": first,
    }
    ep_id, ep = driver.create(ENDPOINT, "s3-endpoint", inputs)
    assert ep["policy"] == first
    deployed = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]["PolicyDocument"]
    assert json.loads(deployed) == json.loads(first)

    # Read back: the program's spelling is kept when AWS returns the same document differently formatted.
    respelled = json.dumps(json.loads(first), indent=2, sort_keys=True)
    _, refreshed, _ = driver.read(ENDPOINT, "s3-endpoint", ep_id, {**ep, "policy": respelled})
    assert json.loads(refreshed["policy"]) == json.loads(first)
    assert not driver.diff(ENDPOINT, "s3-endpoint", ep_id, ep, {**inputs, "policy": respelled}).changes

    # A new document is an in-place update, applied to the endpoint.
    second = _policy(["s3:GetObject", "s3:PutObject"], [bucket, f"{bucket}/*"])
    diff = driver.diff(ENDPOINT, "s3-endpoint", ep_id, ep, {**inputs, "policy": second})
    assert diff.changes and diff.diffs == ["policy"] and not diff.replaces
    updated = driver.update(ENDPOINT, "s3-endpoint", ep_id, ep, {**inputs, "policy": second})
    assert json.loads(updated["policy"]) == json.loads(second)
    deployed = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep_id])["VpcEndpoints"][0]["PolicyDocument"]
    assert json.loads(deployed)["Statement"][0]["Action"] == ["s3:GetObject", "s3:PutObject"]

    # An interface endpoint takes its policy the same way.
    if_id, iface = driver.create(
        ENDPOINT,
        "kms-endpoint",
        {
            "vpcId": vpc_id,
            "serviceName": "com.amazonaws.us-east-1.kms",
            "vpcEndpointType": "Interface",
            "privateDnsEnabled": True,
            "policy": _policy(["kms:Decrypt"], [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"]),
        },
    )
    assert json.loads(iface["policy"])["Statement"][0]["Action"] == ["kms:Decrypt"]

    driver.delete(ENDPOINT, "kms-endpoint", if_id, iface)
    driver.delete(ENDPOINT, "s3-endpoint", ep_id, updated)
    driver.delete(RT, "rt", rt_id, rt)
    driver.delete(VPC, "vpc", vpc_id, vpc)
