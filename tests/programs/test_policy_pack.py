"""The program, as declared under mocks, passes every rule of the mandatory policy pack."""

from __future__ import annotations

import pytest

from tests.policy.harness import Res, run_everything
from tests.programs.harness import SNAPSHOTS, ProgramRun, policy_resources, run_program
from tests.support.stub_ec2 import stub_ec2


@pytest.fixture(autouse=True)
def _fresh_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """golden-ami-fresh asks EC2 about the image: the policy tests' stub answers (a fresh golden AMI)."""
    stub_ec2(monkeypatch)


COPY = "aws:ebs/snapshotCopy:SnapshotCopy"


def _as_policy_resources(run: ProgramRun) -> list[Res]:
    return policy_resources(run)


@pytest.mark.parametrize("frozen", [False, True], ids=["running", "frozen"])
def test_program_passes_the_policy_pack(frozen: bool) -> None:
    run = run_program(evidenceSnapshotIds=SNAPSHOTS, frozen=frozen, tags={"team": "dfir"})
    assert run_everything(_as_policy_resources(run)) == {}


EVIDENCE = [
    {"id": "disk", "snapshotId": "snap-0aaaaaaaaaaaaaaa1", "attach": True},
    {"id": "memory", "snapshotId": "snap-0aaaaaaaaaaaaaaa2", "attach": False},
]


@pytest.mark.parametrize("frozen", [False, True], ids=["running", "frozen"])
def test_program_with_evidence_copies_passes_the_policy_pack(frozen: bool) -> None:
    run = run_program(evidenceSnapshotIds=SNAPSHOTS, evidence=EVIDENCE, frozen=frozen)
    resources = _as_policy_resources(run)
    assert len([r for r in resources if r.rtype == COPY]) == 4
    assert run_everything(resources) == {}


@pytest.mark.parametrize(
    "change",
    [{"encrypted": False}, {"kmsKeyId": None}, {"kmsKeyId": "alias/aws/ebs"}],
    ids=["unencrypted", "no-key", "aws-managed-key"],
)
def test_a_degraded_evidence_copy_is_refused(change: dict[str, object]) -> None:
    resources = _as_policy_resources(run_program(evidence=EVIDENCE))
    copy_of_memory = next(r for r in resources if r.rtype == COPY and "memory" in r.name)
    for key, value in change.items():
        if value is None:
            copy_of_memory.props.pop(key)
        else:
            copy_of_memory.props[key] = value
    found = run_everything(resources)
    assert set(found) == {"ebs-encrypted-with-cmk"}
    assert [v.message.split(" ", 2)[:2] for v in found["ebs-encrypted-with-cmk"]] == [
        [COPY, f"'{copy_of_memory.name}'"]
    ]


def test_the_check_above_can_fail() -> None:
    """Sanity check of the adapter: a public IP on the workstation is reported."""
    resources = _as_policy_resources(run_program())
    instance = next(r for r in resources if r.rtype == "aws:ec2/instance:Instance")
    instance.props["associatePublicIpAddress"] = True
    assert "no-public-ip" in run_everything(resources)
