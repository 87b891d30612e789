"""Files handed in as evidence, on the real engine and the local AWS: a presigned upload that S3 refuses for
any bytes but the declared ones, and registering what is in incoming/evidence-artifacts/, which records each
object's SHA-256 (checked against `sha256sum` of the file) in the custody chain. The room is the custody
features' shared one (tests/support/custody_room.py), whose responder hands files in through the room's
responder role, by a grant bound to her own role."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from programs.forensic_env.access import INCOMING as PROGRAM_INCOMING
from service.custody import uploads
from service.investigations.models import Investigation
from service.operations.models import OperationEvent
from tests.support.api import ADMIN, issue, wait_operation
from tests.support.aws import client_as
from tests.support.custody_room import CUSTODY_ROOM_GROUP, RESPONDER, CustodyRoom
from tests.support.persons import grant
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=CUSTODY_ROOM_GROUP)]

TIMEOUT = 300


def _upload_url(client: TestClient, inv_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return client.post(f"/v1/investigations/{inv_id}/evidence/uploads", json=body, headers=headers)


def _register(client: TestClient, inv_id: str, headers: dict[str, str], keys: list[str]) -> httpx.Response:
    return client.post(f"/v1/investigations/{inv_id}/evidence/objects", json={"keys": keys}, headers=headers)


def _registered(client: TestClient, inv_id: str, keys: list[str], headers: dict[str, str]) -> dict[str, Any]:
    accepted = _register(client, inv_id, headers, keys)
    assert accepted.status_code == 202, accepted.text
    return wait_operation(client, accepted.json()["operation"]["id"], timeout=TIMEOUT)


def _evidence(client: TestClient, inv_id: str) -> dict[str, dict[str, Any]]:
    listed = client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
    # By key, the room's artifacts that are not objects (a snapshot's) by id.
    return {a["source"].get("key", a["id"]): a for a in listed}


def _sha256sum(path: Path) -> str:
    done = subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True)
    return done.stdout.split()[0]


def test_uploaded_and_handed_in_files_get_their_sha256_recorded(
    open_custody_room: CustodyRoom, local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = open_custody_room
    engine_client, engine_settings, people = room.service, room.service_settings, room.people
    assert uploads.INCOMING == PROGRAM_INCOMING
    # Progress events are for large objects; a 3 MiB file stands in for one.
    monkeypatch.setattr(uploads, "PROGRESS_FROM_BYTES", 1 << 20)
    inv_id = room.id
    responder = issue(engine_client, "responder", RESPONDER)
    # Her grant of the responder role (its `up` is the last engine step the room sees here).
    grant(engine_client, inv_id, "responder", responder, ADMIN, timeout=TIMEOUT)
    inv = engine_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    outputs = inv["outputs"]
    bucket = outputs["evidenceBucket"]
    analyst = issue(engine_client, "analyst", "ann@example.com")
    # The room's other features add evidence of their own: whatever is refused adds nothing to it.
    before = _evidence(engine_client, inv_id)
    deploy_role = engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    s3 = client_as(local_aws, deploy_role, "s3")

    image = tmp_path / "memory dump.lime"
    image.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    body = image.read_bytes()
    expected = hashlib.sha256(body).hexdigest()
    assert _sha256sum(image) == expected
    # Declared in capitals: the hash is recorded as sha256sum prints it all the same.
    declared = {"filename": image.name, "sha256": expected.upper(), "size_bytes": len(body)}

    # Refused before anything is created: a role without the permission, and unsafe file names.
    assert _upload_url(engine_client, inv_id, analyst, **declared).status_code == 403
    for name in ("../custody/x", "a/b", "..", "a..b", "evil\\name", "nul\x00.bin", "tab\there",
                 "rtl\u202egnp.exe", "zero\u200bwidth", "x" * 201, ""):  # fmt: skip
        refused = _upload_url(engine_client, inv_id, responder, **{**declared, "filename": name})
        assert refused.status_code == 422, (name, refused.text)
    short_hash = _upload_url(engine_client, inv_id, responder, **{**declared, "sha256": "ab" * 31})
    assert short_hash.status_code == 422
    assert _evidence(engine_client, inv_id) == before

    # While an operation holds the investigation (and writes its custody chain), no upload is issued.
    session_factory = engine_client.app.state.session_factory  # type: ignore[attr-defined]
    with session_factory() as session:
        row = session.get(Investigation, inv_id)
        row.active_operation_id = "00000000-0000-0000-0000-000000000000"
        session.commit()
    busy = _upload_url(engine_client, inv_id, responder, **declared)
    assert busy.status_code == 409 and "is running" in busy.text
    with session_factory() as session:
        session.get(Investigation, inv_id).active_operation_id = None
        session.commit()

    issued = _upload_url(engine_client, inv_id, responder, **declared)
    assert issued.status_code == 201, issued.text
    artifact, upload = issued.json()["artifact"], issued.json()["upload"]
    key = f"{PROGRAM_INCOMING}{artifact['id']}/{image.name}"
    assert (artifact["kind"], artifact["status"], artifact["acquired_by"]) == (
        "object",
        "acquiring",
        "rita@example.com",
    )
    assert artifact["source"] == {
        "bucket": bucket,
        "key": key,
        "declared_sha256": expected,
        "declared_size_bytes": len(body),
    }
    checksum = base64.b64encode(bytes.fromhex(expected)).decode()
    assert upload["method"] == "PUT" and upload["headers"] == {"x-amz-checksum-sha256": checksum}
    assert (upload["bucket"], upload["key"]) == (bucket, key)
    expires_at = datetime.fromisoformat(upload["expires_at"])
    assert timedelta(minutes=14) < expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    url = httpx.URL(upload["url"])
    assert url.params["X-Amz-Expires"] == "900"
    assert "x-amz-checksum-sha256" in url.params["X-Amz-SignedHeaders"].split(";")

    # Other bytes than declared: S3 refuses them, and nothing is stored.
    tampered = body[:-1] + bytes([body[-1] ^ 0x01])
    refused = httpx.put(upload["url"], content=tampered, headers=upload["headers"], verify=False)
    assert refused.status_code == 400 and "<Code>BadDigest</Code>" in refused.text
    assert s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) == []
    stored = httpx.put(upload["url"], content=body, headers=upload["headers"], verify=False)
    assert stored.status_code == 200, stored.text
    version_id = stored.headers["x-amz-version-id"]

    # Handed in directly by the responder role: one with a claim of who it was, one without.
    responder_s3 = people[RESPONDER].client(outputs["responderRoleArn"], inv_id, "s3")
    notes_key, log_key = f"{PROGRAM_INCOMING}triage/notes.txt", f"{PROGRAM_INCOMING}triage/auth.log"
    notes, log = b"triage notes\n" * 1000, b"sshd accepted publickey\n" * 500
    responder_s3.put_object(
        Bucket=bucket, Key=notes_key, Body=notes, ChecksumAlgorithm="SHA256",
        Metadata={"uploaded-by": "rita@example.com"},
    )  # fmt: skip
    responder_s3.put_object(Bucket=bucket, Key=log_key, Body=log, ChecksumAlgorithm="SHA256")

    # Register: only keys under the prefix, only by whoever may acquire evidence.
    for outside in ("custody/000001-acquired.json", f"{PROGRAM_INCOMING}../custody/x", PROGRAM_INCOMING):
        refused_key = _register(engine_client, inv_id, responder, [outside])
        assert refused_key.status_code == 422, (outside, refused_key.text)
    too_many = [f"{PROGRAM_INCOMING}{n}" for n in range(101)]
    assert _register(engine_client, inv_id, responder, too_many).status_code == 422
    assert _register(engine_client, inv_id, analyst, [key]).status_code == 403

    op = _registered(engine_client, inv_id, [key, notes_key, log_key], responder)
    assert op["state"] == "succeeded", op["error"]
    # Registering ran no engine step: what the investigation knows of its stack is unchanged.
    detail = engine_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    assert detail["outputs"] == outputs and detail["policy_results"] == inv["policy_results"]
    evidence = _evidence(engine_client, inv_id)
    uploaded = evidence[key]
    assert uploaded["id"] == artifact["id"] and uploaded["status"] == "verified"
    assert uploaded["sha256_source"] == uploaded["sha256_copy"] == expected == _sha256sum(image)
    assert uploaded["size_bytes"] == len(body) and uploaded["source"]["version_id"] == version_id
    for handed_key, handed in ((notes_key, notes), (log_key, log)):
        row = evidence[handed_key]
        assert (row["kind"], row["status"]) == ("object", "verified")
        assert row["sha256_source"] == hashlib.sha256(handed).hexdigest() and row["size_bytes"] == len(handed)
        assert row["acquired_by"] == "rita@example.com"
    with session_factory() as session:
        progress = session.execute(
            select(OperationEvent).where(
                OperationEvent.operation_id == op["id"], OperationEvent.type == "evidence_progress"
            )
        ).scalars()
        done = [e.payload["done_bytes"] for e in progress if e.payload["artifact"] == artifact["id"]]
    assert done and done[-1] == len(body)

    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True

    def chain(artifact_id: str) -> list[dict[str, Any]]:
        return [e for e in custody["events"] if e["artifact_id"] == artifact_id]

    upload_chain = chain(artifact["id"])
    assert [e["event"] for e in upload_chain] == ["acquired", "uploaded", "hashed"]
    assert upload_chain[0]["hashes"] == {"sha256": expected, "of": "declared"}
    assert upload_chain[1]["actor"] == "rita@example.com"
    assert upload_chain[1]["location"]["version_id"] == version_id
    assert upload_chain[2]["hashes"]["sha256"] == expected
    assert upload_chain[2]["hashes"]["s3_checksums"]["SHA256"] == checksum
    notes_chain, log_chain = chain(evidence[notes_key]["id"]), chain(evidence[log_key]["id"])
    assert [e["event"] for e in notes_chain] == [e["event"] for e in log_chain] == ["uploaded", "hashed"]
    assert notes_chain[0]["actor"] == "rita@example.com"
    assert "claimed" in notes_chain[0]["details"]["uploader"]
    assert log_chain[0]["actor"] == "unknown"
    # Mirrored into the evidence bucket under legal hold.
    for event in custody["events"]:
        assert event["mirrored_key"], event
    held = s3.get_object_legal_hold(Bucket=bucket, Key=upload_chain[-1]["mirrored_key"])
    assert held["LegalHold"]["Status"] == "ON"

    # Registered again: nothing new is recorded.
    again = _registered(engine_client, inv_id, [key, notes_key], responder)
    assert again["state"] == "succeeded", again["error"]
    after = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert len(after["events"]) == len(custody["events"])

    # An upload's key overwritten with other bytes (the responder role may write there): flagged, and the
    # operation fails once every key is recorded, a missing one included.
    declared_disk = {"filename": "disk.img", "sha256": hashlib.sha256(b"the declared disk").hexdigest()}
    second = _upload_url(engine_client, inv_id, responder, **declared_disk)
    assert second.status_code == 201, second.text
    disk_key = second.json()["upload"]["key"]
    responder_s3.put_object(Bucket=bucket, Key=disk_key, Body=b"something else", ChecksumAlgorithm="SHA256")
    missing_key = f"{PROGRAM_INCOMING}never/uploaded.bin"
    failed = _registered(engine_client, inv_id, [disk_key, missing_key, log_key], responder)
    assert failed["state"] == "failed" and failed["error"]["code"] == "evidence_mismatch", failed["error"]
    assert disk_key in failed["error"]["message"] and "no object at this key" in failed["error"]["message"]
    disk = _evidence(engine_client, inv_id)[disk_key]
    other = hashlib.sha256(b"something else").hexdigest()
    assert disk["status"] == "mismatch" and disk["sha256_copy"] == other
    assert disk["sha256_source"] == declared_disk["sha256"] and other in disk["flag_reason"]
    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True
    assert [e["event"] for e in custody["events"] if e["artifact_id"] == disk["id"]] == [
        "acquired",
        "uploaded",
        "hashed",
        "flagged",
    ]
    assert all(e["mirrored_key"] for e in custody["events"])
    assert engine_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["status"] == "ready"
