"""How the pack reaches AWS: as the deployment does, in the stack's region and forensic account.

Anything the program declares or writes (tags, outputs, its own config) is the program's to choose, so the
pack takes its AWS identity only from the analyzer's environment, which the engine child hands down
unchanged from the service: ``service/orchestration/engine_environment.py`` fills these variables per
operation from the service's settings and the provider config the service chose for the stack (region,
``aws:assumeRoles``), before the program runs. The base credentials are the provider's own: the ambient AWS
credentials for real AWS, and the local AWS's keys from the stack's ``aws:accessKey``/``aws:secretKey``
locally (where the environment names the endpoint). Whichever credentials start the chain, the roles come
from the environment and the account they end in is checked against the one the environment names.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_REGION = "FORENSICS_POLICY_AWS_REGION"
ENV_ACCOUNT_ID = "FORENSICS_POLICY_AWS_ACCOUNT_ID"
# JSON list of pulumi-aws assumeRoles entries ({"roleArn", "sessionName", "externalId", "sourceIdentity"}).
ENV_ASSUME_ROLES = "FORENSICS_POLICY_AWS_ASSUME_ROLES"
ENV_ENDPOINT_URL = "FORENSICS_POLICY_AWS_ENDPOINT_URL"
ENV_VERIFY_TLS = "FORENSICS_POLICY_AWS_VERIFY_TLS"

LOCAL_ACCESS_KEY = "aws:accessKey"
LOCAL_SECRET_KEY = "aws:secretKey"
DEFAULT_SESSION_NAME = "forensics-policy-pack"

# A hung endpoint must not hold the whole deployment; a refusal is reported, not retried for long.
_CLIENT_OPTIONS: dict[str, Any] = {
    "connect_timeout": 10,
    "read_timeout": 30,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


class AwsAccessError(Exception):
    """AWS cannot be asked; the message says why."""


@dataclass(frozen=True)
class AssumedRole:
    role_arn: str
    session_name: str = DEFAULT_SESSION_NAME
    external_id: str | None = None
    source_identity: str | None = None


@dataclass(frozen=True)
class Target:
    """Where and as whom the pack asks AWS."""

    region: str
    account_id: str | None = None
    assume_roles: tuple[AssumedRole, ...] = ()
    endpoint_url: str | None = None
    verify_tls: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Target:
        env = os.environ if environ is None else environ
        region = (env.get(ENV_REGION) or "").strip()
        if not region:
            raise AwsAccessError(
                f"the policy pack was not told the stack's region ({ENV_REGION} is not set: the pack runs "
                "only under the service, which sets it per operation)"
            )
        return cls(
            region=region,
            account_id=(env.get(ENV_ACCOUNT_ID) or "").strip() or None,
            assume_roles=_roles(env.get(ENV_ASSUME_ROLES)),
            endpoint_url=(env.get(ENV_ENDPOINT_URL) or "").strip() or None,
            verify_tls=(env.get(ENV_VERIFY_TLS) or "true").strip().lower() not in ("false", "0", "no"),
        )


def _roles(raw: str | None) -> tuple[AssumedRole, ...]:
    if not raw or not raw.strip():
        return ()
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise AwsAccessError(f"{ENV_ASSUME_ROLES} is not JSON: {exc}") from exc
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list):
        raise AwsAccessError(f"{ENV_ASSUME_ROLES} is not a list of roles")
    roles: list[AssumedRole] = []
    for entry in entries:
        arn = entry.get("roleArn") if isinstance(entry, dict) else None
        if not isinstance(arn, str) or not arn:
            raise AwsAccessError(f"{ENV_ASSUME_ROLES} holds an entry without a roleArn: {entry!r}")
        roles.append(
            AssumedRole(
                role_arn=arn,
                session_name=str(entry.get("sessionName") or DEFAULT_SESSION_NAME)[:64],
                external_id=entry.get("externalId") or None,
                source_identity=entry.get("sourceIdentity") or None,
            )
        )
    return tuple(roles)


@dataclass(frozen=True)
class Connection:
    """An EC2 client acting in `account_id` (the account the credentials were proven to act in)."""

    ec2: Any
    region: str
    account_id: str


_connections: dict[Target, Connection] = {}


def connect(target: Target | None = None) -> Connection:
    """An EC2 client for the stack's region and forensic account; raises AwsAccessError naming the reason.

    Cached per target for the life of the analyzer process (one preview or update), so the role is assumed
    once however many resources are judged; failures are not cached."""
    target = target or Target.from_environment()
    cached = _connections.get(target)
    if cached is not None:
        return cached
    connection = _open(target)
    _connections[target] = connection
    return connection


def _base_credentials(target: Target) -> dict[str, str]:
    if not target.endpoint_url:
        return {}  # the ambient chain, exactly what the real provider reads
    import pulumi.runtime

    access = pulumi.runtime.get_config(LOCAL_ACCESS_KEY)
    secret = pulumi.runtime.get_config(LOCAL_SECRET_KEY)
    if not access or not secret:
        raise AwsAccessError(
            f"the local AWS endpoint is set but the stack config carries no {LOCAL_ACCESS_KEY}/"
            f"{LOCAL_SECRET_KEY} (the provider's local credentials)"
        )
    return {"aws_access_key_id": str(access), "aws_secret_access_key": str(secret)}


def describe_error(error: Exception) -> str:
    """A ClientError as "Code: message", anything else as "Type: text"."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'Error')}: {details.get('Message', '')}".rstrip(": ")
    return f"{type(error).__name__}: {error}"


# botocore's parsed data files (service models, endpoint rules, partitions) per data folder, shared by every
# session the process makes: they depend on botocore's version and AWS_DATA_PATH only, never on credentials,
# region or endpoint. Parsing them is most of what a session and its first clients cost; an analyzer forked
# from a zygote that filled this (``warm_models``) gets them parsed.
_loaders: dict[str | None, Any] = {}
# The rules run on the analyzer's gRPC threads; sessions are made one at a time (botocore's are not made
# thread-safely, and the shared loader's search path is set here).
_session_lock = threading.Lock()
# The services the pack asks (``_open``).
SERVICES = ("sts", "ec2")


def new_session() -> Any:
    """A boto3 session as ``boto3.Session()`` makes it (its configuration and credentials its own, read from
    this process's environment and files), reading botocore's data through the process's shared loader."""
    import boto3
    import botocore.session
    from botocore.loaders import create_loader

    with _session_lock:
        core = botocore.session.Session()
        data_path = core.get_config_variable("data_path")
        loader = _loaders.get(data_path)
        if loader is None:
            loader = _loaders[data_path] = create_loader(data_path)
        core.register_component("data_loader", loader)
        session = boto3.Session(botocore_session=core)
        # Each boto3 session adds boto3's own data folder to its loader's search path: a shared loader needs
        # it once.
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
        return session


def warm_models() -> None:
    """Parse the data the pack's clients read (``SERVICES``) into the shared loader: builds the clients
    against an unreachable endpoint with placeholder keys and sends nothing."""
    session = new_session()
    for service in SERVICES:
        session.client(
            service,
            region_name="us-east-1",
            endpoint_url="https://127.0.0.1:1",
            aws_access_key_id="warm",
            aws_secret_access_key="warm",
        )


def _open(target: Target) -> Connection:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    if not target.verify_tls:
        from urllib3.exceptions import InsecureRequestWarning

        # The local endpoint's certificate is self-signed; not verifying it was the service's explicit choice.
        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    config = Config(**_CLIENT_OPTIONS)
    common: dict[str, Any] = {
        "region_name": target.region,
        "endpoint_url": target.endpoint_url,
        # None: botocore's own default, which honours AWS_CA_BUNDLE (the service sets it with a CA bundle).
        "verify": None if target.verify_tls else False,
        "config": config,
    }
    credentials = _base_credentials(target)
    session = new_session()
    if not credentials and session.get_credentials() is None:
        raise AwsAccessError("no AWS credentials in the analyzer's environment")
    acting = "the base credentials"
    try:
        for role in target.assume_roles:
            acting = role.role_arn
            options: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": role.session_name}
            if role.external_id:
                options["ExternalId"] = role.external_id
            if role.source_identity:
                options["SourceIdentity"] = role.source_identity
            assumed = session.client("sts", **common, **credentials).assume_role(**options)["Credentials"]
            credentials = {
                "aws_access_key_id": assumed["AccessKeyId"],
                "aws_secret_access_key": assumed["SecretAccessKey"],
                "aws_session_token": assumed["SessionToken"],
            }
        account = str(session.client("sts", **common, **credentials).get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise AwsAccessError(f"cannot act as {acting} in {target.region}: {describe_error(exc)}") from exc
    if target.account_id and account != target.account_id:
        raise AwsAccessError(
            f"the pack's credentials act in account {account}, not in the stack's forensic account "
            f"{target.account_id}"
        )
    return Connection(
        ec2=session.client("ec2", **common, **credentials), region=target.region, account_id=account
    )
