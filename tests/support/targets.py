"""Where a scenario runs: the local AWS (moto + the stand-in provider, what `make test` uses) or real AWS
(`make test-aws`: ``FORENSICS_TEST_TARGET=aws``, the bootstrap's settings, the real provider).

A scenario test is written once against a ``Target``: its service settings, clients acting as a role, the
evidence it acquires, and how a verifier outside the service reaches AWS. The local target makes the evidence
(``tests.support.disk_images.source_evidence``, the one place evidence disks are made); on real AWS it is a
snapshot prepared in a source account, named by the environment. Likewise the AWS principal of the person the
scenario grants roles to (``GRANTEE``): locally a role made for them, on real AWS one named by the
environment (a role the operator's credentials may assume, as their sign-in would); either way the target's
settings bind the person to it (``person_principals``), and the scenario acts in a clean-room role as that
person (``tests.support.persons``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from tests.support.aws import assuming_keys, clients_with
from tests.support.people import TEST_PEOPLE
from tests.support.persons import Endpoint, Person, make_person, with_people
from tools.aws_test_run import EVIDENCE_VARIABLES, PERSON_VARIABLE

TARGET = os.environ.get("FORENSICS_TEST_TARGET", "local")
# The person the scenario grants a clean-room role to, just in time (one of the test people).
GRANTEE = "ivan@example.com"


@dataclass(frozen=True)
class Evidence:
    source_account_id: str
    snapshot_id: str
    sha256: str


@dataclass
class Target:
    name: str
    settings: Settings
    # A boto3 client of the service's own identity (service name -> client).
    client: Callable[[str], Any]
    evidence: Callable[[Path], Evidence]
    # GRANTEE, with their own AWS principal: what their grants are bound to.
    grantee: Person
    # The STS client that assumes a given role (default: ``client``'s): locally the service's roles are
    # assumed with the service's keys (tests/support/aws.py).
    sts_for: Callable[[str], Any] | None = None

    @property
    def grantee_arn(self) -> str:
        return self.grantee.principal_arn

    def _assumed(self, role_arn: str) -> dict[str, Any]:
        sts = self.sts_for(role_arn) if self.sts_for else self.client("sts")
        credentials: dict[str, Any] = sts.assume_role(RoleArn=role_arn, RoleSessionName="scenario")[
            "Credentials"
        ]
        return credentials

    def credentials_for(self, role_arn: str) -> dict[str, str]:
        """A session of ``role_arn`` as boto3's keyword arguments (for the environment of a tool run as
        it)."""
        creds = self._assumed(role_arn)
        return {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }

    def client_as(self, role_arn: str, service: str) -> Any:
        """A client acting as one of the clean room's roles (what a person's tooling would hold)."""
        return clients_with(
            self._assumed(role_arn),
            endpoint_url=self.settings.aws_endpoint_url,
            region=self.settings.aws_region,
            verify=self.settings.aws_verify_tls,
        )(service)

    def verifier_arguments(self) -> list[str]:
        """What `forensics verify` needs to reach this AWS besides credentials."""
        if self.settings.aws_endpoint_url is None:
            return []
        arguments = ["--endpoint-url", self.settings.aws_endpoint_url]
        return arguments if self.settings.aws_verify_tls else [*arguments, "--no-verify-tls"]


def local_target(settings: Settings, local_aws: Any) -> Target:
    from tests.support.disk_images import source_evidence

    def evidence(folder: Path) -> Evidence:
        snapshot_id, sha256 = source_evidence(local_aws, folder)
        return Evidence(LOCAL_SOURCE_ACCOUNT, snapshot_id, sha256)

    # GRANTEE's own role in the local AWS: the grant names a principal that exists, as real IAM requires of
    # a trust policy, and the scenario signs in as them through it.
    grantee = make_person(local_aws.client, Endpoint.of(settings), GRANTEE)

    def sts_for(role_arn: str) -> Any:
        return local_aws._client("sts", *assuming_keys(local_aws, role_arn))

    return Target("local", with_people(settings, grantee), local_aws.client, evidence, grantee, sts_for)


def aws_missing() -> list[str]:
    return [name for name in (*EVIDENCE_VARIABLES, PERSON_VARIABLE) if not os.environ.get(name)]


def aws_target(data_dir: Path) -> Target:
    """Real AWS with the settings `forensics bootstrap` wrote (FORENSICS_* in the environment or .env), and
    the test people: their tokens map to persons, and GRANTEE to the principal the environment names."""
    configured = Settings(target="aws", data_dir=data_dir)
    settings = configured.model_copy(update={"person_aliases": {**TEST_PEOPLE, **configured.person_aliases}})
    session = boto3.Session(region_name=settings.aws_region)
    grantee = Person(GRANTEE, os.environ[PERSON_VARIABLE], session.client, Endpoint.of(settings))
    settings = with_people(settings, grantee)

    def evidence(folder: Path) -> Evidence:
        return Evidence(
            os.environ["FORENSICS_TEST_SOURCE_ACCOUNT"],
            os.environ["FORENSICS_TEST_SOURCE_SNAPSHOT_ID"],
            os.environ["FORENSICS_TEST_SOURCE_SHA256"],
        )

    return Target("aws", settings, session.client, evidence, grantee)
