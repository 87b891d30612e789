"""Everything the Pulumi engine sees from its environment. Nothing else in the project sets Pulumi variables.

The engine runs fully offline: a DIY (file://) state backend under the data folder, its own PULUMI_HOME, a
passphrase secrets provider, no update check and no automatic plugin downloads. Plugins come from PATH:
the policy shim always, the stand-in ``aws`` provider only in local mode (production uses the real one).

The engine child (``python -m service.orchestration.engine_child``) gets an explicit, minimal environment
(``engine_process_env``), never the service's own: the CLI hands its environment to every plugin it starts
(provider, policy analyzer), and the service's environment holds its secrets (ticketing token, signing
secrets, admin token...). What the child needs besides variables travels on its stdin (``engine_workspace``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policy_packs.forensics.rules.ami import ENV_AMI_OWNERS, ENV_MAX_AMI_AGE_DAYS
from policy_packs.forensics.rules.aws_access import (
    ENV_ACCOUNT_ID,
    ENV_ASSUME_ROLES,
    ENV_ENDPOINT_URL,
    ENV_REGION,
    ENV_VERIFY_TLS,
)
from policy_packs.forensics.rules.instance_types import ENV_INSTANCE_TYPES
from service.config import PROJECT_ROOT, Settings
from service.errors import Misconfigured
from service.orchestration import workspace_folders
from service.orchestration.messages import ConfigValue, EngineWorkspace

POLICY_SHIM_DIR = PROJECT_ROOT / "tools" / "policy_shim"
STANDIN_PROVIDER_DIR = PROJECT_ROOT / "tools" / "bin"
ENGINE_CHILD_MODULE = "service.orchestration.engine_child"
# Local mode with an engine zygote: the launcher (standard library only, run by path, never imported) that has
# the zygote fork the engine child, and the variable that names the zygote's socket to it alone.
ZYGOTE_LAUNCHER = PROJECT_ROOT / "tools" / "zygote" / "launcher.py"
ENGINE_ZYGOTE_VARIABLE = "FORENSICS_ENGINE_ZYGOTE"

# Services the programs touch (the forensic program, and the day-zero ones: Organizations); each gets the
# local endpoint in local mode.
LOCAL_ENDPOINT_SERVICES = (
    "ec2",
    "s3",
    "iam",
    "kms",
    "sts",
    "ssm",
    "sns",
    "cloudwatchlogs",
    "route53resolver",
    "organizations",
    # The day-zero programs' (service/bootstrap).
    "cloudtrail",
    "configservice",
    "events",
    # The log-in alert queue (programs/forensic_account alerts).
    "sqs",
)


# Process basics copied from the service's environment when set: the home folder, locale, time zone and temp
# folder. None of them is a setting, so none holds a secret of the service.
PROCESS_BASICS: tuple[str, ...] = (
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
)
# The ambient AWS identity and network path, copied when the engine talks to real AWS (the real provider
# reads them like every AWS SDK, and so does the CLI for an S3 state backend). In local mode none of these is
# passed: the stand-in gets the local AWS's credentials from provider config, and an S3 state backend is a
# bucket of the local AWS, reached with the settings' keys (``pulumi_env``); the host's own AWS session (a
# profile, a session token) would make the CLI fail on an unknown profile or sign as someone else.
AMBIENT_AWS_ACCESS: tuple[str, ...] = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
)
# The settings the policy pack reads from its environment, by the variable it reads them from: the pack runs
# in the analyzer process the CLI starts, which sees nothing of the service but this environment.
POLICY_PACK_SETTINGS: dict[str, str] = {ENV_MAX_AMI_AGE_DAYS: "max_ami_age_days"}
# Settings the pack reads as JSON lists (instance-type-allowed).
POLICY_PACK_LIST_SETTINGS: dict[str, str] = {ENV_INSTANCE_TYPES: "allowed_instance_types"}
# What the pack needs to ask AWS itself (golden-ami-fresh describes the images), per operation
# (``policy_pack_aws_env``).
POLICY_ENV_PREFIX = "FORENSICS_POLICY_"
POLICY_PACK_AWS_VARIABLES: tuple[str, ...] = (
    ENV_REGION,
    ENV_ACCOUNT_ID,
    ENV_ASSUME_ROLES,
    ENV_ENDPOINT_URL,
    ENV_VERIFY_TLS,
    ENV_AMI_OWNERS,
)


# The Go garbage collector's target for the CLI in local mode (``pulumi_env``).
LOCAL_CLI_GOGC = "200"


def pulumi_home(settings: Settings) -> Path:
    return settings.data_dir / "pulumi-home"


# Where the CLI would write its own debug log of every run (one file per command under PULUMI_HOME/logs,
# kept for `pulumi logs share`). A plain file in its place keeps the CLI from writing them
# (``prepare_directories``).
CLI_LOGS_NAME = "logs"
CLI_LOGS_NOTE = (
    "A file, not a folder, on purpose: the Pulumi CLI cannot make its logs folder here and so writes\n"
    "no debug log of its runs (service/orchestration/engine_environment.py prepare_directories).\n"
)


def prepare_directories(settings: Settings) -> None:
    """The DIY backend refuses a state folder that does not exist yet.

    PULUMI_HOME gets a plain file where the CLI keeps its per-run debug logs. The CLI writes such a log of
    every run at debug level, with no setting to turn it off; when it cannot make the folder it runs on
    without one. Nothing of the service reads those logs (each operation's own log and events are kept by
    the service), the ones written before the stack's secrets are known are only gzipped, not encrypted,
    and they hold property values unredacted; and formatting them is about a tenth of the CLI's CPU in an
    `up` (every property (un)marshalling logs a line). Engine output asked for with -v/--logtostderr is
    unaffected.

    Workspace folders left under the home by killed processes are removed (``workspace_folders``).
    """
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    home = pulumi_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    logs = home / CLI_LOGS_NAME
    if not logs.exists() and not logs.is_symlink():
        logs.write_text(CLI_LOGS_NOTE)
    workspace_folders.remove_left_over(home)


def plugin_path(settings: Settings) -> list[Path]:
    dirs = [settings.pulumi_cli_dir, POLICY_SHIM_DIR]
    if settings.target == "local":
        dirs.append(STANDIN_PROVIDER_DIR)
    return dirs


def pulumi_env(settings: Settings) -> dict[str, str]:
    """Variables for the Pulumi CLI and every plugin it starts."""
    path = os.pathsep.join([*(str(d) for d in plugin_path(settings)), os.environ.get("PATH", "")])
    env = {
        "PATH": path,
        "PULUMI_HOME": str(pulumi_home(settings)),
        "PULUMI_BACKEND_URL": settings.backend_url,
        "PULUMI_CONFIG_PASSPHRASE": settings.pulumi_passphrase.get_secret_value(),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # The DIY backend otherwise copies the whole previous checkpoint aside on every save (a save per
        # resource step): a tenth of the CLI's CPU in an `up`, for history files nothing reads.
        "PULUMI_DISABLE_CHECKPOINT_BACKUPS": "true",
        # The shim and the stand-in run on the service's own interpreter.
        "FORENSICS_PYTHON": sys.executable,
    }
    if settings.target == "local":
        # The Go runtime of the CLI collects garbage when its heap has grown by GOGC percent (100 by default):
        # at 200 it collects half as often, ~8% less CLI CPU for a larger peak (an `up` of the forensic
        # environment: ~166 MB against ~140 MB; 400 saved ~11% but peaked at ~225 MB). Local mode runs many
        # short-lived CLIs side by side on a developer's or CI machine, where CPU is what bounds a run;
        # production keeps the runtime's default.
        env["GOGC"] = LOCAL_CLI_GOGC
    if settings.target == "local" and settings.standin_zygote is not None:
        # The stand-in's launcher asks this zygote for its provider process (tools.aws_standin.launcher).
        env["FORENSICS_STANDIN_ZYGOTE"] = str(settings.standin_zygote)
    if settings.target == "local" and settings.analyzer_zygote is not None:
        # The policy shim's launcher asks this zygote for its analyzer process (tools.policy_shim.analyzer).
        env["FORENSICS_ANALYZER_ZYGOTE"] = str(settings.analyzer_zygote)
    if settings.target == "local" and settings.backend_url.startswith("s3://"):
        # Locally an S3 state backend is a bucket of the local AWS: the CLI signs with its credentials.
        env["AWS_ACCESS_KEY_ID"] = settings.aws_access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = settings.aws_secret_access_key.get_secret_value()
        env["AWS_REGION"] = settings.aws_region
    return env


def policy_env(values: Mapping[str, str]) -> dict[str, str]:
    """An operation's own policy-pack variables (``OperationRequest.policy_env``); only FORENSICS_POLICY_*
    names pass, so a request cannot reach anything else in the engine child's environment."""
    return {k: v for k, v in values.items() if k.startswith(POLICY_ENV_PREFIX)}


def _config_value(value: ConfigValue | None) -> Any:
    raw = value.value if value is not None else None
    if isinstance(raw, str) and raw[:1] in ("[", "{"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def policy_pack_aws_env(
    settings: Settings, stack_provider_config: Mapping[str, ConfigValue] | None = None
) -> dict[str, str]:
    """Where and as whom the policy pack asks AWS: the stack's region and the roles its provider assumes
    (the operation's ``aws:region`` / ``aws:assumeRoles``, else the settings' region with the service's own
    credentials, as ``build_request`` gives the provider), the account those end in, the local endpoint, and
    the allowed golden AMI owners.

    All of it is decided here, by the service, before the engine child (and so the program) starts; the
    analyzer inherits it through the CLI, and the program's tags, outputs and config play no part. Keys stay
    out: locally the pack reads the provider's own from the stack config (they only open the role chain; the
    account it ends in is checked against ENV_ACCOUNT_ID), for real AWS the ambient credentials are here."""
    config = stack_provider_config or {}
    region = str(_config_value(config.get("aws:region")) or settings.aws_region)
    roles = _config_value(config.get("aws:assumeRoles"))
    roles = [roles] if isinstance(roles, dict) else [r for r in roles or [] if isinstance(r, dict)]
    env = {
        ENV_REGION: region,
        ENV_VERIFY_TLS: "true" if settings.aws_verify_tls else "false",
        ENV_AMI_OWNERS: json.dumps(list(settings.golden_ami_owner_accounts)),
    }
    if roles:
        env[ENV_ASSUME_ROLES] = json.dumps(roles)
        # The last role is the one the provider acts as (arn:aws:iam::<account>:role/...).
        arn_parts = str(roles[-1].get("roleArn") or "").split(":")
        account: str | None = arn_parts[4] if len(arn_parts) > 5 else None
    else:
        forensic = settings.account_for(region)
        account = forensic.account_id if forensic is not None else None
    if account:
        env[ENV_ACCOUNT_ID] = account
    if settings.target == "local" and settings.aws_endpoint_url:
        env[ENV_ENDPOINT_URL] = settings.aws_endpoint_url
    return env


def engine_process_env(
    settings: Settings, stack_provider_config: Mapping[str, ConfigValue] | None = None
) -> dict[str, str]:
    """The whole environment of the engine child; it inherits nothing else from the service.

    Pulumi's variables (``pulumi_env``), the process basics, PYTHONPATH for the runner and the plugins, the
    policy pack's settings and AWS access for the operation's stack (``policy_pack_aws_env``) and, for real
    AWS, the ambient AWS access. Of the service's secrets only the Pulumi passphrase is here (and, locally
    with an S3 state backend, the settings' keys of the local AWS): the CLI needs it to read and write the
    stack's secrets.
    """
    copied = PROCESS_BASICS + (AMBIENT_AWS_ACCESS if settings.target == "aws" else ())
    env = {name: os.environ[name] for name in copied if name in os.environ}
    pythonpath = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, pythonpath))
    env.update({variable: str(getattr(settings, name)) for variable, name in POLICY_PACK_SETTINGS.items()})
    listed = POLICY_PACK_LIST_SETTINGS.items()
    env.update({variable: json.dumps(list(getattr(settings, name))) for variable, name in listed})
    env.update(policy_pack_aws_env(settings, stack_provider_config))
    env.update(pulumi_env(settings))
    if settings.aws_verify_tls and settings.aws_ca_bundle is not None:
        # Read by every AWS SDK the engine's processes use: the provider, the pack, the stand-in.
        env["AWS_CA_BUNDLE"] = str(settings.aws_ca_bundle)
    return env


@dataclass(frozen=True)
class EngineChildStart:
    """How the service starts an engine child: the command, and what the starter's environment holds besides
    the child's (``engine_process_env``) for the launcher alone, which drops it before the child starts."""

    command: list[str]
    launcher_env: dict[str, str] = field(default_factory=dict)

    @property
    def through_zygote(self) -> bool:
        return bool(self.launcher_env)


def engine_child_start(settings: Settings) -> EngineChildStart:
    """Afresh (``python -u -m service.orchestration.engine_child``), or locally with an engine zygote
    (``engine_zygote``, tools.engine_zygote) the zygote's launcher in the child's place: the child is forked
    from the zygote with the launcher's streams, environment, working folder and niceness, in the launcher's
    process group. A zygote gone, not answering, or of another session: the launcher becomes the child,
    started afresh."""
    if settings.target != "local" or settings.engine_zygote is None:
        return EngineChildStart([sys.executable, "-u", "-m", ENGINE_CHILD_MODULE])
    launcher = [sys.executable, "-I", "-S", str(ZYGOTE_LAUNCHER), ENGINE_ZYGOTE_VARIABLE, ENGINE_CHILD_MODULE]
    return EngineChildStart(launcher, {ENGINE_ZYGOTE_VARIABLE: str(settings.engine_zygote)})


def engine_workspace(settings: Settings) -> EngineWorkspace:
    """Where the engine child finds the CLI, its home and the state; sent on its stdin with the request."""
    return EngineWorkspace(
        pulumi_home=str(pulumi_home(settings)),
        backend_url=settings.backend_url,
        pulumi_cli_dir=str(settings.pulumi_cli_dir),
    )


def provider_config(settings: Settings) -> dict[str, ConfigValue]:
    """Stack config for the default ``aws`` provider (same keys the real pulumi-aws reads)."""
    config: dict[str, ConfigValue] = {"aws:region": ConfigValue(settings.aws_region)}
    if settings.target == "local":
        if not settings.aws_endpoint_url:
            raise Misconfigured("local mode needs FORENSICS_AWS_ENDPOINT_URL (the local AWS endpoint)")
        endpoint = settings.aws_endpoint_url
        config.update(
            {
                "aws:accessKey": ConfigValue(settings.aws_access_key_id),
                "aws:secretKey": ConfigValue(settings.aws_secret_access_key.get_secret_value(), secret=True),
                "aws:skipCredentialsValidation": ConfigValue(True),
                "aws:skipRequestingAccountId": ConfigValue(True),
                "aws:skipMetadataApiCheck": ConfigValue(True),
                "aws:s3UsePathStyle": ConfigValue(True),
                "aws:insecure": ConfigValue(not settings.aws_verify_tls),
                "aws:endpoints": ConfigValue([dict.fromkeys(LOCAL_ENDPOINT_SERVICES, endpoint)]),
            }
        )
    return config
