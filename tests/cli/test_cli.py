"""The `forensics` CLI against the real API app (fake engine), through its transport seam."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN_TOKEN
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

runner = CliRunner()
# Named as a clean room names its evidence bucket (the deploy role the service acts through holds no other).
BUCKET = "forensics-cli-test-evidence"


@pytest.fixture
def transport(settings: Settings, fake: FakeExecutor, local_aws: LocalAws) -> Iterator[object]:
    """The API app with a fake engine; freeze's legal holds really happen in moto."""
    local_aws.client("s3").create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    fake.bucket = BUCKET
    local = settings.model_copy(
        update={
            "aws_endpoint_url": local_aws.endpoint_url,
            "aws_verify_tls": False,
            "audit_anchor_bucket": f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}",
        }
    )
    seed(local)  # the signing key and the audit-anchor bucket a freeze uses
    app: FastAPI = create_app(local, executor=fake)
    with TestClient(app) as client:
        yield client._transport


def _invoke(transport: object, *args: str) -> str:
    result = runner.invoke(
        cli,
        [*args],
        obj=transport,
        env={"FORENSICS_URL": "http://testserver", "FORENSICS_TOKEN": ADMIN_TOKEN},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_create_watches_until_ready_then_show_and_list(transport: object) -> None:
    out = _invoke(transport, "create", "SEC-700", "--title", "Phished laptop")
    assert "investigation" in out and "succeeded" in out
    investigation_id = out.split("investigation ", 1)[1].split()[0]
    assert "ready" in _invoke(transport, "show", investigation_id)
    assert "SEC-700" in _invoke(transport, "list")


def test_freeze_then_destroy_is_refused_with_the_reason(transport: object) -> None:
    out = _invoke(transport, "create", "SEC-701")
    investigation_id = out.split("investigation ", 1)[1].split()[0]
    assert "succeeded" in _invoke(transport, "freeze", investigation_id, "--reason", "litigation")
    result = runner.invoke(
        cli,
        ["destroy", investigation_id],
        obj=transport,
        env={"FORENSICS_URL": "http://testserver", "FORENSICS_TOKEN": ADMIN_TOKEN},
    )
    assert result.exit_code == 1
    assert "409" in result.output and "frozen" in result.output


def test_bad_token_is_a_clear_error(transport: object) -> None:
    result = runner.invoke(
        cli, ["list"], obj=transport, env={"FORENSICS_URL": "http://testserver", "FORENSICS_TOKEN": "wrong"}
    )
    assert result.exit_code == 1
    assert "401" in result.output
