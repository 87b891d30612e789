"""One way to build a test's Settings: the service as the API tests run it, with a test's own changes.

``make_settings(tmp_path)`` is the local service with its data under ``tmp_path/data`` (its SQLite database
already migrated, tests/support/databases.py, unless ``database_url`` names another), the bootstrap admin
token, no AWS (the fake executor stands in for the engine), the project's Pulumi CLI, a job queue polled
every 0.1 s, event streams that read the database every 0.05 s, a quick shutdown and the test people.
``aws=`` points it at a running local AWS instead, acting as the service's identity the environment gives
(tests/conftest.py, ``local_aws``) or, with ``as_administrator=True``, as that local AWS's administrator (a
module's own local AWS, where no service identity was made); ``pulumi_cli=`` runs that CLI (the
``pulumi_cli`` fixture's, which may count deployments); ``overrides`` replace any of these or set anything
else. ``make_engine_settings`` is that for a test that deploys through the real engine.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from service.config import PROJECT_ROOT, SQLITE_FILE, Settings
from tests.support.api import ADMIN_TOKEN
from tests.support.databases import migrated_sqlite
from tests.support.people import TEST_PEOPLE

if TYPE_CHECKING:
    from tools.local_aws.aws import LocalAws

# What the apps of the engine tests run with: a job worker that waits at most 0.2 s for the next job, a stop
# that gives a running deployment 5 s to finish before it is handed over, and worker processes that sweep for
# a dead worker's operations every second (a SELECT or two on the database each time).
ENGINE_APP = {"jobs_poll_max_delay": 0.2, "shutdown_grace_seconds": 5.0, "recovery_sweep_seconds": 1.0}


def make_settings(
    tmp_path: Path,
    *,
    aws: LocalAws | None = None,
    as_administrator: bool = False,
    pulumi_cli: Path | None = None,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "target": "local",
        "data_dir": tmp_path / "data",
        "bootstrap_admin_token": SecretStr(ADMIN_TOKEN),
        "aws_endpoint_url": None,
        "pulumi_cli_dir": pulumi_cli.parent if pulumi_cli else PROJECT_ROOT / ".tools" / "bin",
        "jobs_poll_max_delay": 0.1,
        "event_stream_poll_seconds": 0.05,
        "shutdown_grace_seconds": 2.0,
        "person_aliases": TEST_PEOPLE,
    }
    if aws is not None:
        values |= {"aws_endpoint_url": aws.endpoint_url, "aws_verify_tls": False}
    if as_administrator:
        if aws is None:
            raise TypeError("as_administrator needs the local AWS whose administrator the settings act as")
        values |= {
            "aws_access_key_id": aws.access_key_id,
            "aws_secret_access_key": SecretStr(aws.secret_access_key),
        }
    values |= overrides
    if not values.get("database_url"):
        # Where the service keeps SQLite by default, already migrated (tests/support/databases.py).
        values["database_url"] = migrated_sqlite(Path(values["data_dir"]) / SQLITE_FILE)
    if values.get("aws_endpoint_url") and "audit_anchor_bucket" not in values:
        # A test's own anchor bucket: the local AWS is shared by every test of a worker, and the default one
        # (one per account) would hold another test's anchors, ahead of this test's fresh audit log.
        values["audit_anchor_bucket"] = f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}"
    return Settings(**values)


def make_engine_settings(tmp_path: Path, aws: LocalAws, pulumi_cli: Path, **overrides: Any) -> Settings:
    """Settings for a test (or a module) that deploys through the real engine into ``aws``, with its own
    state backend and data folder under ``tmp_path``: ``make_settings`` with the engine apps' waits
    (``as_administrator`` and any setting as there)."""
    return make_settings(tmp_path, aws=aws, pulumi_cli=pulumi_cli, **(ENGINE_APP | overrides))
