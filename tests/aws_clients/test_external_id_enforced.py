"""The external id reaches STS: on a local AWS that judges role trust as STS does, a deploy role (and an
evidence role) whose trust requires `sts:ExternalId` is assumed by the service's clients with the configured
id, and refused with none or another. The local AWS is the worker's (``enforcing_local_aws``), where the
roles are made under names of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service import aws_clients
from service.config import ForensicAccount, Settings, SourceAccount
from tests.support.aws import denied
from tests.support.settings import make_settings
from tests.support.targets import TARGET
from tools.local_aws.aws import LocalAws

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(
        TARGET == "aws", reason="proves the local AWS's IAM enforcement; real AWS always enforces"
    ),
]


def _role_requiring(aws: LocalAws, name: str, external_id: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": aws.admin_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
    iam = aws.client("iam")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    iam.put_role_policy(
        RoleName=name,
        PolicyName="whoami",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}
        ),
    )
    return arn


def _settings(
    tmp_path: Path, aws: LocalAws, deploy: str, deploy_id: str | None, evidence: str, evidence_id: str | None
) -> Settings:
    account = deploy.split(":")[4]
    return make_settings(
        tmp_path,
        aws=aws,
        as_administrator=True,
        forensic_accounts={
            "us-east-1": ForensicAccount(account_id=account, deploy_role_arn=deploy, external_id=deploy_id)
        },
        source_accounts={account: SourceAccount(snapshot_role_arn=evidence, external_id=evidence_id)},
    )


def test_roles_requiring_an_external_id_are_assumed_with_it_only(
    tmp_path: Path, enforcing_local_aws: LocalAws
) -> None:
    aws = enforcing_local_aws
    deploy = _role_requiring(aws, "xid-deploy", "deploy-ext-1")
    evidence = _role_requiring(aws, "xid-evidence", "evidence-ext-1")

    good = _settings(tmp_path, aws, deploy, "deploy-ext-1", evidence, "evidence-ext-1")
    for role in (deploy, evidence):
        caller = aws_clients.client(good, "sts", role_arn=role).get_caller_identity()["Arn"]
        assert ":assumed-role/" in caller and role.rsplit("/", 1)[1] in caller

    for wrong in (
        _settings(tmp_path, aws, deploy, None, evidence, None),
        _settings(tmp_path, aws, deploy, "evidence-ext-1", evidence, "deploy-ext-1"),
    ):
        for role in (deploy, evidence):
            assert denied(aws_clients.client, wrong, "sts", role_arn=role) == "AccessDenied"
