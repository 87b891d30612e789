"""Memory capture end to end, on the real engine and the local AWS: the project's SSM document runs its own
script on an instance of the sample affected account (the local SSM agent stand-in; the instance's memory is a
known image, the only simulated part), the image lands in the evidence bucket with the instance's SHA-256
equal to the service's re-hash and to the known image's; an image altered after it was hashed is refused by
S3's checksum, the operation fails and nothing is evidence; an analyst is refused (403, audited). The frozen
room's signed manifest lists the image. The room is the custody features' shared one
(tests/support/custody_room.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service import statement_signing
from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from service.custody import memory_capture
from tests.custody.test_custody_engine import _verify
from tests.support.api import ADMIN, issue, wait_operation
from tests.support.aws import client_as
from tests.support.custody_room import CUSTODY_ROOM_GROUP, RESPONDER, CustodyRoom
from tests.support.disk_images import SOURCE_ROLE
from tests.support.root import require_root
from tests.support.targets import local_target
from tools.local_aws.aws import LocalAws
from tools.local_aws.memory_source import write_known_image

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=CUSTODY_ROOM_GROUP)]

TIMEOUT = 600
# This module's analyst: the audit entry of the refusal it looks for is its own.
ANALYST = "ana@example.com"


@pytest.fixture(autouse=True)
def _namespaces_need_root() -> None:
    require_root()  # the stand-in runs the document's script in the instance's own mount namespace


def _capture(client: TestClient, inv_id: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/v1/investigations/{inv_id}/memory", json=body, headers=headers)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _on_instance(instance_id: str, capture_id: str) -> Path:
    """The captured image on the stand-in instance's /var/tmp (the agent keeps each instance's folder)."""
    (found,) = Path("/tmp").glob(
        f"forensics-ssm-agent-*/{instance_id}/var-tmp/forensics-memory/{capture_id}.lime"
    )
    return found


def _evidence(client: TestClient, inv_id: str) -> list[dict[str, Any]]:
    return client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()  # type: ignore[no-any-return]


def _capture_and_refuse(
    room: CustodyRoom, local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The capture of a sample instance's memory, and the refusals (an analyst, an altered image, a tool that
    does not hash to its pin), checked on the way; returns the artifact and the known image's SHA-256."""
    ec2_source = client_as(local_aws, SOURCE_ROLE, "ec2")
    image = ec2_source.describe_images(Owners=["amazon"])["Images"][0]
    instance_id = ec2_source.run_instances(ImageId=image["ImageId"], MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    known = _file_sha256(write_known_image(instance_id, tmp_path / "memory.raw"))
    engine_client, engine_settings, inv = room.service, room.service_settings, room.inv
    inv_id = inv["id"]
    bucket = inv["outputs"]["evidenceBucket"]
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "instance_id": instance_id}
    responder = issue(engine_client, "responder", RESPONDER)

    # An analyst may not: 403, audited, nothing runs.
    analyst = _capture(engine_client, inv_id, issue(engine_client, "analyst", ANALYST), **body)
    assert analyst.status_code == 403, analyst.text
    refused = engine_client.get("/v1/audit", params={"actor": ANALYST}, headers=ADMIN).json()["items"]
    assert any(e["actor"].startswith(ANALYST) and "forbidden" in e["outcome"] for e in refused), refused

    accepted = _capture(engine_client, inv_id, responder, **body)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]

    # The room's other features add evidence of their own: the memory artifacts are this flow's.
    (artifact,) = [a for a in _evidence(engine_client, inv_id) if a["kind"] == "memory"]
    assert artifact["kind"] == "memory" and artifact["status"] == "verified"
    assert artifact["sha256_source"] == artifact["sha256_copy"] == known  # instance == service == the image
    assert artifact["acquired_by"] == "rita@example.com"
    source = artifact["source"]
    assert source["instance_id"] == instance_id and source["account_id"] == LOCAL_SOURCE_ACCOUNT
    assert source["key"] == f"incoming/memory/{artifact['id']}/{instance_id}.lime"
    assert set(source["ssm_command_ids"]) == {"capture", "upload"}

    # In the evidence bucket: the image itself, with S3's own SHA-256 of it; the tool run is kept beside it.
    deploy_role = engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    s3 = client_as(local_aws, deploy_role, "s3")
    stored = s3.get_object(Bucket=bucket, Key=source["key"], ChecksumMode="ENABLED")
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == known
    assert stored["ChecksumSHA256"] == memory_capture.base64.b64encode(bytes.fromhex(known)).decode()
    tool = s3.get_object(Bucket=bucket, Key=f"{memory_capture.TOOLS_PREFIX}{source['tool_sha256']}")
    assert hashlib.sha256(tool["Body"].read()).hexdigest() == source["tool_sha256"]
    # The command ran in the source account, through its evidence role.
    ssm_source = client_as(local_aws, SOURCE_ROLE, "ssm")
    invocation = ssm_source.get_command_invocation(
        CommandId=source["ssm_command_ids"]["capture"], InstanceId=instance_id
    )
    assert invocation["Status"] == "Success" and known in invocation["StandardOutputContent"]

    # Custody: acquired (instance hash, who asked, the command), uploaded, hashed (service), chain intact.
    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True
    events = [e for e in custody["events"] if e["artifact_id"] == artifact["id"]]
    assert [(e["event"], e["hashes"].get("of")) for e in events] == [
        ("acquired", "instance"),
        ("uploaded", None),
        ("hashed", "object"),
    ]
    assert events[0]["actor"] == "rita@example.com"
    assert events[0]["details"]["command_id"] == source["ssm_command_ids"]["capture"]
    assert {events[0]["hashes"]["sha256"], events[2]["hashes"]["sha256"]} == {known}
    assert all(e["mirrored_key"] for e in custody["events"])

    # The report lists it with its hash and source.
    report = engine_client.get(f"/v1/investigations/{inv_id}/report", headers=ADMIN)
    assert report.status_code == 200, report.text
    assert artifact["id"] in report.text and instance_id in report.text

    # An image altered on the instance after it was hashed: S3 refuses it, the operation fails, nothing is
    # recorded as evidence and nothing is stored.
    send = memory_capture._run_command

    def corrupt_before_upload(
        ssm: Any, document: str, target: str, parameters: dict[str, str], what: str
    ) -> Any:
        if parameters["action"] == "upload":
            on_disk = _on_instance(target, parameters["captureId"])
            data = bytearray(on_disk.read_bytes())
            data[len(data) // 2] ^= 0xFF
            on_disk.write_bytes(bytes(data))
        return send(ssm, document, target, parameters, what)

    before = [a["id"] for a in _evidence(engine_client, inv_id)]
    monkeypatch.setattr(memory_capture, "_run_command", corrupt_before_upload)
    again = _capture(engine_client, inv_id, responder, **body)
    assert again.status_code == 202, again.text
    failed = wait_operation(engine_client, again.json()["operation"]["id"], timeout=TIMEOUT)
    assert failed["state"] == "failed"
    assert failed["error"]["code"] == "memory_capture_failed", failed["error"]
    message = failed["error"]["message"]
    assert "S3 refused the upload (HTTP 400 BadDigest)" in message and "nothing was recorded" in message
    listed = _evidence(engine_client, inv_id)
    assert [a["id"] for a in listed if a["kind"] == "memory"] == [artifact["id"]]
    assert [a["id"] for a in listed] == before
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="incoming/memory/").get("Contents", [])
    ]
    assert keys == [source["key"]]

    # A tool file that does not hash to its pinned SHA-256 is refused by S3 when it is staged: no instance
    # ever sees it, no command is sent.
    monkeypatch.setattr(Settings, "memory_tool", property(lambda _self: (tmp_path / "memory.raw", "0" * 64)))
    sent = len(ssm_source.list_commands()["Commands"])
    unpinned = _capture(engine_client, inv_id, responder, **body)
    assert unpinned.status_code == 202, unpinned.text
    refused_tool = wait_operation(engine_client, unpinned.json()["operation"]["id"], timeout=TIMEOUT)
    assert refused_tool["state"] == "failed"
    assert (
        "could not be staged" in refused_tool["error"]["message"]
        and "BadDigest" in refused_tool["error"]["message"]
    )
    assert len(ssm_source.list_commands()["Commands"]) == sent
    monkeypatch.undo()

    return {"artifact": artifact, "known": known}


def test_memory_lands_with_the_instance_hash_equal_to_the_service_rehash_and_the_known_image(
    open_custody_room: CustodyRoom, local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = open_custody_room
    room.flow("memory", lambda: _capture_and_refuse(room, local_aws, tmp_path, monkeypatch))


def test_the_memory_image_is_in_the_signed_manifest_of_the_frozen_room(
    custody_room_to_freeze: CustodyRoom, local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = custody_room_to_freeze
    captured = room.flow("memory", lambda: _capture_and_refuse(room, local_aws, tmp_path, monkeypatch))
    artifact, known, source = captured["artifact"], captured["known"], captured["artifact"]["source"]
    engine_settings, inv = room.service_settings, room.inv
    bucket = inv["outputs"]["evidenceBucket"]
    deploy_role = engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    s3 = client_as(local_aws, deploy_role, "s3")

    # Frozen: the signed manifest lists the image's version with its hash and the artifact with both hashes,
    # and `forensics verify` re-hashes it from S3.
    done = room.frozen(local_aws)
    manifest_at = done["result"]["legal_hold"]["manifest"].removeprefix("s3://").split("/", 1)[1]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_at)["Body"].read())
    statement = manifest["statement"]
    held = [o for o in statement["objects"] if o["key"] == source["key"]]
    assert [o["sha256"] for o in held] == [known]
    (entry,) = [a for a in statement["artifacts"] if a["id"] == artifact["id"]]
    assert entry["sha256Source"] == entry["sha256Copy"] == known
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(statement_signing.signer_for(engine_settings, inv["region"]).public_key_pem())
    manifest_file = tmp_path / "manifest.signed.json"
    manifest_file.write_text(json.dumps(manifest))
    verified = _verify(local_target(engine_settings, local_aws), deploy_role, manifest_file, key_file)
    assert verified.exit_code == 0, verified.output
