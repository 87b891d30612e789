"""What the service's own identity (the principal the day-zero trust policies name,
FORENSICS_SERVICE_PRINCIPAL_ARNS) may do with its own credentials, derived from the settings the bootstrap
wrote. This is the one place that says so.

Everything the service does in AWS goes through a role the bootstrap built: each forensic account's deploy
role (clean rooms, signing, the anchor bucket, legal holds) and each source account's evidence role
(acquisition, containment). The only calls made as itself are ``sts:AssumeRole`` of those roles and
reading (then deleting) the login alerts of each forensic account's alert queue
(``service.integrations.login_alerts``), and, when the Pulumi state lives in an S3 bucket
(``FORENSICS_PULUMI_BACKEND_URL=s3://...``, as several nodes share it), that bucket's objects (the engine
keeps the stacks' state and locks there with the service's credentials). ``sts:GetCallerIdentity`` needs no
permission. Nothing else: not the organization's member-account role, not any other role, no wildcard
action.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from programs.forensic_account.alerts import QUEUE_READ_ACTIONS
from service.config import Settings

POLICY_NAME = "forensics-service"
# What the Pulumi CLI's S3 state backend does with the bucket: read, write and delete state and lock
# objects, list them.
STATE_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
STATE_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")


def assumed_roles(settings: Settings) -> list[str]:
    """The bootstrap's roles the service assumes: every deploy role, every evidence role."""
    roles = {account.deploy_role_arn for account in settings.accounts.values() if account.deploy_role_arn}
    roles |= {source.snapshot_role_arn for source in settings.sources.values()}
    return sorted(roles)


def alert_queues(settings: Settings) -> list[str]:
    """The ARN of each forensic account's alert queue (from its URL: .../<account>/<name>)."""
    queues = set()
    for region, account in settings.accounts.items():
        if account.alert_queue_url:
            owner, name = account.alert_queue_url.rsplit("/", 2)[1:]
            queues.add(f"arn:aws:sqs:{region}:{owner}:{name}")
    return sorted(queues)


def service_policy(settings: Settings) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AssumeDayZeroRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": assumed_roles(settings),
        }
    ]
    if queues := alert_queues(settings):
        statements.append(
            {
                "Sid": "ReadLoginAlerts",
                "Effect": "Allow",
                "Action": list(QUEUE_READ_ACTIONS),
                "Resource": queues,
            }
        )
    backend = urlsplit(settings.backend_url)
    if backend.scheme == "s3":
        bucket = f"arn:aws:s3:::{backend.netloc}"
        statements += [
            {
                "Sid": "StateObjects",
                "Effect": "Allow",
                "Action": list(STATE_OBJECT_ACTIONS),
                "Resource": f"{bucket}/*",
            },
            {
                "Sid": "StateBucket",
                "Effect": "Allow",
                "Action": list(STATE_BUCKET_ACTIONS),
                "Resource": bucket,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}
