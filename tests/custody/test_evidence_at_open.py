"""Evidence given at open is refused before anything is written when acquisition would refuse it: bare
snapshot ids, another region's rule, an account that is no source, a forensic account (even one the
operator also lists as a source). The engine test (tests/custody/test_evidence_at_open_engine.py) checks the
owner in the local AWS and the acquisition that follows."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.auth.roles import Permission
from service.config import LOCAL_SOURCE_ACCOUNT, Settings, SourceAccount
from service.investigations.actions import spec_of
from service.operations.states import Action
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, open_body

SNAPSHOT = "snap-0123456789abcdef0"


def _nothing_written(client: TestClient, fake: FakeExecutor) -> None:
    assert client.get("/v1/investigations", headers=ADMIN).json()["items"] == []
    assert fake.calls == []


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        ([{"source_account_id": "123456789012", "snapshot_id": SNAPSHOT}], "is a forensic account"),
        (
            [{"source_account_id": "999999999999", "snapshot_id": SNAPSHOT}],
            "not a configured evidence source",
        ),
        (
            [{"source_account_id": LOCAL_SOURCE_ACCOUNT, "snapshot_id": SNAPSHOT, "region": "eu-west-1"}],
            "Extra inputs are not permitted",
        ),
        ([{"source_account_id": LOCAL_SOURCE_ACCOUNT, "volume_id": "vol-0123456789abcdef0"}], "snapshot_id"),
        (
            [{"source_account_id": LOCAL_SOURCE_ACCOUNT, "snapshot_id": SNAPSHOT}] * 2,
            "lists a source more than once",
        ),
    ],
)
def test_evidence_acquisition_would_refuse_is_refused_at_open(
    client: TestClient, fake: FakeExecutor, evidence: list[dict[str, Any]], words: str
) -> None:
    refused = client.post("/v1/investigations", json=open_body(evidence=evidence), headers=ADMIN)
    assert refused.status_code == 422, refused.text
    assert words in refused.text
    _nothing_written(client, fake)


def test_bare_snapshot_ids_are_refused_with_the_way_to_give_evidence(
    client: TestClient, fake: FakeExecutor
) -> None:
    refused = client.post(
        "/v1/investigations", json=open_body(evidence_snapshot_ids=[SNAPSHOT]), headers=ADMIN
    )
    assert refused.status_code == 422
    message = refused.json()["error"]["message"] + str(refused.json()["error"].get("details"))
    assert '"evidence"' in message and "source_account_id" in message
    _nothing_written(client, fake)
    # An empty list asks for nothing and is accepted (clients that always send the field).
    assert (
        client.post("/v1/investigations", json=open_body(evidence_snapshot_ids=[]), headers=ADMIN).status_code
        == 202
    )


def test_a_forensic_account_listed_as_a_source_is_still_refused(
    client: TestClient, fake: FakeExecutor, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    forensic = settings.accounts[settings.aws_region].account_id
    app_settings = client.app.state.settings  # type: ignore[attr-defined]
    role = f"arn:aws:iam::{forensic}:role/forensics-deploy"
    monkeypatch.setattr(app_settings, "source_accounts", {forensic: SourceAccount(snapshot_role_arn=role)})
    evidence = [{"source_account_id": forensic, "snapshot_id": SNAPSHOT}]
    refused = client.post("/v1/investigations", json=open_body(evidence=evidence), headers=ADMIN)
    assert refused.status_code == 422 and "is a forensic account" in refused.text
    _nothing_written(client, fake)


def test_evidence_at_open_needs_the_acquire_permission_too() -> None:
    """Every role that may open may acquire today; the action table still asks for both."""
    evidence = {"evidence": [{"source_account_id": LOCAL_SOURCE_ACCOUNT, "snapshot_id": SNAPSHOT}]}
    assert spec_of(Action.OPEN).permissions(evidence) == {Permission.OPEN, Permission.ACQUIRE}
    assert spec_of(Action.OPEN).permissions({}) == {Permission.OPEN}
