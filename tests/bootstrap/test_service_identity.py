"""The service's own identity's policy (service/bootstrap/service_identity.py) is exactly what the service
does with its own credentials: assume the bootstrap's deploy and evidence roles, read the login-alert
queues, and the state bucket's objects only when the state lives in S3; never a wildcard action."""

from __future__ import annotations

from service.bootstrap.service_identity import service_policy
from service.config import ForensicAccount, Settings, SourceAccount

DEPLOY = "arn:aws:iam::111111111111:role/forensics-deploy"
EVIDENCE = "arn:aws:iam::222222222222:role/forensics-evidence-reader"


def _settings(**extra: object) -> Settings:
    return Settings(
        target="aws",
        forensic_accounts={
            "eu-west-1": ForensicAccount(
                account_id="111111111111",
                deploy_role_arn=DEPLOY,
                alert_queue_url="https://sqs.eu-west-1.amazonaws.com/111111111111/forensics-login-alerts",
            )
        },
        source_accounts={"222222222222": SourceAccount(snapshot_role_arn=EVIDENCE, external_id="x" * 16)},
        **extra,  # type: ignore[arg-type]
    )


def test_the_service_may_assume_the_bootstrap_s_roles_and_read_its_alerts_only() -> None:
    policy = service_policy(_settings())
    assert policy["Statement"] == [
        {
            "Sid": "AssumeDayZeroRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [DEPLOY, EVIDENCE],
        },
        {
            "Sid": "ReadLoginAlerts",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": ["arn:aws:sqs:eu-west-1:111111111111:forensics-login-alerts"],
        },
    ]


def test_an_s3_state_backend_adds_its_bucket_and_nothing_else() -> None:
    policy = service_policy(_settings(pulumi_backend_url="s3://forensics-state?region=eu-west-1"))
    sids = {s["Sid"]: s for s in policy["Statement"]}
    assert sids["StateObjects"]["Resource"] == "arn:aws:s3:::forensics-state/*"
    assert sids["StateBucket"]["Resource"] == "arn:aws:s3:::forensics-state"
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a]
