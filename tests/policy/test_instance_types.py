"""instance-type-allowed: nothing launches with an instance type the operator did not allow."""

from __future__ import annotations

import pytest

from policy_packs.forensics.rules.instance_types import ENV_INSTANCE_TYPES

from .harness import U_STR, clean_room, run_everything, run_resource

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SPOT_FLEET = "aws:ec2/spotFleetRequest:SpotFleetRequest"


@pytest.fixture(autouse=True)
def _default_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_INSTANCE_TYPES, raising=False)


@pytest.mark.parametrize("rtype", [INSTANCE, TEMPLATE])
def test_an_unlisted_instance_type_is_refused(rtype: str) -> None:
    (found,) = run_resource("instance-type-allowed", rtype, {"instanceType": "p5.48xlarge"}, "ws")
    assert "'p5.48xlarge', which is not an allowed instance type" in found.message
    assert run_resource("instance-type-allowed", rtype, {"instanceType": "t3.large"}) == []
    # Not known yet in a preview (judged again at the update), or left to the launch template.
    assert run_resource("instance-type-allowed", rtype, {"instanceType": U_STR}) == []
    assert run_resource("instance-type-allowed", rtype, {}) == []


def test_spot_fleet_specifications_are_judged_each() -> None:
    props = {"launchSpecifications": [{"instanceType": "t3.large"}, {"instanceType": "p4d.24xlarge"}]}
    (found,) = run_resource("instance-type-allowed", SPOT_FLEET, props, "sf")
    assert "launchSpecifications[1].instanceType" in found.message


def test_the_operator_list_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_INSTANCE_TYPES, '["p5.48xlarge"]')
    assert run_resource("instance-type-allowed", INSTANCE, {"instanceType": "p5.48xlarge"}) == []
    assert len(run_resource("instance-type-allowed", INSTANCE, {"instanceType": "t3.large"})) == 1
    # A list that cannot be read refuses rather than allowing everything.
    monkeypatch.setenv(ENV_INSTANCE_TYPES, "t3.large")
    with pytest.raises(ValueError, match="not a JSON list"):
        run_resource("instance-type-allowed", INSTANCE, {"instanceType": "t3.large"})


def test_the_clean_room_passes() -> None:
    assert "instance-type-allowed" not in run_everything(clean_room())
