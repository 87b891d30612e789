"""`make test-aws` says exactly what it needs, and deploys nothing, when real AWS is not set up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.config import PROJECT_ROOT
from tools import aws_test_run


def test_without_anything_every_need_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("FORENSICS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(PROJECT_ROOT / "tests")  # no .env here
    needs = aws_test_run.problems({"PATH": str(aws_test_run.STANDIN_PROVIDER_DIR)}, lambda: "AWS credentials")
    assert needs[:2] == [
        "FORENSICS_TEST_AMI_ID: a golden AMI in the forensic account (its pipeline's latest)",
        "FORENSICS_TEST_SNAPSHOT_ID: an evidence snapshot in the forensic account's region",
    ]
    joined = "\n".join(needs)
    for setting in (
        "FORENSICS_TEST_SOURCE_ACCOUNT",
        "FORENSICS_TEST_SOURCE_SNAPSHOT_ID",
        "FORENSICS_TEST_SOURCE_SHA256",
        "FORENSICS_TEST_PERSON_PRINCIPAL_ARN",
        "FORENSICS_SERVICE_PRINCIPAL_ARNS",
        "FORENSICS_FORENSIC_ACCOUNTS",
        "FORENSICS_AUDIT_ANCHOR_BUCKET",
        "FORENSICS_PULUMI_PASSPHRASE",
    ):
        assert setting in joined
    assert "is the local stand-in" in joined  # the stand-in never counts as the real provider
    assert needs[-1] == "AWS credentials"


def test_make_test_aws_exits_non_zero_with_the_list(tmp_path: object) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-west-1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tools.aws_test_run"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("make test-aws needs, before it deploys anything to real AWS:")
    assert "FORENSICS_TEST_AMI_ID" in done.stderr and "AWS credentials" in done.stderr
    assert done.stdout == ""  # pytest never started
    made = subprocess.run(
        ["make", "-n", "test-aws"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert "-m tools.aws_test_run" in made.stdout
