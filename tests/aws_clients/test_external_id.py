"""The external id a day-zero role's trust requires: set per forensic or source account, passed on every
AssumeRole the service makes (its own clients and the provider's assumeRoles)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service import aws_clients
from service.config import ForensicAccount, Settings, SourceAccount
from service.investigations import stack_config
from service.investigations.models import Investigation

DEPLOY = "arn:aws:iam::111111111111:role/forensics-deploy"
EVIDENCE = "arn:aws:iam::222222222222:role/forensics-evidence-reader"


def _settings() -> Settings:
    return Settings(
        target="aws",
        aws_region="eu-west-1",
        forensic_accounts={
            "eu-west-1": ForensicAccount(
                account_id="111111111111", deploy_role_arn=DEPLOY, external_id="ext-deploy"
            )
        },
        source_accounts={
            "222222222222": SourceAccount(snapshot_role_arn=EVIDENCE, external_id="ext-evidence")
        },
    )


class _FakeSts:
    def __init__(self, calls: list[dict[str, Any]]) -> None:
        self.calls = calls

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}}


@pytest.fixture
def assume_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import boto3

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        boto3, "client", lambda service, **_: _FakeSts(calls) if service == "sts" else object()
    )
    return calls


@pytest.mark.parametrize(("role", "expected"), [(DEPLOY, "ext-deploy"), (EVIDENCE, "ext-evidence")])
def test_assume_role_passes_the_roles_external_id(
    assume_calls: list[dict[str, Any]], role: str, expected: str
) -> None:
    aws_clients.client(_settings(), "ec2", role_arn=role)
    assert assume_calls == [{"RoleArn": role, "RoleSessionName": "forensics-service", "ExternalId": expected}]


def test_a_role_without_an_external_id_is_assumed_without_one(assume_calls: list[dict[str, Any]]) -> None:
    other = "arn:aws:iam::333333333333:role/other"
    aws_clients.client(_settings(), "ec2", role_arn=other)
    assert "ExternalId" not in assume_calls[0]


def test_the_provider_assumes_the_deploy_role_with_the_external_id() -> None:
    inv = Investigation(id="case-1", region="eu-west-1", assume_role_arn=DEPLOY)
    roles = stack_config.provider_config(inv, _settings())["aws:assumeRoles"].value
    assert roles == [{"roleArn": DEPLOY, "sessionName": "forensics-case-1", "externalId": "ext-deploy"}]


@pytest.mark.parametrize("bad", ["x", "has space", "a" * 1225])
def test_an_invalid_external_id_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        ForensicAccount(account_id="111111111111", external_id=bad)
    with pytest.raises(ValidationError):
        SourceAccount(snapshot_role_arn=EVIDENCE, external_id=bad)


def test_the_clean_room_roles_carry_the_accounts_boundary() -> None:
    boundary = "arn:aws:iam::111111111111:policy/forensics-cleanroom-boundary"
    settings = _settings()
    settings.forensic_accounts["eu-west-1"] = settings.forensic_accounts["eu-west-1"].model_copy(
        update={"permissions_boundary_arn": boundary}
    )
    inv = Investigation(id="case-1", region="eu-west-1", assume_role_arn=DEPLOY)
    assert stack_config.trust_config(settings, inv)["permissionsBoundaryArn"] == boundary
    assert "permissionsBoundaryArn" not in stack_config.trust_config(_settings(), inv)


def test_a_boundary_in_another_account_is_refused() -> None:
    with pytest.raises(ValidationError, match="not in account"):
        ForensicAccount(
            account_id="111111111111",
            permissions_boundary_arn="arn:aws:iam::999999999999:policy/forensics-cleanroom-boundary",
        )


def test_the_pack_is_told_the_accounts_boundary() -> None:
    from datetime import UTC, datetime

    boundary = "arn:aws:iam::111111111111:policy/forensics-cleanroom-boundary"
    settings = _settings()
    settings.forensic_accounts["eu-west-1"] = settings.forensic_accounts["eu-west-1"].model_copy(
        update={"permissions_boundary_arn": boundary}
    )
    inv = Investigation(id="case-1", region="eu-west-1", created_at=datetime.now(UTC))
    assert stack_config.policy_env(inv, settings)["FORENSICS_POLICY_PERMISSIONS_BOUNDARY"] == boundary
    assert "FORENSICS_POLICY_PERMISSIONS_BOUNDARY" not in stack_config.policy_env(inv, _settings())
