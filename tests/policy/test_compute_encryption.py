"""imdsv2-required, ebs-encrypted-with-cmk, kms-rotation."""

from __future__ import annotations

import pytest

from .harness import KEY_ARN, U_OBJ, U_STR, run_resource

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "aws:ebs/volume:Volume"
GOOD_ROOT = {"encrypted": True, "kmsKeyId": KEY_ARN}


# ----------------------------------------------------------------------------------- imdsv2-required
def test_imdsv2_required_passes() -> None:
    assert run_resource("imdsv2-required", INSTANCE, {"metadataOptions": {"httpTokens": "required"}}) == []
    assert run_resource("imdsv2-required", TEMPLATE, {"metadataOptions": {"httpTokens": "required"}}) == []
    assert run_resource("imdsv2-required", INSTANCE, {"metadataOptions": {"httpEndpoint": "disabled"}}) == []
    assert run_resource("imdsv2-required", INSTANCE, {"metadataOptions": U_OBJ}) == []


@pytest.mark.parametrize(
    ("rtype", "props"),
    [
        (INSTANCE, {}),
        (INSTANCE, {"metadataOptions": {"httpTokens": "optional"}}),
        (INSTANCE, {"metadataOptions": {"httpEndpoint": "enabled"}}),
        (TEMPLATE, {"metadataOptions": {"httpTokens": "optional"}}),
    ],
)
def test_imdsv1_is_a_violation(rtype: str, props: dict[str, object]) -> None:
    (found,) = run_resource("imdsv2-required", rtype, props, "ws")
    assert "httpTokens" in found.message


# ---------------------------------------------------------------------------- ebs-encrypted-with-cmk
def test_encrypted_devices_and_volumes_pass() -> None:
    props = {"rootBlockDevice": GOOD_ROOT, "ebsBlockDevices": [{"deviceName": "/dev/sdf", **GOOD_ROOT}]}
    assert run_resource("ebs-encrypted-with-cmk", INSTANCE, props) == []
    assert run_resource("ebs-encrypted-with-cmk", VOLUME, {"encrypted": True, "kmsKeyId": KEY_ARN}) == []
    # Preview: the key ARN is not known yet, but it is set.
    assert run_resource("ebs-encrypted-with-cmk", VOLUME, {"encrypted": True, "kmsKeyId": U_STR}) == []
    assert (
        run_resource(
            "ebs-encrypted-with-cmk",
            TEMPLATE,
            {
                "blockDeviceMappings": [
                    {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN}}
                ]
            },
        )
        == []
    )


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (INSTANCE, {}, "rootBlockDevice is not declared"),
        (INSTANCE, {"rootBlockDevice": {"encrypted": True}}, "kmsKeyId is not set"),
        (
            INSTANCE,
            {"rootBlockDevice": GOOD_ROOT, "ebsBlockDevices": [{"deviceName": "/dev/sdf"}]},
            "ebsBlockDevices[0]",
        ),
        (VOLUME, {"availabilityZone": "us-east-1a", "size": 10, "encrypted": False}, "encrypted is not true"),
        (VOLUME, {"encrypted": True}, "kmsKeyId is not set"),
        (TEMPLATE, {"blockDeviceMappings": [{"ebs": {"encrypted": "false"}}]}, "blockDeviceMappings[0]"),
    ],
)
def test_unencrypted_or_aws_managed_key_is_a_violation(
    rtype: str, props: dict[str, object], expected: str
) -> None:
    found = run_resource("ebs-encrypted-with-cmk", rtype, props, "vol")
    assert found and expected in found[0].message


# -------------------------------------------------------------------------------------- kms-rotation
def test_rotating_key_passes() -> None:
    assert run_resource("kms-rotation", "aws:kms/key:Key", {"enableKeyRotation": True}) == []


@pytest.mark.parametrize("props", [{}, {"enableKeyRotation": False}])
def test_key_without_rotation_is_a_violation(props: dict[str, object]) -> None:
    assert len(run_resource("kms-rotation", "aws:kms/key:Key", props)) == 1
