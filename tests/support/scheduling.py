"""The order tests are handed to the xdist workers in: the longest first.

pytest-xdist gives each worker the next test (or `xdist_group`) in collection order as it frees up, so a
long engine module collected late can run alone on one worker while the other sits idle at the end. Handing
out the known-long engine modules first, then the other engine tests, then everything else (seconds each),
lets the short tests fill the gaps and both workers finish together. The order inside a module is kept: its
module-scoped deployments are made once, and modules that share one room run their tests in file order.
"""

from __future__ import annotations

import pytest

# The engine modules that take longest, longest first: CI's durations summed per module (README, "Tests").
# A module missing here still runs early among the engine tests; this list only orders the longest.
LONGEST_MODULES = (
    "tests/custody/test_acquisition_engine.py",
    "tests/investigations/test_lifecycle_engine.py",
    "tests/jobs/test_scale_out_engine.py",
    "tests/custody/test_custody_engine.py",
    # One xdist group, the custody room (tests/support/custody_room.py): its modules together, their tests
    # then put in the room's stage order (tests/custody/conftest.py).
    "tests/custody/test_evidence_at_open_engine.py",
    "tests/custody/test_containment_engine.py",
    "tests/custody/test_memory_capture_engine.py",
    "tests/custody/test_logs_engine.py",
    "tests/custody/test_uploads_engine.py",
    "tests/bootstrap/test_local_day_zero_engine.py",
    "tests/jobs/test_recovery_engine.py",
    "tests/investigations/test_legal_hold_guards_engine.py",
    "tests/console/test_console_browser_engine.py",
    "tests/integrations/test_protected_destroy_engine.py",
    "tests/program_deploy/test_grants_enforced.py",
    "tests/program_deploy/test_sealed_stack.py",
    "tests/orchestration/test_forensic_accounts_engine.py",
    "tests/program_deploy/test_roles_enforced.py",
)


# The other modules with a test of many seconds (one test, or an xdist group, that no second worker can
# share), costliest first: the CPU of that test or group under `make check` (`--test-costs`, the group's
# module-scoped local AWS included). They go first among the tests without the engine, so that neither
# worker ends the run alone on one of them.
LONGEST_OTHER_MODULES = (
    "tests/api/test_schema_fuzz.py",
    "tests/custody/test_disk_image.py",
    "tests/local_aws/test_iam_resources.py",
    "tests/policy/test_golden_ami_access.py",
    "tests/unit/test_containment_role_enforced.py",
    "tests/standin/test_compute.py",
    "tests/local_aws/test_organization_accounts.py",
    "tests/unit/test_local_signatures.py",
    "tests/jobs/test_consumer_process.py",
    "tests/unit/test_wheel.py",
    "tests/unit/test_worker_import.py",
    "tests/custody/test_report.py",
)


def longest_first(items: list[pytest.Item]) -> None:
    """Reorders `items` in place: the modules of LONGEST_MODULES in its order, the other engine tests, the
    modules of LONGEST_OTHER_MODULES in its order, the rest, each in the order collected (a stable sort keyed
    on the module alone keeps a module's tests together and in file order)."""
    rank = {module: place for place, module in enumerate(LONGEST_MODULES)}
    other_rank = {module: place for place, module in enumerate(LONGEST_OTHER_MODULES)}
    engine_modules = {_module(item) for item in items if item.get_closest_marker("engine") is not None}

    def key(item: pytest.Item) -> int:
        module = _module(item)
        if module in rank:
            return rank[module]
        if module in engine_modules:
            return len(rank)
        if module in other_rank:
            return len(rank) + 1 + other_rank[module]
        return len(rank) + 1 + len(other_rank)

    items.sort(key=key)


def _module(item: pytest.Item) -> str:
    """The test's file as its node id names it: relative to the project's root, with forward slashes."""
    return item.nodeid.split("::", 1)[0]
