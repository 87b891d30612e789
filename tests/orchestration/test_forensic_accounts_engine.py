"""The account is ours: callers choose a region, the settings map it to its forensic account and the deploy
role the service assumes there. On the real engine into the local AWS (which keeps accounts apart through STS
AssumeRole): two investigations in two regions land in two different accounts, checked with boto3 in each;
the service's own legal hold acts in the same account as the stack; a region without a forensic account is
refused before anything is created; and a caller cannot name an account or a role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import aws_clients
from service.config import ForensicAccount, Settings
from service.main import create_app
from tests.support.api import ADMIN, open_body, wait_operation
from tools.local_aws.seed import operator_settings, seed

pytestmark = pytest.mark.engine

HOME = "us-east-1"
AWAY = "eu-west-1"
AWAY_ACCOUNT = "210987654321"
DEPLOY_ROLE = f"arn:aws:iam::{AWAY_ACCOUNT}:role/forensics-deploy"
# The seed makes the deploy role's boundary there too; the clean room's roles are created under it.
BOUNDARY = f"arn:aws:iam::{AWAY_ACCOUNT}:policy/forensics-cleanroom-boundary"


@pytest.fixture
def two_accounts(engine_settings: Settings) -> Iterator[tuple[TestClient, Settings]]:
    settings = engine_settings.model_copy(
        update={
            "forensic_accounts": {
                HOME: ForensicAccount(account_id=engine_settings.aws_account_id),
                AWAY: ForensicAccount(
                    account_id=AWAY_ACCOUNT, deploy_role_arn=DEPLOY_ROLE, permissions_boundary_arn=BOUNDARY
                ),
            },
        }
    )
    seed(settings)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def _open(client: TestClient, ticket: str, region: str) -> dict[str, Any]:
    response = client.post("/v1/investigations", json=open_body(ticket, region=region), headers=ADMIN)
    assert response.status_code == 202, response.text
    op = wait_operation(client, response.json()["operation"]["id"], timeout=900)
    assert op["state"] == "succeeded", op
    return dict(
        client.get(f"/v1/investigations/{response.json()['investigation']['id']}", headers=ADMIN).json()
    )


def _vpcs(settings: Settings, region: str, role: str | None, vpc_id: str) -> list[str]:
    """The VPC's owner as seen through ``role`` (the service's deploy role), or by the operator in its own
    account (None)."""
    ec2 = aws_clients.client(settings if role else operator_settings(settings), "ec2", region, role_arn=role)
    found = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    return [v["OwnerId"] for v in found]


def test_each_region_deploys_into_its_own_forensic_account(two_accounts: tuple[TestClient, Settings]) -> None:
    client, settings = two_accounts
    home_account = settings.aws_account_id

    # A caller cannot choose the account or the role; a region without an account is refused, nothing made.
    for extra in ({"account_id": AWAY_ACCOUNT}, {"assume_role_arn": DEPLOY_ROLE}):
        refused = client.post("/v1/investigations", json=open_body("SEC-500", **extra), headers=ADMIN)
        assert refused.status_code == 422, refused.text
    nowhere = client.post("/v1/investigations", json=open_body("SEC-501", region="ap-south-1"), headers=ADMIN)
    assert nowhere.status_code == 422 and "no forensic account" in nowhere.json()["error"]["message"]
    assert client.get("/v1/investigations", headers=ADMIN).json()["total"] == 0
    ec2_nowhere = aws_clients.client(operator_settings(settings), "ec2", "ap-south-1")
    assert [v for v in ec2_nowhere.describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []

    home = _open(client, "SEC-502", HOME)
    away = _open(client, "SEC-503", AWAY)
    assert (home["account_id"], away["account_id"]) == (home_account, AWAY_ACCOUNT)
    assert away["assume_role_arn"] == DEPLOY_ROLE

    # Each clean room is in its own account, and only there.
    assert _vpcs(settings, HOME, None, home["outputs"]["vpcId"]) == [home_account]
    assert _vpcs(settings, AWAY, DEPLOY_ROLE, away["outputs"]["vpcId"]) == [AWAY_ACCOUNT]
    assert _vpcs(settings, AWAY, None, away["outputs"]["vpcId"]) == []
    assert away["outputs"]["responderRoleArn"].startswith(f"arn:aws:iam::{AWAY_ACCOUNT}:role/")
    away_s3 = aws_clients.client(settings, "s3", AWAY, role_arn=DEPLOY_ROLE)
    away_s3.head_bucket(Bucket=away["outputs"]["evidenceBucket"])

    # The service's own work (the legal hold of a freeze) acts in the stack's account too.
    away_s3.put_object(
        Bucket=away["outputs"]["evidenceBucket"],
        Key="incoming/evidence-artifacts/disk.001",
        Body=b"evidence",
        ChecksumAlgorithm="SHA256",
    )
    freeze = client.post(f"/v1/investigations/{away['id']}/freeze", headers=ADMIN)
    assert freeze.status_code == 202, freeze.text
    op = wait_operation(client, freeze.json()["operation"]["id"], timeout=900)
    assert op["state"] == "succeeded", op
    hold = away_s3.get_object_legal_hold(
        Bucket=away["outputs"]["evidenceBucket"], Key="incoming/evidence-artifacts/disk.001"
    )
    assert hold["LegalHold"]["Status"] == "ON"

    destroyed = client.post(f"/v1/investigations/{home['id']}/destroy", headers=ADMIN)
    assert wait_operation(client, destroyed.json()["operation"]["id"], timeout=900)["state"] == "succeeded"
    assert _vpcs(settings, HOME, None, home["outputs"]["vpcId"]) == []
