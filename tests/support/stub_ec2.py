"""EC2 for the policy pack's golden-ami-fresh rule, stubbed: rule tests need no AWS.

The rule asks EC2 about every image. By default the stub knows every image as existing, owned by the
policy harness's account and created an hour ago, so the other rules' tests see a fresh golden AMI; tests of
the rule itself register images, or an error, on the stub. ``stub_ec2(monkeypatch)`` puts it in place of the
rule's AWS connection (tests/policy/conftest.py does so for every policy test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from policy_packs.forensics.rules import aws_access
from tests.policy.harness import ACCOUNT

REGION = "us-east-1"


def creation_date(age: timedelta) -> str:
    """An image CreationDate as EC2 writes it, `age` ago."""
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def client_error(code: str, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeImages")


@dataclass
class StubEc2:
    """DescribeImages by id, as EC2 answers it."""

    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    every_image_fresh: bool = True
    error: Exception | None = None
    calls: list[list[str]] = field(default_factory=list)

    def add(self, image_id: str, age: timedelta, owner: str = ACCOUNT) -> str:
        created = creation_date(age)
        self.images[image_id] = {"ImageId": image_id, "OwnerId": owner, "CreationDate": created}
        return created

    def describe_images(self, *, ImageIds: list[str]) -> dict[str, Any]:
        self.calls.append(list(ImageIds))
        if self.error is not None:
            raise self.error
        found = []
        for image_id in ImageIds:
            if image_id in self.images:
                found.append(self.images[image_id])
            elif self.every_image_fresh:
                found.append(
                    {
                        "ImageId": image_id,
                        "OwnerId": ACCOUNT,
                        "CreationDate": creation_date(timedelta(hours=1)),
                    }
                )
            else:
                raise client_error("InvalidAMIID.NotFound", f"The image id '[{image_id}]' does not exist")
        return {"Images": found}


def stub_ec2(monkeypatch: pytest.MonkeyPatch, account_id: str = ACCOUNT) -> StubEc2:
    """A new stub in place of the rule's connection to EC2 (acting in ``account_id``), with no extra image
    owners configured, until ``monkeypatch`` undoes it."""
    stub = StubEc2()

    def connect(target: aws_access.Target | None = None) -> aws_access.Connection:
        return aws_access.Connection(ec2=stub, region=REGION, account_id=account_id)

    monkeypatch.setattr(aws_access, "connect", connect)
    monkeypatch.delenv("FORENSICS_POLICY_AMI_OWNERS", raising=False)
    return stub
