"""Day zero in the local AWS, as ``make run`` and ``make local-aws`` do it: what an operator does once, with
the local AWS's administrator (the user an enforcing ``LocalAws`` creates: what a human runs day zero with).

1. The organization and a member account for evidence (``CreateAccount``: the account comes with AWS's
   ``OrganizationAccountAccessRole``, tools/local_aws/organization_accounts.py), as the world has them.
2. The service's own identity: the IAM user ``forensics-service`` in the service's (management) account,
   created without permissions, because the day-zero trust policies name it (``service_user``, as the
   suite's shared local AWS has it too).
3. ``bootstrap`` (service/bootstrap): the forensic account, the source account (through the member-account
   role) and the organization's OU and SCPs, built by the programs.
4. The service user gets exactly ``service_identity.service_policy`` (assume the bootstrap's roles, read the
   login alerts).
5. Seeded by hand, what the world has before day zero: the golden image and its SSM parameter in the
   forensic account (the pipeline needs Image Builder, which the local AWS lacks), and a sample compromised
   host with its disk's snapshot in the source account.

The result is the settings the service runs with: its own keys, not the administrator's.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import SecretStr

from service import aws_clients
from service.bootstrap.programs import BootstrapOptions, DayZeroProgram, StackPlan
from service.bootstrap.run import BootstrapResult, bootstrap
from service.config import LOCAL_SNAPSHOT_ROLE, ForensicAccount, Settings, SourceAccount
from tools.local_aws import service_user
from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME
from tools.local_aws.seed import SampleHost, seed_golden_image, seed_sample_host

SERVICE_USER = service_user.SERVICE_USER
SOURCE_ACCOUNT_NAME = "forensics-sample-affected"
SOURCE_ACCOUNT_EMAIL = "affected@example.com"

Progress = Callable[[str], None]


@dataclass
class LocalDayZero:
    settings: Settings  # the service's: its own identity, the bootstrap's accounts
    operator: Settings  # the administrator's, as the bootstrap ran
    options: BootstrapOptions
    result: BootstrapResult
    service_arn: str
    source_account_id: str
    ami_id: str
    sample: SampleHost
    seconds: float = 0.0
    # CPU of this process and the engine processes it ran (the local AWS's own is not counted).
    cpu_seconds: float = 0.0
    # FORENSICS_* settings another node needs to run as this service (the bootstrap's and the identity's).
    env: dict[str, str] = field(default_factory=dict)


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _organization(operator: Settings) -> tuple[str, str]:
    """The organization (made if there is none) and the sample affected account in it."""
    organizations = aws_clients.client(operator, "organizations")
    try:
        organization_id = organizations.describe_organization()["Organization"]["Id"]
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        organization_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    accounts = organizations.list_accounts()["Accounts"]
    found = [a["Id"] for a in accounts if a["Name"] == SOURCE_ACCOUNT_NAME]
    if found:
        return str(organization_id), str(found[0])
    status = organizations.create_account(AccountName=SOURCE_ACCOUNT_NAME, Email=SOURCE_ACCOUNT_EMAIL)
    return str(organization_id), str(status["CreateAccountStatus"]["AccountId"])


def build(operator: Settings, progress: Progress = print) -> LocalDayZero:
    """Day zero of a local AWS whose administrator's keys ``operator`` holds (it enforces IAM: every later
    call of the service is judged against what the bootstrap granted)."""
    started, cpu_started = time.monotonic(), _cpu()
    organization_id, source_account = _organization(operator)
    progress(f"day zero: organization {organization_id}, affected account {source_account}")
    user = service_user.ensure_user(aws_clients.client(operator, "iam"))
    service_arn = user.arn
    progress(f"day zero: the service's identity is {service_arn}")
    external_id = secrets.token_hex(16)
    planned = operator.model_copy(
        update={
            "service_principal_arns": [service_arn],
            "source_accounts": {
                source_account: SourceAccount(
                    snapshot_role_arn=f"arn:aws:iam::{source_account}:role/{LOCAL_SNAPSHOT_ROLE}",
                    external_id=external_id,
                )
            },
        }
    )
    options = BootstrapOptions(
        golden_image_pipeline=False, organization_id=organization_id, member_role_name=MEMBER_ROLE_NAME
    )

    def on_stack(program: DayZeroProgram, plan: StackPlan) -> None:
        progress(f"day zero: {program.name} stack {plan.stack_name} ({time.monotonic() - started:.0f} s)")

    result = bootstrap(planned, options, on_stack=on_stack)
    written = result.settings
    accounts = {
        region: ForensicAccount(**account)
        for region, account in json.loads(written["FORENSICS_FORENSIC_ACCOUNTS"]).items()
    }
    sources = {
        account: SourceAccount(**source)
        for account, source in json.loads(written["FORENSICS_SOURCE_ACCOUNTS"]).items()
    }
    service = planned.model_copy(
        update={
            "forensic_accounts": accounts,
            "source_accounts": sources,
            "signing_key_id": written["FORENSICS_SIGNING_KEY_ID"],
            "audit_anchor_bucket": written.get("FORENSICS_AUDIT_ANCHOR_BUCKET", operator.anchor_bucket),
            "aws_access_key_id": user.access_key_id,
            "aws_secret_access_key": SecretStr(user.secret_access_key),
        }
    )
    service_user.grant(operator, service)
    progress("day zero: seeding what exists before it (golden image, a compromised host)")
    region = operator.aws_region
    ami_id = seed_golden_image(operator, region, None)
    member_role = f"arn:aws:iam::{source_account}:role/{MEMBER_ROLE_NAME}"
    sample = seed_sample_host(operator, region, member_role)
    env = {
        **written,
        "FORENSICS_SERVICE_PRINCIPAL_ARNS": json.dumps([service_arn]),
        "FORENSICS_AWS_ACCESS_KEY_ID": user.access_key_id,
        "FORENSICS_AWS_SECRET_ACCESS_KEY": user.secret_access_key,
    }
    seconds, cpu_seconds = time.monotonic() - started, _cpu() - cpu_started
    progress(f"day zero: done in {seconds:.0f} s ({cpu_seconds:.0f} s CPU with the engines it ran)")
    return LocalDayZero(
        settings=service,
        operator=planned,
        options=options,
        result=result,
        service_arn=service_arn,
        source_account_id=source_account,
        ami_id=ami_id,
        sample=sample,
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        env=env,
    )
