"""Every instance-launching spelling of pulumi-aws meets the same rules: imdsv2-required,
ebs-encrypted-with-cmk (no-public-ip: test_network.py), and launch-templates-in-stack for the types that
launch from templates."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import KEY_ARN, U_STR, Res, blocked, run_resource, run_stack

INSTANCE = "aws:ec2/instance:Instance"
SPOT = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIG = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
FLEET = "aws:ec2/fleet:Fleet"
ASG = "aws:autoscaling/group:Group"

IMDSV2 = {"httpTokens": "required", "httpEndpoint": "enabled"}
CMK = {"encrypted": True, "kmsKeyId": KEY_ARN}


# ----------------------------------------------------------------------------------- imdsv2-required
@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (SPOT, {"metadataOptions": IMDSV2}),
        (LAUNCH_CONFIG, {"metadataOptions": IMDSV2}),
        (TEMPLATE, {"metadataOptions": {"httpEndpoint": "disabled"}}),
        (SPOT_FLEET, {"launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-1"}}]}),
        (FLEET, {"launchTemplateConfigs": []}),
        (ASG, {"launchTemplate": {"id": "lt-1"}}),
    ],
)
def test_imdsv2_spellings_pass(rtype: str, props: dict[str, Any]) -> None:
    assert run_resource("imdsv2-required", rtype, props) == []


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (SPOT, {}, "spot instance request 'x' does not set metadataOptions.httpTokens"),
        (SPOT, {"metadataOptions": {"httpTokens": "optional"}}, "'optional'"),
        (LAUNCH_CONFIG, {}, "launch configuration 'x'"),
        (LAUNCH_CONFIG, {"metadataOptions": {"httpTokens": "optional"}}, "'optional'"),
        (TEMPLATE, {"metadataOptions": {"httpEndpoint": "enabled"}}, "launch template 'x'"),
        (TEMPLATE, {}, "launch template 'x'"),
        (
            SPOT_FLEET,
            {"launchSpecifications": [{"ami": "ami-1", "subnetId": "s"}]},
            "launchSpecifications[0] cannot require IMDSv2",
        ),
    ],
)
def test_imdsv1_spellings_are_violations(rtype: str, props: dict[str, Any], expected: str) -> None:
    (found,) = run_resource("imdsv2-required", rtype, props, "x")
    assert expected in found.message, found.message
    assert "imdsv2-required" in blocked(Res(rtype, "x", props))


# ---------------------------------------------------------------------------- ebs-encrypted-with-cmk
@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (SPOT, {"rootBlockDevice": CMK, "ebsBlockDevices": [{"deviceName": "/dev/sdf", **CMK}]}),
        (TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": CMK}]}),
        (
            SPOT_FLEET,
            {"launchSpecifications": [{"rootBlockDevices": [CMK], "ebsBlockDevices": [CMK]}]},
        ),
        (SPOT_FLEET, {"launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-1"}}]}),
        (INSTANCE, {"rootBlockDevice": {"encrypted": True, "kmsKeyId": "alias/forensics-case-1"}}),
    ],
)
def test_encrypted_launch_spellings_pass(rtype: str, props: dict[str, Any]) -> None:
    assert run_resource("ebs-encrypted-with-cmk", rtype, props) == []


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (SPOT, {}, "rootBlockDevice is not declared"),
        (SPOT, {"rootBlockDevice": {"encrypted": False}}, "encrypted is not true"),
        (SPOT, {"rootBlockDevice": CMK, "ebsBlockDevices": [{"encrypted": True}]}, "ebsBlockDevices[0]"),
        (LAUNCH_CONFIG, {"rootBlockDevice": {"encrypted": True}}, "cannot name one"),
        (LAUNCH_CONFIG, {}, "rootBlockDevice is not declared"),
        (
            LAUNCH_CONFIG,
            {"rootBlockDevice": {"encrypted": True}, "ebsBlockDevices": [{"encrypted": True}]},
            "ebsBlockDevices[0]",
        ),
        (TEMPLATE, {}, "blockDeviceMappings[].ebs is not declared"),
        (
            TEMPLATE,
            {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]},
            "blockDeviceMappings",
        ),
        (SPOT_FLEET, {"launchSpecifications": [{"ami": "ami-1"}]}, "rootBlockDevices[0] is not declared"),
        (
            SPOT_FLEET,
            {"launchSpecifications": [{"rootBlockDevices": [{"encrypted": True}]}]},
            "launchSpecifications[0] rootBlockDevices[0]: kmsKeyId is not set",
        ),
        (
            SPOT_FLEET,
            {
                "launchSpecifications": [
                    {"rootBlockDevices": [CMK], "ebsBlockDevices": [{"encrypted": False}]}
                ]
            },
            "ebsBlockDevices[0]",
        ),
    ],
)
def test_unencrypted_launch_spellings_are_violations(
    rtype: str, props: dict[str, Any], expected: str
) -> None:
    found = run_resource("ebs-encrypted-with-cmk", rtype, props, "x")
    assert found and any(expected in v.message for v in found), [v.message for v in found]
    assert "ebs-encrypted-with-cmk" in blocked(Res(rtype, "x", props))


# ------------------------------------------------------------------------- launch-templates-in-stack
LTS = "launch-templates-in-stack"


def _template(name: str = "lt", **props: Any) -> Res:
    body = {
        "id": f"{name}-id",
        "name": name,
        "metadataOptions": IMDSV2,
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": CMK}],
        **props,
    }
    return Res(TEMPLATE, name, body)


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (ASG, {"launchTemplate": {"id": "lt-id", "version": "$Latest"}}),
        (ASG, {"launchTemplate": {"name": "lt"}}),
        (
            ASG,
            {
                "mixedInstancesPolicy": {
                    "launchTemplate": {
                        "launchTemplateSpecification": {"launchTemplateId": "lt-id"},
                        "overrides": [{"instanceType": "t3.large"}],
                    }
                }
            },
        ),
        (FLEET, {"launchTemplateConfigs": [{"launchTemplateSpecification": {"launchTemplateName": "lt"}}]}),
        (SPOT_FLEET, {"launchTemplateConfigs": [{"launchTemplateSpecification": {"id": "lt-id"}}]}),
        (INSTANCE, {"launchTemplate": {"id": "lt-id"}}),
        (SPOT, {"launchTemplate": {"name": "lt"}}),
        (INSTANCE, {"ami": "ami-1"}),  # no template at all: judged by its own properties
    ],
)
def test_launching_from_a_stack_template_passes(rtype: str, props: dict[str, Any]) -> None:
    assert run_stack(LTS, [_template(), Res(rtype, "launcher", props)]) == []


def test_preview_matches_templates_by_dependency() -> None:
    template = _template(id=U_STR)
    asg = Res(ASG, "asg", {"launchTemplate": {"id": U_STR}}, deps={"launchTemplate": ["lt"]})
    assert run_stack(LTS, [template, asg]) == []
    config = Res(LAUNCH_CONFIG, "lc", {"name": U_STR})
    by_config = Res(ASG, "asg", {"launchConfiguration": U_STR}, deps={"launchConfiguration": ["lc"]})
    assert run_stack(LTS, [config, by_config]) == []
    # Without any dependency information an unknown reference cannot be judged.
    assert run_stack(LTS, [Res(ASG, "asg", {"launchTemplate": {"id": U_STR}})]) == []


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (ASG, {"launchTemplate": {"id": "lt-0external"}}, "launchTemplate"),
        (ASG, {"launchConfiguration": "someone-elses-config"}, "launch configuration"),
        (
            ASG,
            {
                "mixedInstancesPolicy": {
                    "launchTemplate": {
                        "launchTemplateSpecification": {"launchTemplateId": "lt-id"},
                        "overrides": [{"launchTemplateSpecification": {"launchTemplateName": "external"}}],
                    }
                }
            },
            "overrides[0]",
        ),
        (
            ASG,
            {
                "mixedInstancesPolicy": {
                    "launchTemplate": {"launchTemplateSpecification": {"launchTemplateId": "x"}}
                }
            },
            "mixedInstancesPolicy",
        ),
        (
            FLEET,
            {"launchTemplateConfigs": [{"launchTemplateSpecification": {"launchTemplateId": "x"}}]},
            "[0]",
        ),
        (SPOT_FLEET, {"launchTemplateConfigs": [{"launchTemplateSpecification": {"name": "x"}}]}, "[0]"),
        (INSTANCE, {"launchTemplate": {"id": "lt-0external"}}, "launchTemplate"),
        (SPOT, {"launchTemplate": {"name": "external"}}, "launchTemplate"),
    ],
)
def test_launching_from_an_unseen_template_is_a_violation(
    rtype: str, props: dict[str, Any], expected: str
) -> None:
    found = run_stack(LTS, [_template(), Res(rtype, "launcher", props)])
    assert found and expected in found[0].message, [v.message for v in found]
    assert found[0].urn and found[0].urn.endswith("::launcher")
    assert LTS in blocked(_template(), Res(rtype, "launcher", props))


def test_a_reference_that_depends_on_the_template_only_by_depends_on_does_not_count() -> None:
    asg = Res(
        ASG, "asg", {"launchTemplate": {"id": "lt-0external"}}, deps={"tags": ["lt"], "launchTemplate": []}
    )
    assert run_stack(LTS, [_template(id=U_STR), asg])


def test_bad_template_used_by_a_group_is_refused_by_the_compute_rules() -> None:
    bad = _template(
        metadataOptions={"httpTokens": "optional"},
        blockDeviceMappings=[{"ebs": {"encrypted": False}}],
        networkInterfaces=[{"associatePublicIpAddress": "true"}],
    )
    asg = Res(ASG, "asg", {"launchTemplate": {"id": "lt-id"}})
    found = blocked(bad, asg)
    assert {"imdsv2-required", "ebs-encrypted-with-cmk", "no-public-ip"} <= set(found)
    assert LTS not in found
