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

import os
import sys
from pathlib import Path

from policy_packs.forensics.rules.ami import ENV_MAX_AMI_AGE_DAYS
from service.config import PROJECT_ROOT, Settings
from service.orchestration.models import ConfigValue, EngineWorkspace

POLICY_SHIM_DIR = PROJECT_ROOT / "tools" / "policy_shim"
STANDIN_PROVIDER_DIR = PROJECT_ROOT / "tools" / "bin"

# Services the forensic program touches; each gets the local endpoint in local mode.
_LOCAL_ENDPOINT_SERVICES = ("ec2", "s3", "iam", "kms", "sts", "ssm", "sns", "cloudwatchlogs")


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
# reads them like every AWS SDK) or keeps its state in S3 (the CLI reads them). In local mode the stand-in
# gets moto's credentials from provider config instead, so none of these is passed.
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


def pulumi_home(settings: Settings) -> Path:
    return settings.data_dir / "pulumi-home"


def prepare_directories(settings: Settings) -> None:
    """The DIY backend refuses a state folder that does not exist yet."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    pulumi_home(settings).mkdir(parents=True, exist_ok=True)


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
        # The shim and the stand-in run on the service's own interpreter.
        "FORENSICS_PYTHON": sys.executable,
    }
    return env


def engine_process_env(settings: Settings) -> dict[str, str]:
    """The whole environment of the engine child; it inherits nothing else from the service.

    Pulumi's variables (``pulumi_env``), the process basics, PYTHONPATH for the runner and the plugins, the
    policy pack's settings and, for real AWS or an S3 backend, the ambient AWS access. Of the service's
    secrets only the Pulumi passphrase is here: the CLI needs it to read and write the stack's secrets.
    """
    ambient = settings.target == "aws" or settings.backend_url.startswith("s3://")
    copied = PROCESS_BASICS + (AMBIENT_AWS_ACCESS if ambient else ())
    env = {name: os.environ[name] for name in copied if name in os.environ}
    pythonpath = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, pythonpath))
    env.update({variable: str(getattr(settings, name)) for variable, name in POLICY_PACK_SETTINGS.items()})
    env.update(pulumi_env(settings))
    return env


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
            raise RuntimeError("local mode needs FORENSICS_AWS_ENDPOINT_URL (the local AWS endpoint)")
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
                "aws:endpoints": ConfigValue([dict.fromkeys(_LOCAL_ENDPOINT_SERVICES, endpoint)]),
            }
        )
    return config
