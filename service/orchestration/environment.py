"""Everything the Pulumi engine sees from its environment. Nothing else in the project sets Pulumi variables.

The engine runs fully offline: a DIY (file://) state backend under the data folder, its own PULUMI_HOME, a
passphrase secrets provider, no update check and no automatic plugin downloads. Plugins come from PATH:
the policy shim always, the stand-in ``aws`` provider only in local mode (production uses the real one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from service.config import PROJECT_ROOT, Settings
from service.orchestration.models import ConfigValue

POLICY_SHIM_DIR = PROJECT_ROOT / "tools" / "policy_shim"
STANDIN_PROVIDER_DIR = PROJECT_ROOT / "tools" / "bin"

# Services the forensic program touches; each gets the local endpoint in local mode.
_LOCAL_ENDPOINT_SERVICES = ("ec2", "s3", "iam", "kms", "sts", "ssm", "sns", "cloudwatchlogs")


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
