"""The custody chain is checked against its witnesses outside the database (whoever can
write the database could otherwise rewrite the chain and its hashes together): an
event edited in the database and the chain's hashes recomputed so the chain is consistent again is caught by
the event's mirrored copy under legal hold in the evidence bucket, and by the custody head of a signed
statement. The evidence bucket is a real Object Lock bucket of the local AWS; the engine is the fake one
(only the custody ledger is under test, and the bucket is what a deployment would have made)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import aws_clients, statement_signing
from service.config import Settings
from service.custody import ledger
from service.custody.models import CustodyEvent, CustodyEventType, SignedStatement
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, open_ready
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed


@pytest.fixture
def settings(tmp_path: Path, local_aws: LocalAws) -> Settings:
    settings = make_settings(tmp_path, aws=local_aws)
    seed(settings)
    return settings


def _s3(settings: Settings) -> Any:
    return aws_clients.client(settings, "s3", role_arn=settings.accounts[settings.aws_region].deploy_role_arn)


def _evidence_bucket(settings: Settings, fake: FakeExecutor) -> str:
    """An Object Lock bucket (versioned, locked) as the program makes it, named in the room's outputs."""
    bucket = f"forensics-chain-{uuid.uuid4().hex[:12]}-evidence"
    _s3(settings).create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    fake.bucket = bucket
    return bucket


def _record(app: FastAPI, inv_id: str, n: int) -> None:
    with app.state.session_factory() as session:
        for i in range(n):
            ledger.record(
                session,
                app.state.clock,
                investigation_id=inv_id,
                event=CustodyEventType.HASHED,
                actor="rita@example.com",
                artifact_id=None,
                hashes={"sha256": f"{i:064x}"},
                details={"note": f"event {i + 1}"},
            )
        session.commit()


def _rewrite_history(app: FastAPI, inv_id: str, seq: int) -> None:
    """What someone with write access to the database does: edit an event, then recompute every hash from it
    on, so the chain is consistent in itself again."""
    with app.state.session_factory() as session:
        rows = list(
            session.execute(
                select(CustodyEvent).where(CustodyEvent.investigation_id == inv_id).order_by(CustodyEvent.seq)
            ).scalars()
        )
        rows[seq - 1].actor = "someone-else@example.com"
        rows[seq - 1].hashes = {"sha256": "f" * 64}
        prev = ledger.genesis(inv_id) if seq == 1 else rows[seq - 2].hash
        for row in rows[seq - 1 :]:
            row.prev_hash = prev
            row.hash = ledger.event_hash(prev, row)
            prev = row.hash
        session.commit()
        assert ledger.verify_chain(session, inv_id).ok  # the database alone cannot tell


def _custody(client: TestClient, inv_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_edited_and_rechained_event_differs_from_its_mirrored_copy(
    app: FastAPI, client: TestClient, settings: Settings, fake: FakeExecutor
) -> None:
    bucket = _evidence_bucket(settings, fake)
    inv = open_ready(client, "SEC-1901")
    _record(app, inv["id"], 3)
    with app.state.session_factory() as session:
        assert len(ledger.mirror(session, _s3(settings), bucket, inv["id"])) == 3
        session.commit()
    assert _custody(client, inv["id"])["chain_ok"] is True

    _rewrite_history(app, inv["id"], 2)

    custody = _custody(client, inv["id"])
    assert custody["chain_ok"] is False
    problem = custody["chain_problem"]
    assert problem.startswith("event 2:") and "evidence bucket" in problem, problem
    assert "actor" in problem and "hash" in problem

    # Rows cut from the end are missed too: the bucket still holds them.
    with app.state.session_factory() as session:
        last = session.execute(select(CustodyEvent).where(CustodyEvent.seq == 3)).scalar_one()
        session.delete(last)
        session.commit()
    _rewrite_history(app, inv["id"], 1)
    problem = _custody(client, inv["id"])["chain_problem"]
    assert problem.startswith("event 1:"), problem
    with app.state.session_factory() as session:
        for row in session.execute(select(CustodyEvent)).scalars():
            session.delete(row)
        session.commit()
    _record(app, inv["id"], 2)  # a fresh, consistent chain of two
    problem = _custody(client, inv["id"])["chain_problem"]
    assert problem.startswith("event 1:"), problem  # differs from the copy of the original event 1


def test_an_edited_and_rechained_event_misses_the_signed_custody_head(
    app: FastAPI, client: TestClient, settings: Settings, fake: FakeExecutor
) -> None:
    bucket = _evidence_bucket(settings, fake)
    inv = open_ready(client, "SEC-1902")
    _record(app, inv["id"], 3)  # never mirrored: only the signed head witnesses the chain
    with app.state.session_factory() as session:
        head = session.execute(select(CustodyEvent).where(CustodyEvent.seq == 3)).scalar_one()
        statement = {"investigationId": inv["id"], "custodyHead": {"seq": head.seq, "hash": head.hash}}
        document = statement_signing.sign_statement(
            statement_signing.signer_for(settings, inv["region"]), "freeze-manifest", statement
        )
        key = "legal-hold/20261206T180000Z/manifest.signed.json"
        _s3(settings).put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(document).encode(),
            ChecksumAlgorithm="SHA256",
            ObjectLockLegalHoldStatus="ON",
        )
        session.add(
            SignedStatement(
                investigation_id=inv["id"],
                kind="freeze-manifest",
                location=f"s3://{bucket}/{key}",
                document=document,
                created_at=app.state.clock(),
            )
        )
        session.commit()
    assert _custody(client, inv["id"])["chain_ok"] is True

    _rewrite_history(app, inv["id"], 2)

    custody = _custody(client, inv["id"])
    assert custody["chain_ok"] is False
    assert custody["chain_problem"].startswith("event 3:"), custody["chain_problem"]
    assert "signed in s3://" in custody["chain_problem"]
