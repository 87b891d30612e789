"""Fixtures for the policy pack's tests: EC2 stubbed for golden-ami-fresh (tests/support/stub_ec2.py)."""

from __future__ import annotations

import pytest

from tests.support.stub_ec2 import StubEc2, stub_ec2


@pytest.fixture(autouse=True)
def ec2(monkeypatch: pytest.MonkeyPatch) -> StubEc2:
    """Every policy test sees a fresh golden AMI unless it registers images or an error on the stub."""
    return stub_ec2(monkeypatch)
