"""Evidence is examined on copies: `evidence` / `evidenceSnapshotIds` under mocks and in validate_config.

Every artifact gets a declared SnapshotCopy (encrypted with the investigation key, kept like the evidence
bucket); only attached artifacts get a volume, made from the copy, never from the original snapshot.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from programs.forensic_env import ConfigError, validate_config
from programs.forensic_env.config import MAX_EVIDENCE_SNAPSHOTS, EvidenceArtifact
from tests.programs.harness import ACCOUNT, REGION, SNAPSHOTS, ProgramRun, run_program

COPY = "aws:ebs/snapshotCopy:SnapshotCopy"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
FREEZE = "aws:ebs/snapshot:Snapshot"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CALL = re.compile(r"^mount_evidence (\S+) (\S+)$", re.MULTILINE)

DISK = "snap-0aaaaaaaaaaaaaaa1"
MEMORY = "snap-0aaaaaaaaaaaaaaa2"
LOGS = "snap-0aaaaaaaaaaaaaaa3"
# The shorthand's snapshot first, then: attached, copied only, attached.
EVIDENCE = [
    {"id": "disk", "snapshotId": DISK, "attach": True},
    {"id": "memory", "snapshotId": MEMORY, "attach": False},
    {"id": "logs", "snapshotId": LOGS, "attach": True},
]
SOURCES = {SNAPSHOTS[0]: SNAPSHOTS[0], "disk": DISK, "memory": MEMORY, "logs": LOGS}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS[:1], evidence=EVIDENCE)


@pytest.fixture(scope="module")
def frozen() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS[:1], evidence=EVIDENCE, frozen=True)


def _copies(run: ProgramRun) -> dict[str, Any]:
    return {c.inputs["tags"]["forensics:artifact"]: c for c in run.of_type(COPY)}


def _volumes(run: ProgramRun) -> dict[str, Any]:
    return {v.inputs["tags"]["forensics:artifact"]: v for v in run.of_type(VOLUME)}


# --- the program ---


def test_every_artifact_is_copied_with_the_investigation_key(run: ProgramRun) -> None:
    copies = _copies(run)
    assert set(copies) == set(SOURCES)
    for artifact, copy in copies.items():
        inputs = copy.inputs
        assert inputs["sourceSnapshotId"] == SOURCES[artifact]
        assert inputs["sourceRegion"] == REGION
        assert inputs["encrypted"] is True and inputs["kmsKeyId"] == KEY_ARN
        assert SOURCES[artifact] in inputs["description"]
        tags = inputs["tags"]
        assert tags["forensics:artifact"] == artifact
        assert tags["forensics:source-snapshot"] == SOURCES[artifact]
        assert tags["forensics:investigation-id"] == "inv-test-01" and tags["forensics:ticket"] == "SEC-123"
        assert "forensics:index:Workstation::" in copy.parent


def test_only_attached_artifacts_get_volumes_made_from_their_copy(run: ProgramRun) -> None:
    evidence = run.outputs["evidence"]
    volumes = _volumes(run)
    assert set(volumes) == {SNAPSHOTS[0], "disk", "logs"}  # "memory" is copied, not attached
    for artifact, volume in volumes.items():
        assert volume.inputs["snapshotId"] == evidence[artifact]["copySnapshotId"]
        assert volume.inputs["snapshotId"] != SOURCES[artifact]
        assert volume.inputs["encrypted"] is True and volume.inputs["kmsKeyId"] == KEY_ARN
        assert volume.inputs["tags"]["forensics:source-snapshot"] == SOURCES[artifact]
        assert volume.inputs["tags"]["forensics:read-only"] == "true"
    # No original snapshot is used by any resource but its copy.
    for r in run.custom():
        if r.type != COPY:
            assert not set(SOURCES.values()) & {v for v in r.inputs.values() if isinstance(v, str)}, r.name


def test_device_letters_follow_config_order_among_attached(run: ProgramRun) -> None:
    volumes = _volumes(run)
    expected = {SNAPSHOTS[0]: "/dev/sdf", "disk": "/dev/sdg", "logs": "/dev/sdh"}
    assert {a: v.inputs["tags"]["forensics:device"] for a, v in volumes.items()} == expected
    attachments = {a.inputs["volumeId"]: a.inputs["deviceName"] for a in run.of_type(ATTACHMENT)}
    evidence = run.outputs["evidence"]
    assert attachments == {evidence[a]["volumeId"]: device for a, device in expected.items()}
    assert run.outputs["evidenceVolumeIds"] == [evidence[a]["volumeId"] for a in expected]


def test_boot_script_mounts_what_was_given_at_open_and_names_its_source(run: ProgramRun) -> None:
    # Evidence acquired later is attached (/dev/sdg, /dev/sdh) but not in the boot script: user data runs
    # once, and changing it would stop and start the workstation under the examiner.
    user_data = run.one("aws:ec2/instance:Instance").inputs["userData"]
    assert CALL.findall(user_data) == [("f", SNAPSHOTS[0])]
    assert (
        user_data
        == run_program(evidenceSnapshotIds=[SNAPSHOTS[0]]).one("aws:ec2/instance:Instance").inputs["userData"]
    )


def test_evidence_output(run: ProgramRun) -> None:
    evidence = run.outputs["evidence"]
    assert list(evidence) == [SNAPSHOTS[0], "disk", "memory", "logs"]
    for artifact, entry in evidence.items():
        assert set(entry) == {"sourceSnapshotId", "copySnapshotId", "volumeId", "device"}
        assert entry["sourceSnapshotId"] == SOURCES[artifact]
        assert entry["copySnapshotId"].startswith("snap-") and entry["copySnapshotId"] != SOURCES[artifact]
    assert len({e["copySnapshotId"] for e in evidence.values()}) == len(evidence)
    assert evidence["memory"]["volumeId"] is None and evidence["memory"]["device"] is None
    assert evidence["disk"]["device"] == "/dev/sdg" and evidence["disk"]["volumeId"].startswith("vol-")


def test_copies_are_retained_like_the_bucket(run: ProgramRun) -> None:
    assert all(c.retain_on_delete for c in run.of_type(COPY))
    assert not any(c.protect for c in run.of_type(COPY))
    assert not any(v.retain_on_delete for v in run.of_type(VOLUME))  # the working volumes go
    dropped = run_program(evidence=EVIDENCE, retainEvidenceBucket=False)
    assert dropped.of_type(COPY) and not any(c.retain_on_delete for c in dropped.of_type(COPY))
    assert not dropped.one("aws:s3/bucket:Bucket").retain_on_delete


def test_frozen_copies_are_protected_and_kept(frozen: ProgramRun) -> None:
    copies = frozen.of_type(COPY)
    assert len(copies) == 4 and all(c.protect and c.retain_on_delete for c in copies)
    released = run_program(evidence=EVIDENCE, frozen=True, unprotect=True)
    assert not any(c.protect for c in released.of_type(COPY))
    assert all(c.retain_on_delete for c in released.of_type(COPY))


def test_frozen_snapshots_the_attached_volumes_by_artifact(frozen: ProgramRun) -> None:
    snapshots = {s.name.rsplit("-freeze-", 1)[1]: s for s in frozen.of_type(FREEZE)}
    assert set(snapshots) == {"root", SNAPSHOTS[0], "disk", "logs"}
    evidence = frozen.outputs["evidence"]
    for artifact in (SNAPSHOTS[0], "disk", "logs"):
        assert snapshots[artifact].inputs["volumeId"] == evidence[artifact]["volumeId"]


def test_shorthand_is_an_attached_artifact_named_by_its_snapshot() -> None:
    short = run_program(evidenceSnapshotIds=SNAPSHOTS)
    long = run_program(evidence=[{"id": s, "snapshotId": s, "attach": True} for s in SNAPSHOTS])
    assert sorted((r.type, r.name) for r in short.custom()) == sorted((r.type, r.name) for r in long.custom())
    instance = "aws:ec2/instance:Instance"
    # The only difference: the boot script mounts what was given at open, not what was acquired since.
    assert CALL.findall(short.one(instance).inputs["userData"]) == [("f", SNAPSHOTS[0]), ("g", SNAPSHOTS[1])]
    assert CALL.findall(long.one(instance).inputs["userData"]) == []
    assert list(short.outputs["evidence"]) == list(long.outputs["evidence"]) == SNAPSHOTS
    # Names as before the copies existed: the volume of snapshot s is still "...-evidence-<s>".
    assert {v.name for v in short.of_type(VOLUME)} == {
        f"cleanroom-workstation-evidence-{s}" for s in SNAPSHOTS
    }


def test_copies_only_no_workstation_disks() -> None:
    run = run_program(evidence=[{"id": "memory", "snapshotId": MEMORY, "attach": False}])
    assert len(run.of_type(COPY)) == 1
    assert run.of_type(VOLUME) == [] and run.of_type(ATTACHMENT) == []
    assert CALL.findall(run.one("aws:ec2/instance:Instance").inputs["userData"]) == []
    assert run.outputs["evidenceVolumeIds"] == []
    assert run.outputs["evidence"]["memory"]["volumeId"] is None


# --- validation ---

VALID: dict[str, Any] = {"investigationId": "case-42", "ticket": "SEC-123"}


def test_engine_string_and_order() -> None:
    cfg = validate_config(
        {
            **VALID,
            "evidenceSnapshotIds": f'["{SNAPSHOTS[0]}"]',
            "evidence": json.dumps(
                [
                    {"id": "disk", "snapshotId": DISK, "attach": True},
                    {"id": "memory", "snapshotId": MEMORY, "attach": False},
                ]
            ),
        }
    )
    assert cfg.evidence == (
        EvidenceArtifact(SNAPSHOTS[0], SNAPSHOTS[0], True),
        EvidenceArtifact("disk", DISK, True),
        EvidenceArtifact("memory", MEMORY, False),
    )
    assert [a.id for a in cfg.attached_evidence] == [SNAPSHOTS[0], "disk"]
    assert cfg.evidence_snapshot_ids == (SNAPSHOTS[0],)
    assert validate_config(VALID).evidence == ()


def test_the_attach_limit_counts_attached_artifacts_only() -> None:
    attached = [f"snap-{n:017x}" for n in range(MAX_EVIDENCE_SNAPSHOTS)]
    extra = [{"id": f"copy-{n}", "snapshotId": f"snap-{n + 100:017x}", "attach": False} for n in range(20)]
    cfg = validate_config({**VALID, "evidenceSnapshotIds": attached, "evidence": extra})
    assert len(cfg.evidence) == MAX_EVIDENCE_SNAPSHOTS + 20
    assert len(cfg.attached_evidence) == MAX_EVIDENCE_SNAPSHOTS


def _entry(**fields: Any) -> dict[str, Any]:
    return {"id": "disk", "snapshotId": DISK, "attach": True, **fields}


BAD: list[tuple[dict[str, Any], str]] = [
    ({"evidence": {"id": "disk"}}, "expected a list"),
    ({"evidence": "[{"}, "not valid JSON"),
    ({"evidence": ["snap-0aaaaaaaaaaaaaaa1"]}, "entry 1 must be an object"),
    ({"evidence": [{"id": "disk", "snapshotId": DISK}]}, "entry 1 lacks attach"),
    ({"evidence": [{"snapshotId": DISK, "attach": True}]}, "entry 1 lacks id"),
    ({"evidence": [_entry(readOnly=True)]}, "unknown field(s) readOnly"),
    ({"evidence": [_entry(id="Disk")]}, "must match ^[a-z0-9-]{1,40}$"),
    ({"evidence": [_entry(id="d" * 41)]}, "must match"),
    ({"evidence": [_entry(id="")]}, "must match"),
    ({"evidence": [_entry(id="root")]}, "'root' is reserved"),
    ({"evidence": [_entry(snapshotId="vol-0aaaaaaaaaaaaaaa1")]}, "is not an EBS snapshot id"),
    ({"evidence": [_entry(attach="yes")]}, "attach 'yes' is not a boolean"),
    ({"evidence": [_entry(), _entry(snapshotId=MEMORY)]}, "entry 2: id 'disk' is already an artifact id"),
    (
        {"evidence": [_entry(), _entry(id="disk-again")]},
        f"entry 2 (disk-again): snapshot {DISK} is already listed (in forensics:evidence)",
    ),
    (
        {"evidenceSnapshotIds": [DISK], "evidence": [_entry()]},
        f"snapshot {DISK} is already listed (in forensics:evidenceSnapshotIds)",
    ),
    (
        {"evidenceSnapshotIds": [DISK], "evidence": [_entry(id=DISK, snapshotId=MEMORY)]},
        "is already an artifact id (in forensics:evidenceSnapshotIds)",
    ),
    (
        {
            "evidenceSnapshotIds": [f"snap-{n:017x}" for n in range(MAX_EVIDENCE_SNAPSHOTS)],
            "evidence": [_entry()],
        },
        f"attaches {MAX_EVIDENCE_SNAPSHOTS + 1} snapshots",
    ),
]


@pytest.mark.parametrize(("change", "detail"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_invalid_evidence_names_the_setting(change: dict[str, Any], detail: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({**VALID, **change})
    assert caught.value.key == "forensics:evidence", str(caught.value)
    assert str(caught.value).startswith("forensics:evidence: ")
    assert detail in str(caught.value), str(caught.value)


def test_invalid_evidence_fails_before_anything_is_registered() -> None:
    registered: list[str] = []
    with pytest.raises(ConfigError, match=r"^forensics:evidence: "):
        run_program(registered, evidence=[_entry(attach="yes")])
    assert registered == ["pulumi:pulumi:Stack"]
