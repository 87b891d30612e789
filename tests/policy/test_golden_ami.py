"""golden-ami-fresh judges what EC2 says about each launched image, never what the program says about it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from policy_packs.forensics.rules import aws_access
from tests.support.stub_ec2 import StubEc2, client_error

from .harness import ACCOUNT, TAGS, U_OBJ, U_STR, run_resource

POLICY = "golden-ami-fresh"
INSTANCE = "aws:ec2/instance:Instance"
SPOT_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"
OLD = "ami-0000000000000001d"
FRESH = "ami-0000000000000002f"
OTHER_ACCOUNT = "999999999999"
# Taken before conftest's autouse fixture swaps in the stub.
REAL_CONNECT = aws_access.connect


@pytest.fixture(autouse=True)
def _no_env_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORENSICS_MAX_AMI_AGE_DAYS", raising=False)


def _instance(ami: Any, **extra: Any) -> dict[str, Any]:
    return {"ami": ami, "instanceType": "t3.large", "tags": TAGS, **extra}


def test_an_old_image_is_refused_with_its_real_creation_date(ec2: StubEc2) -> None:
    created = ec2.add(OLD, timedelta(days=45))
    (found,) = run_resource(POLICY, INSTANCE, _instance(OLD), "ws")
    assert f"instance 'ws' launches image {OLD}, created {created} (45 days ago)" in found.message
    assert "the limit is 30 days" in found.message
    assert "Remediation:" in found.message
    assert ec2.calls == [[OLD]]


def test_a_fresh_image_passes(ec2: StubEc2) -> None:
    ec2.add(FRESH, timedelta(days=29, hours=23))
    assert run_resource(POLICY, INSTANCE, _instance(FRESH)) == []
    assert ec2.calls == [[FRESH]]


def test_the_programs_tags_count_for_nothing(ec2: StubEc2) -> None:
    # What the program used to write (and anyone controlling it could forge): the image's age and date.
    ec2.add(OLD, timedelta(days=400))
    forged = {
        **TAGS,
        "forensics:ami-age-days": "1",
        "forensics:ami-creation-date": "2099-01-01T00:00:00.000Z",
    }
    (found,) = run_resource(POLICY, INSTANCE, _instance(OLD, tags=forged), "ws")
    assert "(400 days ago)" in found.message
    # And a fresh image needs no tag at all.
    ec2.add(FRESH, timedelta(days=1))
    assert run_resource(POLICY, INSTANCE, _instance(FRESH, tags={})) == []


@pytest.mark.parametrize(
    ("rtype", "props", "where"),
    [
        (INSTANCE, {"ami": U_STR}, "instance 'res' takes its image (ami) from a value not known yet"),
        (SPOT_REQUEST, {"ami": U_STR}, "spot instance request 'res' takes its image (ami)"),
        (LAUNCH_TEMPLATE, {"imageId": U_STR}, "launch template 'res' takes its image (imageId)"),
        (LAUNCH_CONFIGURATION, {"imageId": U_STR}, "launch configuration 'res' takes its image (imageId)"),
        (SPOT_FLEET, {"launchSpecifications": [U_OBJ]}, "launchSpecifications[0] takes its image (ami)"),
        (SPOT_FLEET, {"launchSpecifications": [{"ami": U_STR}]}, "launchSpecifications[0] takes its image"),
        (SPOT_FLEET, {"launchSpecifications": U_STR}, "takes its image (launchSpecifications)"),
    ],
)
def test_an_unknown_image_id_is_refused(ec2: StubEc2, rtype: str, props: dict[str, Any], where: str) -> None:
    (found,) = run_resource(POLICY, rtype, props)
    assert where in found.message
    assert "age and owner cannot be checked" in found.message
    assert ec2.calls == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            client_error("UnauthorizedOperation", "not authorized to perform: ec2:DescribeImages"),
            "Unauthorized",
        ),
        (client_error("RequestExpired"), "RequestExpired: refused"),
        (aws_access.AwsAccessError("no AWS credentials in the analyzer's environment"), "no AWS credentials"),
    ],
)
def test_ec2_errors_fail_closed(
    monkeypatch: pytest.MonkeyPatch, ec2: StubEc2, error: Exception, reason: str
) -> None:
    if isinstance(error, aws_access.AwsAccessError):

        def refuse(target: aws_access.Target | None = None) -> aws_access.Connection:
            raise error

        monkeypatch.setattr(aws_access, "connect", refuse)
    else:
        ec2.error = error
    (found,) = run_resource(POLICY, INSTANCE, _instance(FRESH), "ws")
    assert f"instance 'ws' launches image {FRESH}" in found.message
    assert reason in found.message and "fails closed" in found.message


def test_without_the_services_environment_the_rule_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real connect: the analyzer was not started by the service, so it does not know the stack's region.
    monkeypatch.setattr(aws_access, "connect", REAL_CONNECT)
    monkeypatch.delenv(aws_access.ENV_REGION, raising=False)
    (found,) = run_resource(POLICY, INSTANCE, _instance(FRESH), "ws")
    assert aws_access.ENV_REGION in found.message and "fails closed" in found.message


def test_an_image_ec2_does_not_know_is_refused(ec2: StubEc2) -> None:
    ec2.every_image_fresh = False
    (found,) = run_resource(POLICY, INSTANCE, _instance(OLD), "ws")
    assert f"launches image {OLD}, which EC2 does not know in us-east-1 (account {ACCOUNT})" in found.message


def test_an_image_of_another_owner_is_refused(monkeypatch: pytest.MonkeyPatch, ec2: StubEc2) -> None:
    ec2.add(FRESH, timedelta(days=1), owner=OTHER_ACCOUNT)
    (found,) = run_resource(POLICY, INSTANCE, _instance(FRESH), "ws")
    assert f"owned by {OTHER_ACCOUNT}, which is not an allowed golden AMI owner (self ({ACCOUNT}))" in (
        found.message
    )
    # The service's golden_ami_owner_accounts setting, as the engine environment carries it.
    monkeypatch.setenv("FORENSICS_POLICY_AMI_OWNERS", f'["self", "{OTHER_ACCOUNT}"]')
    assert run_resource(POLICY, INSTANCE, _instance(FRESH)) == []
    monkeypatch.setenv("FORENSICS_POLICY_AMI_OWNERS", "self")
    (found,) = run_resource(POLICY, INSTANCE, _instance(FRESH))
    assert "FORENSICS_POLICY_AMI_OWNERS is not a JSON list" in found.message


@pytest.mark.parametrize(
    ("rtype", "props", "where"),
    [
        (SPOT_REQUEST, {"ami": OLD}, "spot instance request 'res' launches image"),
        (LAUNCH_TEMPLATE, {"imageId": OLD}, "launch template 'res' launches image"),
        (LAUNCH_CONFIGURATION, {"imageId": OLD}, "launch configuration 'res' launches image"),
        (
            SPOT_FLEET,
            {"launchSpecifications": [{"ami": FRESH}, {"ami": OLD}]},
            "spot fleet request 'res' launchSpecifications[1] launches image",
        ),
    ],
)
def test_every_instance_launching_type_is_judged(
    ec2: StubEc2, rtype: str, props: dict[str, Any], where: str
) -> None:
    ec2.add(OLD, timedelta(days=90))
    ec2.add(FRESH, timedelta(days=1))
    (found,) = run_resource(POLICY, rtype, props)
    assert f"{where} {OLD}" in found.message and "(90 days ago)" in found.message


def test_what_names_no_image_itself(ec2: StubEc2) -> None:
    # An instance launched from a template takes the template's image, and the template is judged itself;
    # a template without an image leaves it to whatever launches from it.
    assert run_resource(POLICY, INSTANCE, {"launchTemplate": {"id": U_STR}, "tags": TAGS}) == []
    assert run_resource(POLICY, LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "required"}}) == []
    assert ec2.calls == []
    (found,) = run_resource(POLICY, INSTANCE, {"instanceType": "t3.large", "tags": TAGS}, "ws")
    assert "instance 'ws' names no image (ami)" in found.message
    (found,) = run_resource(POLICY, LAUNCH_TEMPLATE, {"imageId": "resolve:ssm:/golden/latest"}, "lt")
    assert "through an SSM parameter" in found.message


def test_unrelated_types_are_not_judged(ec2: StubEc2) -> None:
    assert run_resource(POLICY, "aws:ec2/vpc:Vpc", {"tags": TAGS}) == []
    assert ec2.calls == []


def test_the_limit_from_policy_config_and_environment(monkeypatch: pytest.MonkeyPatch, ec2: StubEc2) -> None:
    ec2.add(OLD, timedelta(days=45))
    assert run_resource(POLICY, INSTANCE, _instance(OLD), config={"maxAmiAgeDays": 60}) == []
    monkeypatch.setenv("FORENSICS_MAX_AMI_AGE_DAYS", "50")
    assert run_resource(POLICY, INSTANCE, _instance(OLD)) == []
    monkeypatch.setenv("FORENSICS_MAX_AMI_AGE_DAYS", "5")
    (found,) = run_resource(POLICY, INSTANCE, _instance(OLD))
    assert "the limit is 5 days" in found.message


def test_a_limit_of_zero_days_refuses_any_image(monkeypatch: pytest.MonkeyPatch, ec2: StubEc2) -> None:
    ec2.add(FRESH, timedelta(minutes=1))
    monkeypatch.setenv("FORENSICS_MAX_AMI_AGE_DAYS", "0")
    (found,) = run_resource(POLICY, INSTANCE, _instance(FRESH))
    assert "(0 days ago); the limit is 0 days" in found.message


def test_the_image_is_judged_as_of_the_clean_rooms_opening(
    ec2: StubEc2, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 days old now, 5 days old when the clean room opened (the service says when, not the program): a
    # freeze today must not be refused because the workstation's image has aged since.
    from datetime import UTC, datetime

    from policy_packs.forensics.rules.ami import ENV_AMI_JUDGED_AT

    ec2.add(OLD, timedelta(days=40))
    monkeypatch.setenv(ENV_AMI_JUDGED_AT, (datetime.now(UTC) - timedelta(days=35)).isoformat())
    assert run_resource(POLICY, INSTANCE, _instance(OLD)) == []
    # Opened when the image was already too old: refused, with the opening's date in the message.
    monkeypatch.setenv(ENV_AMI_JUDGED_AT, (datetime.now(UTC) - timedelta(days=2)).isoformat())
    (found,) = run_resource(POLICY, INSTANCE, _instance(OLD), "ws")
    assert "38 days before the clean room opened" in found.message
