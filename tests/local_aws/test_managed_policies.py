"""Each emulated account's AWS managed policies, built from one parse per process
(tools/local_aws/managed_policies.py), are what moto itself builds for that account: the same policies with
the same documents, versions and dates, and objects of the account's own."""

from __future__ import annotations

from typing import Any

import pytest
from moto.iam import models

from tools.local_aws import managed_policies

# moto's own, read when this module is collected: before any fixture patches moto in this process.
ORIGINAL = models.IAMBackend._init_aws_policies


class _Backend:
    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name


def _described(policy: Any) -> tuple[Any, ...]:
    return (
        type(policy),
        policy.arn,
        policy.name,
        policy.path,
        policy.account_id,
        policy.partition,
        policy.default_version_id,
        policy.next_version_num,
        policy.attachment_count,
        policy.create_date,
        policy.update_date,
        [(v.version_id, v.document, v.is_default, v.create_date) for v in policy.versions],
    )


@pytest.fixture(autouse=True)
def managed_policies_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


@pytest.mark.parametrize(
    ("account", "region"), [("123456789012", "us-east-1"), ("210987654321", "cn-north-1")]
)
def test_an_account_gets_what_moto_builds(account: str, region: str) -> None:
    backend: Any = _Backend(account, region)

    ours = managed_policies.account_policies(backend)
    moto = ORIGINAL(backend)

    assert len(ours) == len(moto) > 1000
    assert [_described(p) for p in ours] == [_described(p) for p in moto]


def test_each_account_has_policies_of_its_own() -> None:
    first = managed_policies.account_policies(_Backend("111111111111", "us-east-1"))
    second = managed_policies.account_policies(_Backend("222222222222", "us-east-1"))

    first[0].attachment_count += 1

    assert second[0].attachment_count == 0
    assert first[0] is not second[0] and first[0].id != second[0].id


def test_none_without_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES")

    assert managed_policies.account_policies(_Backend("123456789012", "us-east-1")) == []
