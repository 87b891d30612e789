"""Every role of the clean room carries the account's permissions boundary when one is configured: the scoped
deploy role (programs/forensic_account) may create no role without it."""

from __future__ import annotations

import pytest

from programs.forensic_env.config import ConfigError, validate_config

from .harness import ACCOUNT, BASE_CONFIG, run_program

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/forensics-cleanroom-boundary"


def test_every_role_carries_the_boundary() -> None:
    roles = run_program(permissionsBoundaryArn=BOUNDARY).of_type("aws:iam/role:Role")
    assert len(roles) == 6
    assert {r.name: r.inputs.get("permissionsBoundary") for r in roles} == {r.name: BOUNDARY for r in roles}


def test_without_a_boundary_no_role_names_one() -> None:
    roles = run_program().of_type("aws:iam/role:Role")
    assert not [r.name for r in roles if r.inputs.get("permissionsBoundary")]


@pytest.mark.parametrize(
    "bad", ["arn:aws:iam::123456789012:role/x", "policy/x", "arn:aws:iam::aws:policy/Admin*"]
)
def test_a_boundary_that_is_not_a_managed_policy_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate_config({**BASE_CONFIG, "permissionsBoundaryArn": bad})
    assert err.value.key == "forensics:permissionsBoundaryArn"


def _judged(run_roles: list, monkeypatch: pytest.MonkeyPatch, boundary: str | None) -> list[str]:
    import copy

    from tests.policy.harness import run_resource

    if boundary:
        monkeypatch.setenv("FORENSICS_POLICY_PERMISSIONS_BOUNDARY", boundary)
    else:
        monkeypatch.delenv("FORENSICS_POLICY_PERMISSIONS_BOUNDARY", raising=False)
    return [
        v.message
        for r in run_roles
        for v in run_resource("role-carries-boundary", r.type, copy.deepcopy(r.inputs), r.name)
    ]


def test_the_pack_refuses_a_role_without_the_declared_boundary_at_preview(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounded = run_program(permissionsBoundaryArn=BOUNDARY).of_type("aws:iam/role:Role")
    unbounded = run_program().of_type("aws:iam/role:Role")
    assert _judged(bounded, monkeypatch, BOUNDARY) == []
    refused = _judged(unbounded, monkeypatch, BOUNDARY)
    assert len(refused) == 6 and all("none" in message for message in refused)
    other = f"arn:aws:iam::{ACCOUNT}:policy/another"
    assert len(_judged(bounded, monkeypatch, other)) == 6
    # Where the service declares no boundary (no bootstrap yet), nothing is asked.
    assert _judged(unbounded, monkeypatch, None) == []
