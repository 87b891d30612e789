"""The one place the service's settings come from (environment variables prefixed ``FORENSICS_``).

``target=local`` is the embedded default: SQLite, a file:// Pulumi backend under ``data_dir``, moto on
127.0.0.1 and the stand-in ``aws`` provider plugin on PATH. ``target=aws`` uses real endpoints and the real
provider plugin; nothing local is started and the stand-in is never on PATH.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from programs.forensic_account.config import BOUNDARY_POLICY_NAME, DEFAULT_SIGNING_KEY_ALIAS, DEPLOY_ROLE_NAME
from programs.forensic_env.config import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_ALLOWED_INSTANCE_TYPES,
    DEFAULT_AMI_OWNERS,
    DEFAULT_AMI_SSM_PARAMETER,
    DEFAULT_MAX_AMI_AGE_DAYS,
    DEFAULT_REGION,
    DEFAULT_TTL_HOURS,
)
from programs.source_account.response import MEMORY_DOCUMENT_NAME

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The embedded default database: a SQLite file of this name in the data folder.
SQLITE_FILE = "service.db"

# The mandatory policy pack: every deployment of the forensic program is judged by it; configuration may add
# packs (FORENSICS_POLICY_PACKS), never leave this one out.
FORENSICS_POLICY_PACK = PROJECT_ROOT / "policy_packs" / "forensics"

# The role the service deploys through in the local AWS's default account (tools.local_aws.seed creates it),
# named as programs/forensic_account names it on AWS.
LOCAL_DEPLOY_ROLE = DEPLOY_ROLE_NAME
LOCAL_BOUNDARY_POLICY = BOUNDARY_POLICY_NAME
# Good for the embedded local mode only: with target=aws the service refuses to start on it.
LOCAL_PASSPHRASE = "local-clean-room-passphrase"


# sts:ExternalId: 2 to 1224 characters of this set (STS AssumeRole).
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9+=,.@:/-]{2,1224}$"


class ForensicAccount(BaseModel):
    """The forensic account of one region, and the role the service assumes to deploy into it (none: the
    service's own credentials already act in that account)."""

    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(pattern=r"^[0-9]{12}$")
    deploy_role_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$"
    )
    # The sts:ExternalId the deploy role's trust requires (programs/forensic_account `externalId`).
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID_PATTERN)
    # The managed policy every clean-room role must carry as its permissions boundary (the deploy role may
    # create no role without it); written by the bootstrap (programs/forensic_account permissionsBoundaryArn).
    permissions_boundary_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9_+=,.@/-]+$"
    )
    # What the bootstrap built there (programs/forensic_account outputs): the account's multi-region trail
    # and the SNS topic its log-in alerts are published to, for the operator's record; the service reads
    # the alerts from the SQS queue subscribed to that topic (service/integrations/login_alerts.py).
    trail_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{3,128}$")
    alert_topic_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$"
    )
    alert_queue_url: str | None = Field(
        default=None, pattern=r"^https?://[A-Za-z0-9.:-]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}$"
    )

    @model_validator(mode="after")
    def _role_in_account(self) -> ForensicAccount:
        if self.deploy_role_arn and self.deploy_role_arn.split(":")[4] != self.account_id:
            raise ValueError(f"deploy_role_arn {self.deploy_role_arn} is not in account {self.account_id}")
        boundary = self.permissions_boundary_arn
        if boundary and boundary.split(":")[4] != self.account_id:
            raise ValueError(f"permissions_boundary_arn {boundary} is not in account {self.account_id}")
        queue = self.alert_queue_url
        if queue and queue.rsplit("/", 2)[1] != self.account_id:
            raise ValueError(f"alert_queue_url {queue} is not in account {self.account_id}")
        return self


class SourceAccount(BaseModel):
    """An affected (source) account evidence may be acquired from, and the role the service assumes there to
    read, snapshot and share its EBS snapshots (nothing else)."""

    model_config = ConfigDict(extra="forbid")

    snapshot_role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
    # The sts:ExternalId the evidence role's trust requires (programs/source_account `externalId`).
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID_PATTERN)


# An SSO permission-set role (IAM Identity Center creates them under this path): shared by everyone assigned
# the permission set, so a grant to one of them must name the person's own session.
SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"


class PersonPrincipal(BaseModel):
    """The AWS identity one person's grants are bound to: ``principal_arn`` (an IAM user or role), and for a
    role several people use (an SSO permission-set role) ``session_name``, the role session name their
    sign-in gives them (Identity Center sets it to their user name; nobody chooses it). Such a grant admits
    only that role's sessions of that name (``aws:userid`` = ``<role id>:<session name>``). Given as the ARN
    string alone, or as an object with both."""

    model_config = ConfigDict(extra="forbid")

    principal_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]+$")
    session_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_+=,.@-]{2,64}$")

    @model_validator(mode="before")
    @classmethod
    def _from_arn(cls, value: object) -> object:
        return {"principal_arn": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _session_of_a_role(self) -> PersonPrincipal:
        kind = self.principal_arn.split(":", 5)[5].split("/", 1)[0]
        if self.session_name and kind != "role":
            raise ValueError(f"session_name is for a role's sessions; {self.principal_arn} is an IAM user")
        if SSO_ROLE_PATH in self.principal_arn and not self.session_name:
            raise ValueError(
                f"{self.principal_arn} is an SSO permission-set role, shared by everyone assigned the "
                "permission set: give the person's session name too "
                '({"principal_arn": ..., "session_name": ...})'
            )
        return self


# Locally: the affected account evidence is acquired from (a second account in the local AWS), the role the
# seed makes there, the signing key alias every forensic account has, and the audit-anchor bucket.
LOCAL_SOURCE_ACCOUNT = "210987654321"
LOCAL_SNAPSHOT_ROLE = "forensics-evidence-reader"
SIGNING_KEY_ALIAS = DEFAULT_SIGNING_KEY_ALIAS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORENSICS_", env_file=".env", extra="ignore")

    target: Literal["local", "aws"] = "local"
    data_dir: Path = PROJECT_ROOT / ".data"

    # AWS: in local mode the endpoint is moto's (filled in when the local server starts).
    aws_region: str = DEFAULT_REGION
    aws_endpoint_url: str | None = None
    aws_access_key_id: str = "testing"
    aws_secret_access_key: SecretStr = SecretStr("testing")
    aws_account_id: str = DEFAULT_ACCOUNT_ID
    # Check the AWS endpoints' TLS certificates. False only for a local endpoint whose certificate nobody
    # can be given; the local AWS writes its certificate to a file: give it as aws_ca_bundle instead.
    aws_verify_tls: bool = True
    # A CA bundle (PEM) the AWS endpoints' certificates are verified with instead of the system's: the local
    # AWS's own (``tools.local_aws.tls``), or a proxy's. The engine's processes get it as AWS_CA_BUNDLE.
    aws_ca_bundle: Path | None = None
    # Local target only: the Unix socket of the local AWS's stand-in provider zygote
    # (tools.aws_standin.zygote), which forks each engine pass's provider from one already-imported process
    # instead of starting the stand-in afresh. Unset, or not answering: each pass starts its own.
    standin_zygote: Path | None = None
    # Local target only: the Unix socket of the policy analyzer's zygote (tools.policy_shim.analyzer), which
    # forks each engine pass's analyzer from one already-imported process. Unset, or not answering: each
    # pass starts its own, as production always does.
    analyzer_zygote: Path | None = None
    # Local target only: the Unix socket of the engine child's zygote (tools.engine_zygote), which forks each
    # stack operation's engine child from one process that imported the SDK and the forensic program already.
    # It serves a service of its own session only. Unset, not answering, or of another session: each
    # operation starts its child afresh, as production always does.
    engine_zygote: Path | None = None
    # The service's own AWS identity (role ARN). Freeze places legal holds and writes exports in the evidence
    # bucket, whose policy denies everyone else. `make run`: the IAM user forensics-service day zero makes
    # (tools.local_aws.day_zero); the suite's unenforced local AWS: empty (the account root's test keys).
    service_principal_arns: list[str] = Field(default_factory=list)
    # Region -> its forensic account (and the deploy role assumed there). Callers choose a region, never an
    # account: evidence is examined in its own region, in the account set up for it. Empty (local default):
    # aws_region alone, in aws_account_id, with the service's own credentials.
    forensic_accounts: dict[str, ForensicAccount] = Field(default_factory=dict)
    # Who may assume the four human roles (SSO permission-set roles or named IAM roles; never an account
    # root), each session with MFA or a source identity. Empty: only the break-glass role.
    human_principal_arns: list[str] = Field(default_factory=list)
    # The break-glass role: the only principal that may administer keys and bucket guard rails alone.
    # Default: arn:aws:iam::<aws_account_id>:role/forensics-break-glass.
    break_glass_role_arn: str | None = None

    # Affected accounts evidence may be acquired from (account id -> the snapshot role assumed there). An
    # account not listed is refused. Empty (local default): the local AWS's sample source account.
    source_accounts: dict[str, SourceAccount] = Field(default_factory=dict)
    # The KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) in each forensic account that signs freeze
    # manifests, teardown certificates and audit anchors (an alias, a key id or a key ARN).
    signing_key_id: str = SIGNING_KEY_ALIAS
    # The Object Lock bucket (COMPLIANCE default retention) in the default region's forensic account that
    # keeps signed audit anchors; None: anchors are not written (refused for target=aws).
    audit_anchor_bucket: str | None = None
    # An anchor is written by the scheduler at most this often, and at every freeze and destroy.
    audit_anchor_interval_minutes: int = 60
    # Parallel GetSnapshotBlock requests while hashing a disk image (each holds one 512 KiB block).
    hash_workers: int = 8
    # Memory capture (service/custody/memory_capture.py): the SSM document day zero creates in every source
    # account (programs/source_account/response.py), and the capture tool the service stages for it: an AVML
    # static binary the operator downloaded, with the SHA-256 it is pinned to (the instance runs it only if
    # it hashes to this). None configured: memory capture is refused. The local tooling (`make run`, the
    # tests) configures the local AWS's stand-in here (tools/local_aws/memory_tool.py).
    memory_document_name: str = Field(default=MEMORY_DOCUMENT_NAME, pattern=r"^[A-Za-z0-9_.-]{3,128}$")
    memory_tool_path: Path | None = None
    memory_tool_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    # Pulumi
    pulumi_backend_url: str | None = None  # default: file://<data_dir>/state?metadata=skip (``backend_url``)
    pulumi_passphrase: SecretStr = SecretStr(LOCAL_PASSPHRASE)
    pulumi_cli_dir: Path = PROJECT_ROOT / ".tools" / "bin"
    # Packs applied to every deployment: the forensics pack always first, then any configured here.
    policy_packs: list[Path] = Field(default_factory=lambda: [FORENSICS_POLICY_PACK])

    # Persistence and jobs
    database_url: str | None = None  # default: sqlite:///<data_dir>/service.db
    max_parallel_operations: int = 4
    operation_timeout_seconds: int = 3600
    # How much lower than the API's the CPU priority of each deployment is (the engine child, and so the CLI,
    # the program, the policy analyzer and the provider it starts): deploying must not starve the API.
    engine_niceness: int = Field(default=10, ge=0, le=19)
    # How much lower than the API's the CPU priority of the embedded job consumer process is (its jobs and the
    # ingestion of their engine events); the engines it starts are ``engine_niceness`` below it in turn.
    consumer_niceness: int = Field(default=5, ge=0, le=19)

    # Auth
    bootstrap_admin_token: SecretStr | None = None
    # The operator console (/console): its session cookie is signed with this key. None: a random key per
    # process, so sessions end when the service restarts; set it when several API processes serve the console.
    console_session_secret: SecretStr | None = None
    # A console session ends this long after sign-in (sign in again with the token).
    console_session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    # Event streams (operation progress) one console session may hold open at once, per API process.
    console_max_streams: int = Field(default=4, ge=1, le=100)
    # Who is the same person: a token's principal name, a chat user id (U123) or a chat principal
    # (slack:U123) -> one person id. The people are these persons (and those of person_principals). The
    # two-person rule compares persons, never tokens: whoever asks for what needs a second person, and whoever
    # decides it, must map to one of them (service/auth/persons.py); tokens are minted only for them or
    # for service principals (a name starting with "service:").
    person_aliases: dict[str, str] = Field(default_factory=dict)
    # Extensions that take a clean room's time granted without a second person (its opening TTL plus every
    # extension since) past this many hours wait for a second person's approval.
    two_person_extension_hours: int = 72
    # A request waiting for a second person expires (and is never acted on) after this many hours.
    approval_ttl_hours: float = 24.0

    # Forensic defaults: the program's own (programs/forensic_env/config.py is their one source).
    default_ttl_hours: int = DEFAULT_TTL_HOURS
    # The workstation instance types a clean room may use (the API refuses others with 422, and the policy
    # pack's instance-type-allowed refuses any stack that uses another).
    allowed_instance_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_INSTANCE_TYPES))
    # Clean rooms one person may have open (not destroyed) at once; one more is refused (409).
    max_open_rooms_per_requester: int = Field(default=10, ge=1)
    # Owners whose images may be golden AMIs ("self": the forensic account's own).
    golden_ami_owner_accounts: list[str] = Field(default_factory=lambda: list(DEFAULT_AMI_OWNERS))
    golden_ami_ssm_parameter: str = DEFAULT_AMI_SSM_PARAMETER
    # Read by the policy pack (service/orchestration/engine_environment.py passes it to the engine).
    max_ami_age_days: int = DEFAULT_MAX_AMI_AGE_DAYS

    # Service (added by the service layer)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Huey storage: None = SqliteHuey at <data_dir>/jobs.db; "redis://..." = RedisHuey (needs `redis`).
    # Redis must carry a password (redis://:PASSWORD@host or an ACL user, rediss:// for TLS) for target=aws.
    jobs_url: str | None = None
    # Signs every queue payload (Huey unpickles what it dequeues: unsigned, whoever writes to the queue runs
    # code on the workers). Required for target=aws, the same on every node; locally a generated one is kept
    # in <data_dir>/jobs-signing.key.
    jobs_signing_secret: SecretStr | None = None
    # Run the Huey consumer inside the API process; turn off when a separate `huey_consumer` runs the jobs.
    embedded_consumer: bool = True
    # Longest idle wait between queue polls of a worker thread (on Redis: its blocking read's timeout, so
    # also how long stopping a consumer can wait for an idle thread).
    jobs_poll_max_delay: float = 2.0
    # A concurrent update (stack locked elsewhere) is re-queued this many times, this far apart.
    concurrent_update_retries: int = 5
    concurrent_update_retry_seconds: float = 15.0
    # Running operations write a heartbeat; one silent for longer is treated as orphaned by recovery.
    operation_heartbeat_seconds: float = 5.0
    operation_stale_seconds: float = 120.0
    # How often a worker process (``python -m service.jobs.worker``) sweeps for orphaned operations on a
    # thread of its own: the longest an operation of a worker that died on this host waits to be recovered.
    recovery_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    # On shutdown (SIGTERM), how long running operations get to finish before the process stops their engines
    # and hands them over to another worker (service/jobs/drain.py).
    shutdown_grace_seconds: float = 10.0
    max_body_bytes: int = 1_048_576
    # How often an operation's event stream (the API's and the console's server-sent events) reads the
    # database for new events: the most a watcher lags behind, and one query per open stream each time.
    event_stream_poll_seconds: float = Field(default=0.5, gt=0, le=10)
    # Proxies/load balancers (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
    # believed (service/api/forwarded.py); from any other peer those headers are ignored.
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the bad entry
        return value

    # Prometheus scrapes /metrics with `Authorization: Bearer <this>`. None: /metrics is not served (404):
    # operation counts and queue depth tell an outsider when a clean room is being built or torn down.
    metrics_token: SecretStr | None = None
    run_migrations_on_startup: bool = True

    # Integrations (service/integrations, service/expiry)
    # Ticket webhooks: HMAC-SHA256 over f"{timestamp}.{body}"; no secret = every webhook is refused.
    ticket_webhook_secret: SecretStr | None = None
    ticket_webhook_tolerance_seconds: int = 300
    ticket_forensics_label: str = "forensics"
    ticket_legal_hold_statuses: list[str] = Field(default_factory=lambda: ["Legal Hold"])
    ticket_done_statuses: list[str] = Field(default_factory=lambda: ["Done", "Closed", "Resolved"])
    # The service principal a webhook acts as (open/freeze), and the role it destroys with.
    ticket_principal: str = "ticketing"
    ticket_role: str = "responder"
    ticket_destroy_role: str = "data_custodian"
    # Outbound comments: none | jira (POST {base}/rest/api/2/issue/{ticket}/comment) | generic (POST {base}).
    ticketing_kind: Literal["none", "jira", "generic"] = "none"
    ticketing_base_url: str | None = None
    ticketing_username: str | None = None  # Jira: basic auth user (email); without it the token is a Bearer
    ticketing_token: SecretStr | None = None
    ticketing_timeout_seconds: float = 10.0
    # Outbox delivery: exponential backoff from base, capped; a delivery holds its message for lease seconds.
    outbox_backoff_seconds: float = 5.0
    outbox_backoff_max_seconds: float = 300.0
    outbox_lease_seconds: float = 60.0
    outbox_dispatch_on_commit: bool = True
    # Slack-compatible slash commands: v0 signatures (5-minute window); no secret = every command is refused.
    slack_signing_secret: SecretStr | None = None
    slack_user_roles: dict[str, str] = Field(default_factory=dict)  # {"U123": "responder"}
    slack_allowed_channels: list[str] = Field(default_factory=list)  # empty: any channel
    slack_response_url_minutes: int = 30  # Slack accepts posts to a response_url for 30 minutes
    # The only hosts a command's or a press's response_url may name (https; a loopback address listed here
    # may also be http, for a local stand-in). Anything else is refused: the service would otherwise POST
    # wherever a signed request pointed it (the instance metadata service, internal hosts).
    slack_response_url_hosts: list[str] = Field(default_factory=lambda: ["hooks.slack.com"])
    slack_notify_url: str | None = None  # incoming webhook for alerts (TTL warnings, drift, failures)
    # Unauthenticated webhook/command/button requests, per source address (service/integrations/refusals.py):
    # refusals drain a bucket of `burst` refilled at `per_minute`, past which the source gets 429; the first
    # `audited` refusals of each window are audit rows, the rest one summary row per source and window.
    integration_refusal_burst: int = Field(default=20, ge=1)
    integration_refusals_per_minute: float = Field(default=20.0, gt=0)
    integration_refusals_audited: int = Field(default=5, ge=0)
    integration_refusal_audit_seconds: int = Field(default=60, ge=1)
    # Scheduled teardown (TTL) and drift checks (Huey crontab minute fields).
    ttl_warning_hours: float = 12.0
    max_ttl_extension_hours: int = 24 * 90  # the schema bound of ExtendRequest.hours
    teardown_principal: str = "ttl-reaper"
    teardown_role: str = "data_custodian"
    teardown_cron_minute: str = "*/5"
    drift_check_interval_hours: float = 24.0
    drift_check_principal: str = "drift-check"
    drift_check_role: str = "responder"
    drift_check_cron_minute: str = "17"
    # Register the periodic tasks (delivery sweep, teardown, drift) on the Huey queue; tests call them.
    integrations_periodic_tasks: bool = True

    # Just-in-time access (service/access). Each person (a token's principal, or a chat user) -> the AWS
    # principal their grants are bound to (``PersonPrincipal``): an ARN string (their own IAM user or role),
    # or {"principal_arn": <role>, "session_name": <their session name>} for a role shared by several people
    # (an SSO permission-set role: required for those), never an account root. A person without one cannot
    # ask.
    person_principals: dict[str, PersonPrincipal] = Field(default_factory=dict)
    # The longest grant, in hours (AWS refuses the role from the expiry on).
    max_grant_hours: int = Field(default=12, ge=1, le=24 * 7)
    # Who the service acts as when it brings trust policies in line by itself (expired grants, a person giving
    # up their own grant), and how often the scheduler looks for expired grants (Huey crontab minute field).
    access_sync_principal: str = "access-sync"
    access_sync_role: str = "data_custodian"
    access_expiry_cron_minute: str = "*"
    # CloudTrail's AssumeRole events of the clean-room roles, judged against the grants (target=aws only:
    # the local AWS records no CloudTrail events). The look-back covers CloudTrail's delivery delay.
    cloudtrail_scan_minutes: int = Field(default=10, ge=1, le=60)
    cloudtrail_lookback_minutes: int = Field(default=60, ge=5, le=24 * 60)

    @model_validator(mode="after")
    def _forensics_pack_first(self) -> Settings:
        """The forensics pack cannot be configured away: ``FORENSICS_POLICY_PACKS='[]'`` (or a list without
        it) still deploys under it; what is configured is added after it."""
        self.policy_packs = with_forensics_pack(self.policy_packs)
        return self

    @property
    def accounts(self) -> dict[str, ForensicAccount]:
        """The configured map (by default aws_region alone, in aws_account_id). Locally every account is
        deployed to through a role (the seed makes it), so the stacks' policies name that role and never the
        account root whose credentials the local AWS hands out."""
        configured = dict(self.forensic_accounts) or {
            self.aws_region: ForensicAccount(account_id=self.aws_account_id)
        }
        if self.target != "local":
            return configured
        return {
            region: account
            if account.deploy_role_arn
            else account.model_copy(
                update={
                    "deploy_role_arn": f"arn:aws:iam::{account.account_id}:role/{LOCAL_DEPLOY_ROLE}",
                    # The seed's deploy role, like the bootstrap's, creates no role without this boundary.
                    "permissions_boundary_arn": account.permissions_boundary_arn
                    or f"arn:aws:iam::{account.account_id}:policy/{LOCAL_BOUNDARY_POLICY}",
                }
            )
            for region, account in configured.items()
        }

    def external_id_for(self, role_arn: str) -> str | None:
        """The external id the trust of a configured role (a deploy role or an evidence role) requires."""
        for account in self.accounts.values():
            if account.deploy_role_arn == role_arn and account.external_id:
                return account.external_id
        for source in self.sources.values():
            if source.snapshot_role_arn == role_arn and source.external_id:
                return source.external_id
        return None

    @property
    def sources(self) -> dict[str, SourceAccount]:
        """The configured source accounts; locally (when none are configured) the seeded sample account."""
        if self.source_accounts or self.target != "local":
            return dict(self.source_accounts)
        role = f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/{LOCAL_SNAPSHOT_ROLE}"
        return {LOCAL_SOURCE_ACCOUNT: SourceAccount(snapshot_role_arn=role)}

    @property
    def memory_tool(self) -> tuple[Path, str] | None:
        """The capture tool to stage and the SHA-256 it is pinned to; None unless both are configured."""
        if self.memory_tool_path is not None and self.memory_tool_sha256 is not None:
            return self.memory_tool_path, self.memory_tool_sha256
        return None

    @property
    def anchor_bucket(self) -> str | None:
        if self.audit_anchor_bucket or self.target != "local":
            return self.audit_anchor_bucket
        return f"forensics-audit-anchors-{self.aws_account_id}"

    def account_for(self, region: str) -> ForensicAccount | None:
        return self.accounts.get(region)

    @property
    def service_principals(self) -> list[str]:
        return list(self.service_principal_arns)

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def backend_url(self) -> str:
        """The Pulumi state backend. The default folder is opened with ``metadata=skip``: the file bucket the
        CLI writes through otherwise keeps a ``.attrs`` file beside every object (content type and an MD5 of
        it) that Pulumi never reads, written and renamed into place, with one more hash of the checkpoint,
        on each of the CLI's saves (one per resource step) and each ``.bak`` copy. The checkpoint itself is
        written the same way with or without them (to a temporary file, then renamed over the old one)."""
        return self.pulumi_backend_url or f"file://{self.state_dir}?metadata=skip"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / SQLITE_FILE}"


def tls_verify(settings: Settings) -> bool | str:
    """boto3's ``verify`` for the service's AWS calls: the CA bundle's path, or whether to check at all."""
    if settings.aws_verify_tls and settings.aws_ca_bundle is not None:
        return str(settings.aws_ca_bundle)
    return settings.aws_verify_tls


def with_forensics_pack(packs: list[Path]) -> list[Path]:
    """``packs`` with the mandatory forensics pack first, each pack once."""
    mandatory = FORENSICS_POLICY_PACK.resolve()
    extra = [p for p in packs if Path(p).resolve() != mandatory]
    return [FORENSICS_POLICY_PACK, *dict.fromkeys(Path(p) for p in extra)]


def production_problems(settings: Settings) -> list[str]:
    """What makes these settings unsafe against real AWS; the app refuses to start with any of them."""
    if settings.target != "aws":
        return []
    problems = []
    if not settings.service_principal_arns:
        problems.append(
            "FORENSICS_SERVICE_PRINCIPAL_ARNS is empty: the evidence bucket's policy would deny the service "
            "itself, and every freeze would fail to place its legal hold"
        )
    if not settings.forensic_accounts:
        problems.append(
            "FORENSICS_FORENSIC_ACCOUNTS is empty: map each allowed region to its forensic account and "
            'deploy role, e.g. {"eu-west-1": {"account_id": "...", "deploy_role_arn": "arn:aws:iam::..."}}'
        )
    if not settings.audit_anchor_bucket:
        problems.append(
            "FORENSICS_AUDIT_ANCHOR_BUCKET is empty: without signed anchors outside the database, a "
            "rewritten or truncated audit log cannot be detected"
        )
    problems.extend(queue_problems(settings))
    if settings.pulumi_passphrase.get_secret_value() == LOCAL_PASSPHRASE:
        problems.append(
            "FORENSICS_PULUMI_PASSPHRASE is the built-in local passphrase: anyone with the state could read "
            "the stacks' secrets"
        )
    return problems


# Shorter secrets are guessable offline from one signed payload read off the queue.
MIN_JOBS_SECRET_CHARS = 32


def queue_problems(settings: Settings) -> list[str]:
    """What lets someone who reaches the job queue run code on the workers (target=aws)."""
    if settings.target != "aws":
        return []
    problems = []
    secret = settings.jobs_signing_secret
    if secret is None or len(secret.get_secret_value()) < MIN_JOBS_SECRET_CHARS:
        problems.append(
            f"FORENSICS_JOBS_SIGNING_SECRET is unset or shorter than {MIN_JOBS_SECRET_CHARS} characters: "
            "the workers unpickle queue payloads: unsigned, whoever can write to the queue runs code on them"
        )
    url = settings.jobs_url or ""
    if url.startswith(("redis://", "rediss://")) and not urlsplit(url).password:
        problems.append(
            "FORENSICS_JOBS_URL names a Redis without a password: use rediss://USER:PASSWORD@host:6379/0 "
            "(an ACL user, TLS) so only the service can read or write the queue"
        )
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
