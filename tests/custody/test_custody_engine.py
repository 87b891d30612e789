"""Custody end to end on the real engine, written once against a target (the local AWS under `make test`,
real AWS under `make test-aws`: ``tests.support.targets``): evidence acquired and mounted, a person's
just-in-time grant written into a role's trust policy and taken out by the scheduler at its expiry, freeze
writes a signed manifest
that `forensics verify` checks offline (and that fails, naming what differs, once edited), what is written
after freeze cannot be deleted, destroy writes a signed teardown certificate whose resources are really
gone, the audit log is anchored, and the custody report renders with the hashes and signatures."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service import statement_signing
from service.access import service as access
from service.cli import app as cli
from tests.support import persons
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.policy_documents import grant_statements, trust_statements
from tests.support.root import require_root
from tests.support.targets import GRANTEE, TARGET, Target

pytestmark = [pytest.mark.engine, *([pytest.mark.aws] if TARGET == "aws" else [])]

TIMEOUT = 900
runner = CliRunner()


def _act(client: TestClient, inv_id: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    response = client.post(f"/v1/investigations/{inv_id}/{path}", json=body, headers=headers)
    assert response.status_code == 202, response.text
    if "approval" in response.json():
        # Held by the two-person rule (a release): a second custodian approves it.
        second = issue(client, "data_custodian", "second@example.com")
        response = client.post(f"/v1/approvals/{response.json()['approval']['id']}/approve", headers=second)
        assert response.status_code == 200, response.text
    op = wait_operation(client, response.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]
    return op


def _s3_object(s3: Any, location: str) -> dict[str, Any]:
    bucket, key = location.removeprefix("s3://").split("/", 1)
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def _verify(target: Target, role_arn: str, statement: Path, key: Path) -> Any:
    """`forensics verify` as a verifier would run it: the file, the public key, and AWS read access of its
    own (here the forensic account's deploy role), no service and no database."""
    creds = target.credentials_for(role_arn)
    return runner.invoke(
        cli,
        ["verify", str(statement), "--public-key", str(key), *target.verifier_arguments()],
        env={
            "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": creds["aws_session_token"],
            "AWS_PROFILE": None,
            "AWS_DEFAULT_REGION": None,
        },
    )  # fmt: skip


def test_custody_from_acquisition_to_teardown_certificate(
    scenario_client: TestClient, scenario: Target, tmp_path: Path
) -> None:
    engine_client, target = scenario_client, scenario
    if target.name == "local":
        require_root()  # the local AWS mounts the evidence on a loop device, as the workstation would
    evidence = target.evidence(tmp_path)
    image_sha = evidence.sha256
    inv = open_ready(engine_client, "SEC-1101", timeout=TIMEOUT)
    region = inv["region"]
    deploy_role = target.settings.accounts[region].deploy_role_arn
    assert deploy_role
    responder = issue(engine_client, "responder", "rita@example.com")
    custodian = issue(engine_client, "data_custodian", "carl@example.com")
    body = {
        "source_account_id": evidence.source_account_id,
        "region": region,
        "snapshot_id": evidence.snapshot_id,
    }
    _act(engine_client, inv["id"], "evidence", responder, body)
    (artifact,) = engine_client.get(f"/v1/investigations/{inv['id']}/evidence", headers=ADMIN).json()
    outputs = engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["outputs"]
    bucket = outputs["evidenceBucket"]
    # An artifact handed in before the freeze, through the responder role by a person granted it (for longer
    # than the investigator grant below, which the scheduler's expiry run is to take out alone).
    persons.grant(
        engine_client, inv["id"], "responder", issue(engine_client, "investigator", GRANTEE), custodian,
        hours=2, timeout=TIMEOUT,
    )  # fmt: skip
    responder_s3 = target.grantee.client(outputs["responderRoleArn"], inv["id"], "s3")
    responder_s3.put_object(
        Bucket=bucket, Key="incoming/evidence-artifacts/memory.lime", Body=b"memory image" * 4096,
        ChecksumAlgorithm="SHA256",
    )  # fmt: skip

    # Just-in-time access: a person asks for the investigator role, another person approves, and the grant's
    # `up` writes it into the role's trust policy, bound to the person's own principal and name until expiry.
    investigator_role = outputs["investigatorRoleArn"]
    iam = target.client_as(deploy_role, "iam")
    asked = engine_client.post(
        f"/v1/investigations/{inv['id']}/access-requests",
        json={"role": "investigator", "hours": 1, "reason": "memory triage"},
        headers=issue(engine_client, "investigator", GRANTEE),
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    approved = engine_client.post(f"/v1/access-requests/{request_id}/approve", headers=custodian)
    assert approved.status_code == 202, approved.text
    granted = wait_operation(engine_client, approved.json()["operation"]["id"], timeout=TIMEOUT)
    assert granted["state"] == "succeeded", granted["error"]
    expires = datetime.fromisoformat(
        engine_client.get(f"/v1/access-requests/{request_id}", headers=ADMIN).json()["expires_at"]
    )
    (grant,) = grant_statements(trust_statements(iam, investigator_role))
    assert grant["Effect"] == "Allow" and grant["Principal"] == {"AWS": target.grantee_arn}
    assert grant["Condition"]["StringEquals"]["sts:SourceIdentity"] == GRANTEE
    assert datetime.fromisoformat(grant["Condition"]["DateLessThan"]["aws:CurrentTime"]) == expires
    # The scheduler's expiry run, at a time past the expiry: the grant leaves the declared state, and its
    # `up` leaves the trust policy without it.
    report = access.expire_grants(engine_client.app.state.jobs.ctx, expires + timedelta(seconds=1))
    assert report.expired == [request_id] and report.errors == {}
    expiry_sync = report.synced[inv["id"]]
    assert expiry_sync is not None
    expired = wait_operation(engine_client, expiry_sync, timeout=TIMEOUT)
    assert expired["state"] == "succeeded", expired["error"]
    assert grant_statements(trust_statements(iam, investigator_role)) == []
    assert engine_client.get(f"/v1/access-requests/{request_id}", headers=ADMIN).json()["status"] == "expired"

    # Freeze: a signed manifest listing every held version (re-hashed) and the evidence copy with its hash.
    frozen = _act(engine_client, inv["id"], "freeze", responder, {"reason": "litigation"})
    s3 = target.client_as(deploy_role, "s3")
    manifest = _s3_object(s3, frozen["result"]["legal_hold"]["manifest"])
    statement = manifest["statement"]
    assert manifest["kind"] == "freeze-manifest"
    keys = {o["key"] for o in statement["objects"]}
    assert "incoming/evidence-artifacts/memory.lime" in keys
    assert any(k.startswith("custody/") for k in keys)  # the mirrored custody events are held too
    copies = [s for s in statement["snapshots"] if s.get("artifactId") == artifact["id"]]
    assert copies == [
        {"snapshotId": artifact["copy_snapshot_id"], "sha256": image_sha, "artifactId": artifact["id"]}
    ]
    assert statement["postFreezeWrites"]["mode"] == "COMPLIANCE"

    public_key = statement_signing.signer_for(target.settings, region).public_key_pem()
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(public_key)
    manifest_file = tmp_path / "manifest.signed.json"
    manifest_file.write_text(json.dumps(manifest, indent=2))
    verified = _verify(target, deploy_role, manifest_file, key_file)
    assert verified.exit_code == 0, verified.output
    assert f"{artifact['copy_snapshot_id']}" in verified.output

    # One byte of a held object's recorded hash changed: refused, naming the object.
    edited = json.loads(manifest_file.read_text())
    held = next(o for o in edited["statement"]["objects"] if o["key"].endswith("memory.lime"))
    held["sha256"] = ("0" if held["sha256"][0] != "0" else "1") + held["sha256"][1:]
    edited_file = tmp_path / "edited.json"
    edited_file.write_text(json.dumps(edited, indent=2))
    refused = _verify(target, deploy_role, edited_file, key_file)
    assert refused.exit_code != 0
    assert "signature" in refused.output and "memory.lime" in refused.output
    differs = [line for line in refused.output.splitlines() if line.startswith("DIFFERS")]
    assert len(differs) == 1 and "memory.lime" in differs[0]
    # One byte of the manifest file itself flipped (the ticket): the signature no longer holds.
    raw = bytearray(manifest_file.read_bytes())
    raw[raw.index(b"SEC-1101") + 4] ^= 0x01
    flipped = tmp_path / "flipped.json"
    flipped.write_bytes(bytes(raw))
    assert _verify(target, deploy_role, flipped, key_file).exit_code != 0

    # Written after the freeze: held by the bucket's COMPLIANCE default retention; nobody can delete it.
    late = s3.put_object(
        Bucket=bucket,
        Key="active-investigation/notes/after-freeze.txt",
        Body=b"late note",
        ChecksumAlgorithm="SHA256",
    )
    head = s3.head_object(
        Bucket=bucket, Key="active-investigation/notes/after-freeze.txt", VersionId=late["VersionId"]
    )
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"]
    with pytest.raises(ClientError):
        s3.delete_object(
            Bucket=bucket, Key="active-investigation/notes/after-freeze.txt", VersionId=late["VersionId"],
            BypassGovernanceRetention=True,
        )  # fmt: skip
    assert s3.get_object(
        Bucket=bucket, Key="active-investigation/notes/after-freeze.txt", VersionId=late["VersionId"]
    )

    # Release, then destroy keeping the evidence: a signed certificate with every resource checked.
    _act(engine_client, inv["id"], "release", custodian, {"reason": "case closed by counsel"})
    destroyed = _act(engine_client, inv["id"], "destroy", custodian, {"reason": "closed"})
    summary = destroyed["result"]["teardown_certificate"]
    assert summary["problems"] == []
    certificate = _s3_object(s3, summary["location"])
    resources = certificate["statement"]["resources"]
    assert len(resources) == summary["resources"] > 40
    assert {r["status"] for r in resources} == {"gone", "retained"}
    ec2 = target.client_as(deploy_role, "ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [outputs["vpcId"]]}])["Vpcs"] == []
    vpc = next(r for r in resources if r["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["status"] == "gone" and "NotFound" in vpc["evidence"]
    kept = {r["type"] for r in resources if r["status"] == "retained"}
    assert {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:ebs/snapshotCopy:SnapshotCopy"} <= kept
    certificate_file = tmp_path / "certificate.signed.json"
    certificate_file.write_text(json.dumps(certificate))
    assert (checked := _verify(target, deploy_role, certificate_file, key_file)).exit_code == 0, (
        checked.output
    )

    # Custody: the whole life of the artifact, chained, ending retained.
    custody = engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True
    events = [e["event"] for e in custody["events"] if e["artifact_id"] == artifact["id"]]
    assert events == [
        "acquired",
        "hashed",
        "shared",
        "copied",
        "hashed",
        "attached",
        "mounted",
        "frozen",
        "released",
        "retained",
    ]

    # The audit log is anchored (freeze and destroy) and verifies against its anchors.
    audit = engine_client.get("/v1/audit/verify", headers=ADMIN).json()
    assert audit["ok"] is True and audit["anchors_checked"] >= 2, audit

    # The report, as PDF: rendered to an image, its text holds the evidence hash and the signatures.
    report = engine_client.get(f"/v1/investigations/{inv['id']}/report?format=pdf", headers=ADMIN)
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report.content)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))
    text = "".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert image_sha in text
    for document in (manifest, certificate):
        assert document["signature"]["value"] in text
    html = engine_client.get(f"/v1/investigations/{inv['id']}/report", headers=ADMIN)
    assert html.status_code == 200 and image_sha in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]
