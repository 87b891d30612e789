"""The program, as declared under mocks, passes every rule of the mandatory policy pack."""

from __future__ import annotations

import copy

import pytest

from tests.policy.harness import Res, run_everything
from tests.programs.harness import SNAPSHOTS, ProgramRun, run_program


def _as_policy_resources(run: ProgramRun) -> list[Res]:
    return [Res(r.type, r.name, copy.deepcopy(r.inputs)) for r in run.custom()]


@pytest.mark.parametrize("frozen", [False, True], ids=["running", "frozen"])
def test_program_passes_the_policy_pack(frozen: bool) -> None:
    run = run_program(evidenceSnapshotIds=SNAPSHOTS, frozen=frozen, tags={"team": "dfir"})
    assert run_everything(_as_policy_resources(run)) == {}


def test_the_check_above_can_fail() -> None:
    """Sanity check of the adapter: a public IP on the workstation is reported."""
    resources = _as_policy_resources(run_program())
    instance = next(r for r in resources if r.rtype == "aws:ec2/instance:Instance")
    instance.props["associatePublicIpAddress"] = True
    assert "no-public-ip" in run_everything(resources)
