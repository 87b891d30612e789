"""Just-in-time access end to end: the service on the real engine and policy pack, into a local AWS that
enforces IAM and judges trust as STS does.

Alice (an SSO-like role of her own, allowed by her identity policy to assume the clean room's roles) is
refused the investigator role until a second person approves her one-hour grant through the API; then she
gets in, as herself only. The deployed statement's condition alone refuses her from the expiry on (judged on
the trust policy read back from IAM). When the test clock passes the expiry, the scheduler takes the grant out
and its `up` leaves the trust policy without her (boto3), and STS refuses her again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from programs.forensic_env.access import INVESTIGATION_SESSION_TAG
from service.access import service as access
from service.main import create_app
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.aws import denied, refusal
from tests.support.clock import TestClock
from tests.support.persons import local_people, with_people
from tests.support.policy_documents import grant_statements, trust_statements
from tests.support.settings import make_engine_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.moto_server import assume_role_request, current_time_context, trust_permits
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

ALICE = "alice"
BOB = "bob"


def test_a_grant_opens_the_role_until_the_local_aws_and_the_scheduler_close_it(
    tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws
) -> None:
    aws = enforcing_aws
    settings = make_engine_settings(
        tmp_path, aws, pulumi_cli, as_administrator=True, integrations_periodic_tasks=False
    )
    alice = local_people(aws, ALICE)[ALICE]
    settings = with_people(settings, alice)
    seed(settings)
    clock = TestClock()
    app: FastAPI = create_app(settings, clock=clock)
    with TestClient(app) as client:
        inv = open_ready(client, "SEC-950", timeout=900)
        investigator = inv["outputs"]["investigatorRoleArn"]

        def assume(person: str = ALICE) -> Any:
            return alice.assume(investigator, inv["id"], as_person=person)

        # No grant: STS refuses her.
        refused = refusal(assume)
        assert refused.code == "AccessDenied" and alice.principal_arn.rsplit("/", 1)[1] in refused.message, (
            refused
        )

        alice_token = issue(client, "investigator", ALICE)
        bob = issue(client, "data_custodian", BOB)
        asked = client.post(
            f"/v1/investigations/{inv['id']}/access-requests",
            json={"role": "investigator", "hours": 1, "reason": "memory triage"},
            headers=alice_token,
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        assert (
            client.post(f"/v1/access-requests/{request_id}/approve", headers=alice_token).status_code == 403
        )
        approved = client.post(f"/v1/access-requests/{request_id}/approve", headers=bob)
        assert approved.status_code == 202, approved.text
        op = wait_operation(client, approved.json()["operation"]["id"], timeout=900)
        assert op["state"] == "succeeded", op

        session = assume()
        assert session["AssumedRoleUser"]["Arn"].endswith(f"/{ALICE}")
        assert denied(lambda: assume("mallory")) == "AccessDenied"  # her grant is for her alone

        # The deployed condition alone refuses her from the expiry on.
        (statement,) = grant_statements(trust_statements(aws.client("iam"), investigator))
        expires = datetime.fromisoformat(
            client.get(f"/v1/access-requests/{request_id}", headers=ADMIN).json()["expires_at"]
        )
        account = alice.principal_arn.split(":")[4]
        request = {
            "RoleSessionName": [ALICE],
            "SourceIdentity": [ALICE],
            "Tags.member.1.Key": [INVESTIGATION_SESSION_TAG],
            "Tags.member.1.Value": [inv["id"]],
        }
        actions, context = assume_role_request(request, alice.principal_arn, account)
        doc = {"Version": "2012-10-17", "Statement": [statement]}

        def judged(at: datetime) -> bool:
            at_that_time = {**context, **current_time_context(at)}
            return all(trust_permits(doc, a, {alice.principal_arn}, account, at_that_time) for a in actions)

        assert judged(expires - timedelta(seconds=1)) is True
        assert judged(expires) is False

        # The scheduler, at the test clock's time past the expiry, takes her out of the trust policy.
        clock.advance(minutes=61)
        report = access.expire_grants(app.state.jobs.ctx, clock())
        assert report.expired == [request_id] and report.errors == {}
        sync = report.synced[inv["id"]]
        assert sync is not None
        assert wait_operation(client, sync, timeout=900)["state"] == "succeeded"
        assert grant_statements(trust_statements(aws.client("iam"), investigator)) == []
        assert denied(assume) == "AccessDenied"
        assert client.get(f"/v1/access-requests/{request_id}", headers=ADMIN).json()["status"] == "expired"
