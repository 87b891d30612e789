"""The one place the service's settings come from (environment variables prefixed ``FORENSICS_``).

``target=local`` is the embedded default: SQLite, a file:// Pulumi backend under ``data_dir``, moto on
127.0.0.1 and the stand-in ``aws`` provider plugin on PATH. ``target=aws`` uses real endpoints and the real
provider plugin; nothing local is started and the stand-in is never on PATH.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The Pulumi project name (Pulumi.yaml); stack config keys live under this namespace.
PULUMI_PROJECT = "forensics"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORENSICS_", env_file=".env", extra="ignore")

    target: Literal["local", "aws"] = "local"
    data_dir: Path = PROJECT_ROOT / ".data"

    # AWS: in local mode the endpoint is moto's (filled in when the local server starts).
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    aws_access_key_id: str = "testing"
    aws_secret_access_key: SecretStr = SecretStr("testing")
    aws_account_id: str = "123456789012"

    # Pulumi
    pulumi_backend_url: str | None = None  # default: file://<data_dir>/state
    pulumi_passphrase: SecretStr = SecretStr("local-clean-room-passphrase")
    pulumi_cli_dir: Path = PROJECT_ROOT / ".tools" / "bin"
    policy_packs: list[Path] = Field(default_factory=lambda: [PROJECT_ROOT / "policy_packs" / "forensics"])

    # Persistence and jobs
    database_url: str | None = None  # default: sqlite:///<data_dir>/service.db
    max_parallel_operations: int = 4
    operation_timeout_seconds: int = 3600

    # Auth
    bootstrap_admin_token: SecretStr | None = None

    # Forensic defaults
    default_ttl_hours: int = 72
    golden_ami_ssm_parameter: str = "/forensics/golden-ami/latest"
    max_ami_age_days: int = 30

    # Service (added by the service layer)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Huey storage: None = SqliteHuey at <data_dir>/jobs.db; "redis://..." = RedisHuey (needs the redis package).
    jobs_url: str | None = None
    # Run the Huey consumer inside the API process; turn off when a separate `huey_consumer` runs the jobs.
    embedded_consumer: bool = True
    # Longest idle wait between queue polls of a worker thread.
    jobs_poll_max_delay: float = 2.0
    # A concurrent update (stack locked elsewhere) is re-queued this many times, this far apart.
    concurrent_update_retries: int = 5
    concurrent_update_retry_seconds: float = 15.0
    # Running operations write a heartbeat; one silent for longer is treated as orphaned by recovery.
    operation_heartbeat_seconds: float = 5.0
    operation_stale_seconds: float = 120.0
    # On shutdown, how long running jobs get before the process leaves them to start-up recovery.
    shutdown_grace_seconds: float = 10.0
    max_body_bytes: int = 1_048_576
    run_migrations_on_startup: bool = True

    @property
    def state_dir(self) -> Path:
        return self.data_dir / "state"

    @property
    def backend_url(self) -> str:
        return self.pulumi_backend_url or f"file://{self.state_dir}"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'service.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
