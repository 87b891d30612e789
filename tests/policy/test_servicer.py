"""The pack behind pulumi_policy's real analyzer servicer: protobuf in, diagnostics out (no engine).

This exercises the exact path the engine uses: struct deserialization, unknown sentinels, the
unknown-checking proxies, property dependencies, enforcement levels and the message format.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policy_packs.forensics.pack import PACK_NAME
from policy_packs.forensics.rules import ALL_POLICIES

from .harness import TAGS, U_BOOL, U_OBJ, U_STR, urn


def _servicer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", ALL_POLICIES, EnforcementLevel.MANDATORY)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(props)
    return s


def _analyze(rtype: str, name: str, props: dict[str, Any]) -> list[Any]:
    request = proto.AnalyzeRequest(type=rtype, properties=_struct(props), urn=urn(rtype, name), name=name)
    return list(_servicer().Analyze(request, None).diagnostics)


def test_forbidden_gateway_is_a_mandatory_diagnostic() -> None:
    diags = _analyze("aws:ec2/internetGateway:InternetGateway", "rogue-igw", {"vpcId": U_STR, "tags": TAGS})
    assert [d.policyName for d in diags] == ["no-internet-gateway"]
    (diag,) = diags
    assert diag.enforcementLevel == proto.MANDATORY
    assert diag.policyPackName == PACK_NAME
    assert "Remediation:" in diag.message


def test_unencrypted_untagged_volume() -> None:
    diags = _analyze(
        "aws:ebs/volume:Volume", "scratch", {"availabilityZone": "us-east-1a", "size": 10, "encrypted": False}
    )
    assert {d.policyName for d in diags} == {"ebs-encrypted-with-cmk", "required-tags"}
    assert all(d.enforcementLevel == proto.MANDATORY for d in diags)


def test_preview_unknowns_do_not_skip_or_fail_policies() -> None:
    props = {
        "ami": "ami-0123456789abcdef0",
        "subnetId": U_STR,
        "associatePublicIpAddress": U_BOOL,
        "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled"},
        "rootBlockDevice": {"encrypted": True, "kmsKeyId": U_STR},
        "ebsBlockDevices": [],
        "tags": TAGS,
        "vpcSecurityGroupIds": [U_STR],
    }
    assert _analyze("aws:ec2/instance:Instance", "workstation", props) == []
    # an unknown object where a rule needs a value is "can't judge yet", not an advisory skip
    assert _analyze("aws:ec2/instance:Instance", "ws", {**props, "metadataOptions": U_OBJ}) == []
    # but an image EC2 cannot be asked about is a violation of its own, not a skip
    diags = _analyze("aws:ec2/instance:Instance", "ws", {**props, "ami": U_STR})
    assert [d.policyName for d in diags] == ["golden-ami-fresh"]


def test_missing_imds_setting_is_reported_even_with_other_unknowns() -> None:
    props = {
        "ami": "ami-0123456789abcdef0",
        "subnetId": U_STR,
        "rootBlockDevice": {"encrypted": True, "kmsKeyId": U_STR},
        "tags": U_OBJ,
    }
    diags = _analyze("aws:ec2/instance:Instance", "ws", props)
    assert {d.policyName for d in diags} == {"imdsv2-required"}


def test_stack_analysis_with_property_dependencies() -> None:
    vpc_urn = urn("aws:ec2/vpc:Vpc", "vpc")
    rogue_urn = urn("aws:ec2/vpc:Vpc", "rogue")
    resources = [
        proto.AnalyzerResource(
            type="aws:ec2/vpc:Vpc", urn=vpc_urn, name="vpc", properties=_struct({"id": U_STR, "tags": TAGS})
        ),
        proto.AnalyzerResource(
            type="aws:ec2/vpc:Vpc", urn=rogue_urn, name="rogue", properties=_struct({"id": U_STR})
        ),
        proto.AnalyzerResource(
            type="aws:ec2/flowLog:FlowLog",
            urn=urn("aws:ec2/flowLog:FlowLog", "flow"),
            name="flow",
            properties=_struct({"vpcId": U_STR, "trafficType": "ALL"}),
            dependencies=[vpc_urn],
            propertyDependencies={"vpcId": proto.AnalyzerPropertyDependencies(urns=[vpc_urn])},
        ),
    ]
    response = _servicer().AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), None)
    diags = [d for d in response.diagnostics if d.policyName != "dns-firewall-for-every-vpc"]
    assert [(d.policyName, d.urn) for d in diags] == [("flow-logs-for-every-vpc", rogue_urn)]
    assert diags[0].enforcementLevel == proto.MANDATORY
