"""Shared fixtures: the local AWS (moto server), Settings for tests that deploy through the real engine, and
real PostgreSQL and Redis servers (started once per session, only when a test asks for them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from service.config import LOCAL_SOURCE_ACCOUNT, PROJECT_ROOT, Settings
from tests.support import zygotes
from tests.support.early_servers import SERVERS, start_needed, suite_local_aws
from tests.support.engine_runs import EngineRunCounter, wrapper_cli
from tests.support.final_collections import settle_before_pytests_own_collections
from tests.support.local_day_zero import DayZero, deploy_day_zero
from tests.support.postgres_clusters import migrated_postgres_server
from tests.support.scheduling import longest_first
from tests.support.settings import make_engine_settings
from tests.support.stores import store_overrides
from tests.support.targets import TARGET
from tests.support.test_costs import TestCostMeter
from tools import garbage
from tools.aws_standin.zygote import StandinZygote
from tools.engine_zygote import EngineZygote
from tools.local_aws import memory_tool, service_user
from tools.local_aws.aws import LocalAws
from tools.local_aws.service_user import ServiceUser
from tools.local_servers import PostgresServer, RedisServer
from tools.policy_shim.analyzer import AnalyzerZygote

# Before the tests' modules are imported: collection allocates as much as the tests (tools/garbage.py).
garbage.tune()

# The app, client and engine-client fixtures every suite of the service's packages uses.
pytest_plugins = ["tests.support.service_fixtures"]

# The two deployments the service and API suites run on: the embedded default (SQLite, SqliteHuey) and the
# scale-out one (PostgreSQL, Huey on Redis).
STORES = ("sqlite", "postgresql+redis")

# The service stages the memory capture tool it is configured with. Against the local AWS the suite, like
# `make run`, configures the local AWS's stand-in for AVML, in the environment, so that every Settings a test
# builds and every process it starts (nodes, engine children) reads it.
if TARGET == "local":
    os.environ.update(memory_tool.configure(os.environ))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine-runs",
        action="store_true",
        help="count each test's deployments (pulumi up and destroy) and list them at the end",
    )
    parser.addoption(
        "--test-costs",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="measure each test's CPU and wall time, list the costliest and the longest waits at the end "
        "(and write them all to FILE as JSON)",
    )


@pytest.hookimpl(trylast=True)  # after pytest's own plugins added their cleanups: ours runs before theirs
def pytest_configure(config: pytest.Config) -> None:
    config.add_cleanup(lambda: settle_before_pytests_own_collections(config))
    if config.getoption("--engine-runs"):
        config.pluginmanager.register(
            EngineRunCounter(Path(tempfile.mkdtemp(prefix="engine-runs-"))), "engine-runs"
        )
    costs = config.getoption("--test-costs")
    if costs is not None:
        config.pluginmanager.register(TestCostMeter(Path(costs) if costs else None), "test-costs")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    longest_first(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    # What lives now (modules, the collected tests) lives to the end: full collections no longer scan it.
    garbage.freeze_survivors()
    # The session's servers start while the first tests run (tests/support/early_servers.py).
    if not session.config.option.collectonly:
        start_needed(session.items, postgres_stores=STORES[1])


def pytest_sessionfinish() -> None:
    SERVERS.stop_untaken()


# What the suite's own Settings act as against the shared local AWS: the service's own identity.
_IDENTITY_ENV = ("FORENSICS_AWS_ACCESS_KEY_ID", "FORENSICS_AWS_SECRET_ACCESS_KEY")


@pytest.fixture(scope="session")
def enforcing_local_aws() -> Iterator[LocalAws]:
    """The worker's shared local AWS. It enforces IAM: every clean room, acquisition, freeze, release and
    destroy goes through the deploy and evidence roles ``tools.local_aws.seed`` makes from the day-zero
    programs' documents, so a permission they lack fails the test. The test process is its administrator
    (the human operator); the sample affected account (``LOCAL_SOURCE_ACCOUNT``, also the second forensic
    account) is entered through its member-account role."""
    with SERVERS.serve("local-aws", suite_local_aws) as aws:
        yield aws


@pytest.fixture(scope="session")
def suite_service_user(enforcing_local_aws: LocalAws) -> ServiceUser:
    """The service's own identity in the worker's shared local AWS, as day zero makes it: the IAM user
    ``forensics-service``, made by the operator without permissions; ``tools.local_aws.seed`` grants it
    exactly ``service_identity.service_policy`` over the roles it seeds."""
    user = service_user.ensure_user(enforcing_local_aws.client("iam"))
    enforcing_local_aws.service_credentials = (user.access_key_id, user.secret_access_key)
    return user


@pytest.fixture(scope="module")
def local_aws(enforcing_local_aws: LocalAws, suite_service_user: ServiceUser) -> Iterator[LocalAws]:
    """The module's local AWS: the worker's enforcing one (there is no module that runs on a local AWS judging
    nothing: README, "Tests").

    The service acts as itself there: the service user's keys are the base credentials of every Settings
    built meanwhile (``FORENSICS_AWS_*`` in the environment, inherited by the nodes and engine children a
    test starts), so whatever the service does as itself rather than through a seeded role is judged
    against its own policy. The operator is ``local_aws`` itself: ``local_aws.client`` (AWS-side checks,
    the sample world), ``tools.local_aws.seed`` (``operator_settings``)."""
    credentials = (suite_service_user.access_key_id, suite_service_user.secret_access_key)
    keys = dict(zip(_IDENTITY_ENV, credentials, strict=True))
    with mock.patch.dict(os.environ, keys):
        yield enforcing_local_aws


@pytest.fixture(scope="module")
def enforcing_aws() -> Iterator[LocalAws]:
    """A local AWS of the module's own that enforces IAM and judges role trust as STS does."""
    if os.environ.get("FORENSICS_TEST_TARGET", "local") == "aws":
        pytest.skip("proves the local AWS's IAM enforcement; real AWS always enforces")
    with LocalAws(enforce_iam=True, member_accounts=(LOCAL_SOURCE_ACCOUNT,)) as aws:
        yield aws


@pytest.fixture(scope="session")
def local_day_zero(tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path) -> Iterator[DayZero]:
    """`make run`'s day zero, deployed once in a local AWS of its own that enforces IAM
    (tests/support/local_day_zero.py). The modules that judge it (the bootstrap's, the day-zero programs')
    read it, and the tests that change it put back what they change; every module that uses it is marked
    ``xdist_group(DAY_ZERO_GROUP)`` so that `--dist loadgroup` runs them all on the worker that holds it."""
    if os.environ.get("FORENSICS_TEST_TARGET", "local") == "aws":
        pytest.skip("day zero in the local AWS: proves what `make run` builds")
    with LocalAws(enforce_iam=True, member_accounts=(LOCAL_SOURCE_ACCOUNT,)) as aws:
        yield deploy_day_zero(aws, tmp_path_factory.mktemp("local-day-zero"), pulumi_cli)


@pytest.fixture(scope="session")
def standin_zygote() -> Iterator[StandinZygote | None]:
    """The worker's stand-in provider zygote (tools.aws_standin.zygote): every engine pass forks its provider
    from it rather than start the stand-in afresh. Its socket is in the environment, so every Settings a test
    builds and every process it starts (nodes, engine children) reads it. Real AWS needs none."""
    if TARGET != "local":
        yield None
        return
    with zygotes.serving(StandinZygote, "standin.sock", "FORENSICS_STANDIN_ZYGOTE") as zygote:
        yield zygote


@pytest.fixture(scope="session")
def analyzer_zygote() -> Iterator[AnalyzerZygote | None]:
    """The worker's policy analyzer zygote (tools.policy_shim.analyzer): every engine pass under the policy
    packs forks its analyzer from it rather than start one afresh; its socket is in the environment, as the
    stand-in zygote's is. Real AWS needs none (production starts the analyzer afresh)."""
    if TARGET != "local":
        yield None
        return
    with zygotes.serving(AnalyzerZygote, "analyzer.sock", "FORENSICS_ANALYZER_ZYGOTE") as zygote:
        yield zygote


@pytest.fixture(scope="session")
def engine_zygote() -> Iterator[EngineZygote | None]:
    """The worker's engine child zygote (tools.engine_zygote): every stack operation a test runs, in this
    process or in a node it starts (both of the worker's session, which the zygote requires), forks its
    engine child from it rather than start one afresh; its socket is in the environment, as the other
    zygotes' are. Real AWS needs none (production starts the child afresh)."""
    if TARGET != "local":
        yield None
        return
    with zygotes.serving(EngineZygote, "engine.sock", "FORENSICS_ENGINE_ZYGOTE") as zygote:
        yield zygote


@pytest.fixture(scope="session")
def pulumi_cli(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    standin_zygote: StandinZygote | None,
    analyzer_zygote: AnalyzerZygote | None,
    engine_zygote: EngineZygote | None,
) -> Path:
    """The pinned CLI that `make test` builds; tests that deploy need it and never fake it. Under
    `--engine-runs` a wrapper that counts deployments and then runs it (tests/support/engine_runs.py). The
    operations run on it fork their engine child from the worker's engine zygote (``engine_zygote``), and
    the engine passes fork their stand-in provider and policy analyzer from the worker's zygotes
    (``standin_zygote``, ``analyzer_zygote``)."""
    cli = PROJECT_ROOT / ".tools" / "bin" / "pulumi"
    if not cli.exists():
        pytest.fail("the Pulumi CLI is missing: run the README's test command (make test), which builds it")
    counter = request.config.pluginmanager.get_plugin("engine-runs")
    if isinstance(counter, EngineRunCounter):
        return wrapper_cli(cli.resolve(), tmp_path_factory.mktemp("counted-cli"), counter.log)
    return cli


@pytest.fixture
def engine_settings(tmp_path: Path, local_aws: LocalAws, pulumi_cli: Path) -> Iterator[Settings]:
    """Settings for one test: its own state backend and data folder, the shared local AWS."""
    yield make_engine_settings(tmp_path, local_aws, pulumi_cli)
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


@pytest.fixture(scope="module")
def module_engine_settings(
    tmp_path_factory: pytest.TempPathFactory, local_aws: LocalAws, pulumi_cli: Path
) -> Iterator[Settings]:
    """Settings for a module whose tests share one deployment (mark the module with xdist_group, so that
    `--dist loadgroup` keeps its tests on the worker that holds the deployment)."""
    folder = tmp_path_factory.mktemp("module-engine")
    yield make_engine_settings(folder, local_aws, pulumi_cli)
    shutil.rmtree(folder / "data", ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with SERVERS.serve("postgres", migrated_postgres_server) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with SERVERS.serve("redis", RedisServer().start) as server:
        yield server


@pytest.fixture(params=STORES)
def stores(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """Settings overrides for where the service keeps its data and its job queue: nothing (SQLite files in
    the data folder) or a fresh PostgreSQL database, already migrated (tests/support/databases.py), and a
    Redis database on the session's servers."""
    return store_overrides(request)


@pytest.fixture(scope="module", params=STORES)
def module_stores(request: pytest.FixtureRequest) -> dict[str, str | None]:
    """``stores`` for a module-scoped app that its tests only read (none of them writes through it)."""
    return store_overrides(request)
