"""Freeze and release through the API (fake engine) with the legal hold placed for real in the local AWS."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service import statement_signing
from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

# Named as a clean room names its evidence bucket: the deploy role the service acts through may hold no other.
BUCKET = "forensics-freeze-test-evidence"


@pytest.fixture
def s3(local_aws: LocalAws) -> Iterator[object]:
    client = local_aws.client("s3")
    client.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    for key in ("disk.img", "memory.lime"):
        client.put_object(
            Bucket=BUCKET, Key=key, Body=b"evidence " + key.encode(), ChecksumAlgorithm="SHA256"
        )
    yield client
    versions = client.list_object_versions(Bucket=BUCKET).get("Versions", [])
    for v in versions:
        client.put_object_legal_hold(
            Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"}
        )
        client.delete_object(
            Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True
        )
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def aws_client(settings: Settings, fake: FakeExecutor, local_aws: LocalAws) -> Iterator[TestClient]:
    fake.bucket = BUCKET
    local = settings.model_copy(
        update={
            "aws_endpoint_url": local_aws.endpoint_url,
            "aws_verify_tls": False,
            "audit_anchor_bucket": f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}",
        }
    )
    seed(local)  # the signing key and the audit-anchor bucket a freeze uses
    app = create_app(local, executor=fake)
    with TestClient(app) as client:
        yield client


def settings_used(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


def _holds(s3: object) -> dict[str, str]:
    out = {}
    for v in s3.list_object_versions(Bucket=BUCKET)["Versions"]:  # type: ignore[attr-defined]
        hold = s3.get_object_legal_hold(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])  # type: ignore[attr-defined]
        out[v["Key"]] = hold["LegalHold"]["Status"]
    return out


def test_freeze_places_legal_hold_and_refuses_destroy(
    aws_client: TestClient, fake: FakeExecutor, s3: object
) -> None:
    client = aws_client
    inv = open_ready(client)
    responder = issue(client, "responder")
    response = client.post(
        f"/v1/investigations/{inv['id']}/freeze", json={"reason": "litigation"}, headers=responder
    )
    assert response.status_code == 202, response.text
    assert response.json()["investigation"]["status"] == "freezing"
    op = wait_operation(client, response.json()["operation"]["id"])
    assert op["state"] == "succeeded", op
    assert fake.calls[-1].config["frozen"] is True
    assert op["result"]["legal_hold"]["object_versions"] == 2

    holds = _holds(s3)
    assert holds["disk.img"] == holds["memory.lime"] == "ON"
    written = [k for k in holds if k.startswith("legal-hold/")]
    assert {k.rsplit("/", 1)[1] for k in written} == {
        "stack-export.json",
        "manifest.signed.json",
        "custody-report.pdf",
        "custody-report.html",
    }
    assert all(holds[k] == "ON" for k in written)
    manifest_key = next(k for k in written if k.endswith("manifest.signed.json"))
    import json

    document = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())  # type: ignore[attr-defined]
    assert document["kind"] == "freeze-manifest"
    public_key = statement_signing.signer_for(settings_used(client), "us-east-1").public_key_pem()
    assert statement_signing.verify_signature(document, public_key) == []
    manifest = document["statement"]
    # Every object version held, each with the SHA-256 of its content as S3 returns it.
    listed = {(o["key"], o["versionId"]): o["sha256"] for o in manifest["objects"]}
    for v in s3.list_object_versions(Bucket=BUCKET)["Versions"]:  # type: ignore[attr-defined]
        if v["Key"] in ("disk.img", "memory.lime"):
            body = s3.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()  # type: ignore[attr-defined]
            assert listed[(v["Key"], v["VersionId"])] == hashlib.sha256(body).hexdigest()
    assert manifest["postFreezeWrites"]["heldBy"] in ("bucket default retention", "nothing")
    # Every resource of the stack with its protection as exported, and nothing that is not a resource of the
    # clean room (the stack itself, the provider).
    prefix = f"urn:pulumi:inv-{inv['id']}::forensics::"
    assert manifest["resources"] == [
        {"urn": f"{prefix}aws:ec2/vpc:Vpc::vpc", "type": "aws:ec2/vpc:Vpc", "id": "vpc-123", "protect": True},
        {
            "urn": f"{prefix}aws:s3/bucket:Bucket::evidence",
            "type": "aws:s3/bucket:Bucket",
            "id": "ev-1",
            "protect": False,
        },
    ]
    assert (
        manifest["stackExport"]["sha256"]
        == hashlib.sha256(
            s3.get_object(Bucket=BUCKET, Key=manifest["stackExport"]["key"])["Body"].read()  # type: ignore[attr-defined]
        ).hexdigest()
    )

    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert (detail["status"], detail["frozen"], detail["legal_hold"]) == ("frozen", True, True)

    custodian = issue(client, "data_custodian")
    refused = client.post(f"/v1/investigations/{inv['id']}/destroy", headers=custodian)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "state_conflict"
    assert "frozen under legal hold" in error["message"] and "release" in error["message"]

    # Release: custodian only, reason required; holds kept unless asked.
    assert (
        client.post(
            f"/v1/investigations/{inv['id']}/release", json={"reason": "x" * 5}, headers=responder
        ).status_code
        == 403
    )
    missing = client.post(f"/v1/investigations/{inv['id']}/release", json={}, headers=custodian)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["fields"][0]["field"] == "body.reason"
    released = client.post(
        f"/v1/investigations/{inv['id']}/release", json={"reason": "court order 42"}, headers=custodian
    )
    assert released.status_code == 202
    # Lifting a legal hold waits for a second custodian (tests/approvals/test_approvals.py).
    approval = released.json()["approval"]["id"]
    second = issue(client, "data_custodian", "second@example.com")
    approved = client.post(f"/v1/approvals/{approval}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    wait_operation(client, approved.json()["operation"]["id"])
    assert fake.calls[-1].config["frozen"] is False
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert (detail["status"], detail["frozen"], detail["legal_hold"]) == ("ready", False, True)
    assert _holds(s3)["disk.img"] == "ON"
    audit = client.get("/v1/audit?action=investigation.release", headers=ADMIN).json()
    assert audit["items"][0]["details"]["reason"] == "court order 42"
    assert audit["items"][0]["actor"] == "data_custodian@example.com"


def test_release_can_lift_legal_holds(aws_client: TestClient, s3: object) -> None:
    client = aws_client
    inv = open_ready(client)
    frozen = client.post(f"/v1/investigations/{inv['id']}/freeze", headers=ADMIN)
    wait_operation(client, frozen.json()["operation"]["id"])
    released = client.post(
        f"/v1/investigations/{inv['id']}/release",
        json={"reason": "retention period over", "remove_legal_holds": True},
        headers=ADMIN,
    )
    approval = released.json()["approval"]["id"]
    second = issue(client, "data_custodian", "second@example.com")
    approved = client.post(f"/v1/approvals/{approval}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    op = wait_operation(client, approved.json()["operation"]["id"])
    assert op["state"] == "succeeded"
    assert set(_holds(s3).values()) == {"OFF"}
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["legal_hold"] is False
