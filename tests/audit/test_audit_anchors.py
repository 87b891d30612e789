"""Signed audit anchors catch what the chain alone cannot: a truncated log with its head fixed up, and a chain
recomputed after an edit. SQLite through the project's own migrations; the anchor bucket in the local AWS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from service.audit import anchors
from service.audit import service as audit
from service.audit.models import AuditEntry, AuditHead
from service.config import Settings
from service.db.migrate import upgrade
from service.db.session import SessionFactory, make_engine, make_session_factory, session_scope
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from service.statement_signing import LocalKeySigner, sign_statement
from tests.support.api import ADMIN
from tests.support.clock import TestClock
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import _ensure_anchor_bucket, _ensure_deploy_role, grant_service

ACTOR = audit.Actor("alice@example.com", "responder")


@dataclass
class Log:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: TestClock
    s3: Any
    bucket: str
    signer: LocalKeySigner

    def append(self, count: int) -> None:
        with session_scope(self.sessions) as session:
            for _ in range(count):
                self.clock.advance(seconds=1)
                audit.record(
                    session, self.clock, actor=ACTOR, action="investigation.open", target="inv", outcome="ok"
                )

    def anchor(self, reason: str = "test") -> dict[str, Any]:
        self.clock.advance(seconds=1)
        with session_scope(self.sessions) as session:
            return anchors.write_anchor(session, self.clock, self.signer, self.s3, self.bucket, reason=reason)

    def verify(self) -> audit.Verification:
        documents = anchors.load_anchors(self.s3, self.bucket)
        with session_scope(self.sessions) as session:
            return anchors.verify_with_anchors(session, documents, self.signer.public_key_pem())

    def plain_verify(self) -> audit.Verification:
        with session_scope(self.sessions) as session:
            return audit.verify(session)


@pytest.fixture
def settings(tmp_path: Path, local_aws: LocalAws) -> Settings:
    """Each test its own database and its own anchor bucket (anchors under COMPLIANCE cannot be cleared)."""
    settings = make_settings(
        tmp_path, aws=local_aws, audit_anchor_bucket=f"forensics-audit-anchors-test-{uuid.uuid4().hex[:16]}"
    )
    role = settings.accounts[settings.aws_region].deploy_role_arn
    assert role
    _ensure_deploy_role(settings, settings.aws_region, role)
    grant_service(settings)  # the service may assume that role, as day zero grants it
    _ensure_anchor_bucket(settings)
    _ensure_anchor_bucket(settings)  # idempotent
    return settings


@pytest.fixture
def log(settings: Settings) -> Iterator[Log]:
    engine = make_engine(settings)
    upgrade(engine)
    assert settings.anchor_bucket
    yield Log(
        settings,
        engine,
        make_session_factory(engine),
        TestClock(),
        anchors.anchor_s3(settings),
        settings.anchor_bucket,
        LocalKeySigner(),
    )
    engine.dispose()


def test_the_anchor_bucket_is_locked_for_good(log: Log, local_aws: LocalAws) -> None:
    # Checked as the account's administrator: the service's deploy role may only write and read anchors.
    admin = local_aws.client("s3")
    config = admin.get_object_lock_configuration(Bucket=log.bucket)["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    assert config["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert config["Rule"]["DefaultRetention"]["Days"] == 3650
    log.append(2)
    document = log.anchor()
    [key] = [o["Key"] for o in log.s3.list_objects_v2(Bucket=log.bucket)["Contents"]]
    assert key == anchors.anchor_key(2, log.clock())
    assert key.startswith("anchors/000000000002-")
    head = log.s3.head_object(Bucket=log.bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    versions = admin.list_object_versions(Bucket=log.bucket, Prefix=key)["Versions"]
    with pytest.raises(admin.exceptions.ClientError):
        admin.delete_object(Bucket=log.bucket, Key=key, VersionId=versions[0]["VersionId"])
    assert document["kind"] == "audit-anchor"
    assert set(document["statement"]) == {"lastId", "lastHash", "time", "reason"}
    assert anchors.load_anchors(log.s3, log.bucket) == [document]


def test_an_untouched_log_verifies_against_its_anchors(log: Log) -> None:
    log.append(5)
    log.anchor()
    log.append(3)
    log.anchor()
    log.append(1)  # entries after the latest anchor are covered by the chain alone
    result = log.verify()
    assert result.ok, result
    assert (result.checked, result.anchors_checked, result.anchored_through) == (9, 2, 8)
    assert result.anchor_problems == ()


def test_deleting_the_last_entries_and_fixing_the_head_is_detected(log: Log) -> None:
    log.append(6)
    log.anchor()
    log.append(2)
    anchored = log.anchor()
    with log.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE id > 6"))
        six = conn.execute(text("SELECT hash FROM audit_entries WHERE id = 6")).scalar_one()
        conn.execute(text("UPDATE audit_head SET last_id = 6, last_hash = :h"), {"h": six})

    assert log.plain_verify().ok  # what the chain alone cannot see
    result = log.verify()
    assert not result.ok
    assert result.reason == (
        f"the log ends at entry 6 but an anchor signed at {anchored['statement']['time']} covers entry 8: "
        "entries were removed"
    )
    assert result.first_bad_id == 7


def test_a_chain_recomputed_after_an_edit_is_detected(log: Log) -> None:
    log.append(4)
    first = log.anchor()
    log.append(4)
    log.anchor()
    with session_scope(log.sessions) as session:
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        entries[1].actor = "someone-else"
        prev = audit.GENESIS_HASH
        for entry in entries:  # every hash consistent again, the head too
            entry.prev_hash = prev
            entry.hash = prev = audit.entry_hash(prev, entry)
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash = prev

    assert log.plain_verify().ok
    result = log.verify()
    assert not result.ok
    assert result.reason == (
        f"entry 4 does not match the signed anchor of {first['statement']['time']}: the chain was rewritten"
    )
    assert result.first_bad_id == 4
    assert len(result.anchor_problems) == 2  # the anchor of entry 8 disagrees too


def test_an_anchor_not_signed_by_the_key_counts_against_the_log(log: Log) -> None:
    log.append(2)
    log.anchor()
    forged = sign_statement(
        LocalKeySigner(), "audit-anchor", {"lastId": 2, "lastHash": "0" * 64, "time": "x"}
    )
    documents = [*anchors.load_anchors(log.s3, log.bucket), forged]
    with session_scope(log.sessions) as session:
        result = anchors.verify_with_anchors(session, documents, log.signer.public_key_pem())
    assert not result.ok
    assert result.anchors_checked == 1
    assert "the anchor of x is not valid" in (result.reason or "")
    assert "not by the given public key" in (result.reason or "")


def test_an_edit_the_chain_sees_is_still_reported_first(log: Log) -> None:
    log.append(3)
    log.anchor()
    with log.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE id = 2"))
    result = log.verify()
    assert (result.ok, result.first_bad_id, result.reason) == (
        False,
        2,
        "entry content does not match its hash",
    )
    assert result.anchor_problems == ()  # entry 3's hash itself was not touched


def test_the_schedule_anchors_when_the_head_moved_and_the_interval_passed(
    log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchors, "signer_for", lambda settings, region: log.signer)
    schedule = anchors.AnchorSchedule(log.settings, log.sessions, log.clock)
    assert schedule.run() is None  # an empty log has nothing to anchor
    log.append(2)
    written = schedule.run()
    assert written is not None and written["statement"]["lastId"] == 2
    assert written["statement"]["reason"] == "scheduled"
    log.append(1)
    log.clock.advance(minutes=30)
    assert schedule.run() is None  # moved, but not yet an interval since the last anchor
    log.clock.advance(minutes=31)
    assert (schedule.run() or {})["statement"]["lastId"] == 3
    log.clock.advance(hours=2)
    assert schedule.run() is None  # the head has not moved

    # Another process learns the latest anchor from the bucket's key names; an anchor written meanwhile
    # (freeze, destroy) is not written again.
    log.clock.advance(hours=2)
    other = anchors.AnchorSchedule(log.settings, log.sessions, log.clock)
    assert other.run() is None
    log.append(1)
    log.anchor("freeze")
    log.clock.advance(hours=2)
    assert schedule.run() is None
    assert [a["statement"]["lastId"] for a in anchors.load_anchors(log.s3, log.bucket)] == [2, 3, 4]


def test_verify_endpoint_reports_the_anchors(
    settings: Settings, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchors, "signer_for", lambda settings, region: log.signer)
    app = create_app(settings, executor=FakeExecutor())
    assert app.state.jobs.anchor_schedule is not None  # the periodic task is registered
    with TestClient(app) as client:
        log.append(3)
        written = anchors.anchor_now(settings, log.sessions, log.clock, "freeze inv-1")
        assert written is not None and written["statement"]["reason"] == "freeze inv-1"
        body = client.get("/v1/audit/verify", headers=ADMIN).json()
        anchors_checked = body.pop("anchors_checked")
        assert anchors_checked >= 1  # the app's own periodic task may have anchored the head too
        assert body == {
            "ok": True,
            "checked": 3,
            "first_bad_id": None,
            "reason": None,
            "anchored_through": 3,
            "anchor_problems": [],
        }
        with log.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entries WHERE id = 3"))
            two = conn.execute(text("SELECT hash FROM audit_entries WHERE id = 2")).scalar_one()
            conn.execute(text("UPDATE audit_head SET last_id = 2, last_hash = :h"), {"h": two})
        body = client.get("/v1/audit/verify", headers=ADMIN).json()
        assert (body["ok"], body["first_bad_id"]) == (False, 3)
        assert "entries were removed" in body["reason"]


def test_verify_endpoint_fails_closed_when_the_anchors_cannot_be_read(
    settings: Settings, log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchors, "signer_for", lambda settings, region: log.signer)
    missing = settings.model_copy(update={"audit_anchor_bucket": f"no-such-{uuid.uuid4().hex[:12]}"})
    with TestClient(create_app(missing, executor=FakeExecutor())) as client:
        body = client.get("/v1/audit/verify", headers=ADMIN).json()
    assert body["ok"] is False
    assert body["anchors_checked"] == 0
    assert "could not be read" in body["reason"]


def test_without_the_local_aws_anchors_are_off(settings: Settings) -> None:
    offline = settings.model_copy(update={"aws_endpoint_url": None})
    assert not anchors.anchors_enabled(offline)
    assert anchors.anchor_now(offline, make_session_factory(make_engine(offline)), TestClock(), "x") is None
    assert anchors.anchors_enabled(settings)
