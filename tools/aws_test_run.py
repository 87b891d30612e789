"""``make test-aws``: the target-switchable suites, run against real AWS with the real provider.

The same test files ``make test`` runs against the local AWS (``FORENSICS_TEST_TARGET`` picks the target).
Before anything runs, everything real AWS needs is checked, and what is missing is listed: the command exits
with status 2 and deploys nothing. Extra pytest arguments: ``make test-aws PYTEST_ARGS=...``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from service.config import PROJECT_ROOT, Settings, production_problems
from service.orchestration.engine_environment import STANDIN_PROVIDER_DIR

# The suites written once against a target (their conftest reads FORENSICS_TEST_TARGET): the program's
# deployments, and the clean room's scenario through the service (open, acquire, mount, grant and expire a
# person's access, freeze, verify, release, destroy).
AWS_SUITES = ["tests/program_deploy", "tests/custody/test_custody_engine.py"]
PROVIDER = "pulumi-resource-aws"
# What the scenario acquires on real AWS: a snapshot prepared in a configured source account, and the SHA-256
# of its disk image (the scenario checks the service's hashes against it).
EVIDENCE_VARIABLES = {
    "FORENSICS_TEST_SOURCE_ACCOUNT": "a configured source account holding the test evidence",
    "FORENSICS_TEST_SOURCE_SNAPSHOT_ID": "the test evidence snapshot in that account (the scenario's region)",
    "FORENSICS_TEST_SOURCE_SHA256": "the SHA-256 of that snapshot's full disk image",
}
# The scenario grants clean-room roles just in time to a test person and acts in them as that person: their
# own AWS principal, which the operator's credentials assume as the person's sign-in would.
PERSON_VARIABLE = "FORENSICS_TEST_PERSON_PRINCIPAL_ARN"
PERSON_NEED = (
    f"{PERSON_VARIABLE}: an IAM role (not an SSO permission-set role) in the forensic account that these AWS "
    "credentials may assume and that may assume its forensics-* roles (sts:AssumeRole, sts:TagSession, "
    "sts:SetSourceIdentity): the person the scenario's just-in-time grants are bound to, and acts as"
)


def _credentials_problem() -> str | None:
    try:
        import boto3

        boto3.client("sts").get_caller_identity()
    except Exception as exc:  # no credentials, expired ones, no network: all mean "cannot run"
        return (
            "AWS credentials for the service's identity (AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            f"AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], and AWS_REGION): sts:GetCallerIdentity failed: {exc}"
        )
    return None


def _provider_problem(path: str) -> str | None:
    found = shutil.which(PROVIDER, path=path)
    if found is None:
        return f"the real {PROVIDER} plugin (pulumi-aws's provider binary) on PATH"
    if Path(found).resolve().is_relative_to(STANDIN_PROVIDER_DIR.resolve()):
        return f"the real {PROVIDER} plugin on PATH: {found} is the local stand-in"
    return None


def problems(
    env: Mapping[str, str], credentials: Callable[[], str | None] = _credentials_problem
) -> list[str]:
    """What a run against real AWS still needs (empty: it can run)."""
    missing = []
    if not env.get("FORENSICS_TEST_AMI_ID"):
        missing.append("FORENSICS_TEST_AMI_ID: a golden AMI in the forensic account (its pipeline's latest)")
    if not env.get("FORENSICS_TEST_SNAPSHOT_ID"):
        missing.append("FORENSICS_TEST_SNAPSHOT_ID: an evidence snapshot in the forensic account's region")
    missing += [f"{name}: {what}" for name, what in EVIDENCE_VARIABLES.items() if not env.get(name)]
    if not env.get(PERSON_VARIABLE):
        missing.append(PERSON_NEED)
    settings = Settings(target="aws")  # the FORENSICS_* settings `forensics bootstrap` wrote, from env/.env
    missing += [f"a setting from `forensics bootstrap`: {p}" for p in production_problems(settings)]
    provider = _provider_problem(env.get("PATH", ""))
    if provider:
        missing.append(provider)
    credential = credentials()
    if credential:
        missing.append(credential)
    return missing


def main(argv: list[str]) -> int:
    missing = problems(os.environ)
    if missing:
        print("make test-aws needs, before it deploys anything to real AWS:", file=sys.stderr)
        for item in missing:
            print(f"- {item}", file=sys.stderr)
        return 2
    env = {**os.environ, "FORENSICS_TEST_TARGET": "aws"}
    command = [sys.executable, "-m", "pytest", "-m", "aws", *AWS_SUITES, *argv]
    return subprocess.run(command, env=env, cwd=PROJECT_ROOT, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
