"""Evidence disk hashing through the EBS direct APIs, against the local AWS (moto with the launcher's EBS
fixes): the hash is ``sha256sum`` of the raw disk, every block is verified, snapshots shared from the
evidence account can be copied and hash the same, and bad writes are refused."""

from __future__ import annotations

import bisect
import hashlib
import io
import os
import random
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.custody import disk_image
from service.custody.disk_image import (
    BLOCK_SIZE,
    GIB,
    BlockChecksumMismatch,
    DiskImageError,
    block_checksum,
    hash_snapshot,
    write_image,
)
from tests.support.aws import client_as
from tests.support.disk_images import host_disk
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME

EVIDENCE_ACCOUNT = "210987654321"
# The evidence account's administrator (its member-account role in the suite's local AWS).
EVIDENCE_READER = f"arn:aws:iam::{EVIDENCE_ACCOUNT}:role/{MEMBER_ROLE_NAME}"
# sha256sum of 1 GiB of zeros: a blank 1 GiB volume's raw disk.
ZERO_DISK_SHA256 = "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14"
# One worker runs the whole module: two of its tests use the 1 GiB ext4 image and its hash (module fixtures),
# and `--dist loadgroup` would otherwise hand them to both workers, each making the image again.
pytestmark = pytest.mark.xdist_group(name="disk-images")
_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _tool(name: str) -> str:
    found = shutil.which(name, path=_SBIN_PATH)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def sha256sum(path: Path) -> str:
    """The real coreutils tool, so the reference is not our own hashing (~5 CPU-s a GiB: once an image)."""
    out = subprocess.run([_tool("sha256sum"), str(path)], check=True, capture_output=True, text=True).stdout
    return out.split()[0]


def file_sha256(path: Path, size: int = GIB) -> str:
    """A file's SHA-256 as if extended with zeros to ``size``: the raw disk it would be written to."""
    digest = hashlib.sha256()
    with path.open("rb") as image:
        while chunk := image.read(1 << 20):
            digest.update(chunk)
    digest.update(bytes(size - path.stat().st_size))
    return digest.hexdigest()


def _sparse_file(path: Path, size: int) -> Path:
    subprocess.run([_tool("truncate"), "-s", str(size), str(path)], check=True)
    return path


def _non_zero_blocks(path: Path) -> list[int]:
    zeros = bytes(BLOCK_SIZE)
    found: list[int] = []
    with path.open("rb") as image:
        index = 0
        while chunk := image.read(BLOCK_SIZE):
            if chunk.ljust(BLOCK_SIZE, b"\0") != zeros:
                found.append(index)
            index += 1
    return found


def _error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# The "evidence disk"'s files: what they hold does not matter, only that they are known (the memory dump's
# bytes are pseudo-random, so they do not compress, and fixed, so the kept image is made from known files).
EXT4_FILES = {
    "evidence/notes.txt": b"suspect logged in at 02:14 from 198.51.100.7\n",
    "evidence/memory.bin": random.Random(7).randbytes(3 * 1024 * 1024 + 123),
    "etc/hostname": b"web-7\n",
}


@pytest.fixture(scope="module")
def ext4_disk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 1 GiB (sparse) ext4 file system holding ``EXT4_FILES``, and ``sha256sum``'s hash of it: made and
    hashed once, then kept between runs (``tests.support.disk_images.host_disk``)."""
    return host_disk(tmp_path_factory.mktemp("ext4"), EXT4_FILES)


@pytest.fixture(scope="module")
def ext4_image(ext4_disk: tuple[Path, str]) -> Path:
    return ext4_disk[0]


@pytest.fixture(scope="module")
def ext4_sha256(ext4_disk: tuple[Path, str]) -> str:
    return ext4_disk[1]


@pytest.fixture
def ebs(local_aws: LocalAws) -> Any:
    return local_aws.client("ebs")


@pytest.fixture
def ec2(local_aws: LocalAws) -> Any:
    return local_aws.client("ec2")


def test_hash_of_an_ext4_disk_is_sha256sum_of_its_raw_image(
    ext4_image: Path, ext4_sha256: str, ebs: Any, ec2: Any
) -> None:
    snapshot_id = write_image(ebs, ext4_image, description="evidence web-7", tags={"forensics:case": "T-1"})
    described = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert (described["VolumeSize"], described["State"]) == (1, "completed")
    assert {"Key": "forensics:case", "Value": "T-1"} in described["Tags"]

    calls: list[tuple[int, int]] = []
    result = hash_snapshot(ebs, snapshot_id, progress=lambda done, total: calls.append((done, total)))

    assert result.sha256 == ext4_sha256
    assert (result.snapshot_id, result.size_bytes, result.block_size) == (snapshot_id, GIB, BLOCK_SIZE)
    written = _non_zero_blocks(ext4_image)
    listed = [b["BlockIndex"] for b in ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"]]
    assert listed == written and result.blocks_read == len(written) > 0
    assert calls[-1] == (GIB, GIB)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_last_partial_block_is_padded_and_the_volume_rounded_up(ebs: Any) -> None:
    data = os.urandom(3 * BLOCK_SIZE + 17)
    # Block 1 all zeros: sparse, never written.
    data = data[:BLOCK_SIZE] + bytes(BLOCK_SIZE) + data[2 * BLOCK_SIZE :]
    snapshot_id = write_image(ebs, io.BytesIO(data))

    assert [b["BlockIndex"] for b in ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"]] == [0, 2, 3]
    result = hash_snapshot(ebs, snapshot_id, workers=2)
    padded = hashlib.sha256(data)
    padded.update(bytes(GIB - len(data)))
    assert (result.sha256, result.blocks_read) == (padded.hexdigest(), 3)

    with pytest.raises(ValueError, match="does not fit"):
        write_image(ebs, io.BytesIO(data), volume_size_gib=0)


def test_a_rewritten_block_changes_the_hash_and_completed_snapshots_stay_sealed(
    ext4_image: Path, ext4_sha256: str, tmp_path: Path, ebs: Any
) -> None:
    original = write_image(ebs, ext4_image)
    tampered = os.urandom(BLOCK_SIZE)
    index = _non_zero_blocks(ext4_image)[-1]

    # AWS refuses writes to a completed snapshot: evidence cannot be altered in place.
    with pytest.raises(ClientError) as refused:
        ebs.put_snapshot_block(
            SnapshotId=original,
            BlockIndex=index,
            BlockData=tampered,
            DataLength=BLOCK_SIZE,
            Checksum=block_checksum(tampered),
            ChecksumAlgorithm="SHA256",
        )
    assert _error_code(refused) == "ValidationException"

    # The way to change a block: a child snapshot of the original, with one block rewritten.
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=original)["SnapshotId"]
    ebs.put_snapshot_block(
        SnapshotId=child,
        BlockIndex=index,
        BlockData=tampered,
        DataLength=BLOCK_SIZE,
        Checksum=block_checksum(tampered),
        ChecksumAlgorithm="SHA256",
    )
    ebs.complete_snapshot(SnapshotId=child, ChangedBlocksCount=1)

    changed = ebs.list_changed_blocks(FirstSnapshotId=original, SecondSnapshotId=child)["ChangedBlocks"]
    assert [c["BlockIndex"] for c in changed] == [index]
    modified = tmp_path / "modified.img"
    subprocess.run(["cp", "--sparse=always", str(ext4_image), str(modified)], check=True)
    with modified.open("r+b") as image:
        image.seek(index * BLOCK_SIZE)
        image.write(tampered)

    child_hash = hash_snapshot(ebs, child)
    assert child_hash.sha256 == file_sha256(modified) != ext4_sha256
    assert hash_snapshot(ebs, original).sha256 == ext4_sha256


class _FakeEbs:
    """An EBS endpoint that lists two blocks and answers with this data and these headers."""

    def __init__(self, answers: dict[int, dict[str, Any]]) -> None:
        self.answers = answers

    def list_snapshot_blocks(self, **_: Any) -> dict[str, Any]:
        blocks = [{"BlockIndex": i, "BlockToken": f"token-{i}"} for i in sorted(self.answers)]
        return {"Blocks": blocks, "VolumeSize": 1, "BlockSize": BLOCK_SIZE}

    def get_snapshot_block(self, *, SnapshotId: str, BlockIndex: int, BlockToken: str) -> dict[str, Any]:
        assert BlockToken == f"token-{BlockIndex}"
        answer = dict(self.answers[BlockIndex])
        answer["BlockData"] = io.BytesIO(answer["BlockData"])
        return answer


def _answer(data: bytes, **overrides: Any) -> dict[str, Any]:
    answer = {
        "BlockData": data,
        "DataLength": len(data),
        "Checksum": block_checksum(data),
        "ChecksumAlgorithm": "SHA256",
    }
    return {**answer, **overrides}


def test_a_block_that_does_not_match_its_checksum_is_caught() -> None:
    good, corrupted = os.urandom(BLOCK_SIZE), os.urandom(BLOCK_SIZE)
    claimed = block_checksum(os.urandom(BLOCK_SIZE))
    fake = _FakeEbs({0: _answer(good), 5: _answer(corrupted, Checksum=claimed)})

    with pytest.raises(BlockChecksumMismatch) as caught:
        hash_snapshot(fake, "snap-0fa1ce", workers=2)
    assert isinstance(caught.value, DiskImageError)
    assert (caught.value.snapshot_id, caught.value.block_index) == ("snap-0fa1ce", 5)
    assert (caught.value.expected, caught.value.actual) == (claimed, block_checksum(corrupted))

    short = good[:4096]
    with pytest.raises(DiskImageError, match="4096 bytes"):
        hash_snapshot(_FakeEbs({0: _answer(short)}), "snap-0fa1ce")


def test_snapshots_made_through_ec2_read_as_their_volumes(ebs: Any, ec2: Any) -> None:
    blank = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    blank_snapshot = ec2.create_snapshot(VolumeId=blank)["SnapshotId"]
    listed = ebs.list_snapshot_blocks(SnapshotId=blank_snapshot)
    assert (listed["Blocks"], listed["VolumeSize"], listed["BlockSize"]) == ([], 1, BLOCK_SIZE)
    assert ebs.list_changed_blocks(SecondSnapshotId=blank_snapshot)["ChangedBlocks"] == []
    with pytest.raises(ClientError) as no_block:
        ebs.get_snapshot_block(SnapshotId=blank_snapshot, BlockIndex=0, BlockToken="none")
    assert _error_code(no_block) == "ValidationException"
    result = hash_snapshot(ebs, blank_snapshot)
    assert (result.sha256, result.blocks_read) == (ZERO_DISK_SHA256, 0)

    # A volume made from an evidence snapshot, snapshotted again (the workstation's freeze): same disk.
    evidence = write_image(ebs, io.BytesIO(os.urandom(2 * BLOCK_SIZE)))
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=evidence)["VolumeId"]
    frozen = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    assert ebs.list_changed_blocks(FirstSnapshotId=evidence, SecondSnapshotId=frozen)["ChangedBlocks"] == []
    assert hash_snapshot(ebs, frozen).sha256 == hash_snapshot(ebs, evidence).sha256

    nowhere = "snap-0123456789abcdef0"
    for operation, request in (
        (ebs.list_snapshot_blocks, {"SnapshotId": nowhere}),
        (ebs.get_snapshot_block, {"SnapshotId": nowhere, "BlockIndex": 0, "BlockToken": "x"}),
        (ebs.list_changed_blocks, {"SecondSnapshotId": nowhere}),
    ):
        with pytest.raises(ClientError) as missing:
            operation(**request)
        assert _error_code(missing) == "ResourceNotFoundException"


def test_a_snapshot_shared_by_the_evidence_account_is_copied_encrypted_and_hashes_the_same(
    ext4_image: Path, ext4_sha256: str, local_aws: LocalAws, ebs: Any, ec2: Any
) -> None:
    ebs_a = client_as(local_aws, EVIDENCE_READER, "ebs")
    ec2_a = client_as(local_aws, EVIDENCE_READER, "ec2")
    account_b = local_aws.client("sts").get_caller_identity()["Account"]
    assert account_b != EVIDENCE_ACCOUNT
    shared = write_image(ebs_a, ext4_image, description="evidence, shared")
    unshared = write_image(ebs_a, io.BytesIO(os.urandom(BLOCK_SIZE)), description="evidence, not shared")
    ec2_a.modify_snapshot_attribute(
        SnapshotId=shared, Attribute="createVolumePermission", OperationType="add", UserIds=[account_b]
    )

    # B sees the shared snapshot by id (owned by A), never the unshared one, and lists only its own.
    (seen,) = ec2.describe_snapshots(SnapshotIds=[shared])["Snapshots"]
    assert seen["OwnerId"] == EVIDENCE_ACCOUNT
    with pytest.raises(ClientError) as hidden:
        ec2.describe_snapshots(SnapshotIds=[unshared])
    assert _error_code(hidden) == "InvalidSnapshot.NotFound"
    listed = {s["SnapshotId"] for s in ec2.describe_snapshots()["Snapshots"]}
    assert not listed & {shared, unshared}

    key_arn = local_aws.client("kms").create_key(Description="investigation key")["KeyMetadata"]["Arn"]
    copy_id = ec2.copy_snapshot(
        SourceSnapshotId=shared,
        SourceRegion=local_aws.region,
        Encrypted=True,
        KmsKeyId=key_arn,
        Description="evidence copy",
    )["SnapshotId"]
    (copy,) = ec2.describe_snapshots(SnapshotIds=[copy_id])["Snapshots"]
    assert (copy["OwnerId"], copy["Encrypted"], copy["KmsKeyId"]) == (account_b, True, key_arn)
    assert copy["VolumeSize"] == 1

    source_hash = hash_snapshot(ebs_a, shared)
    copy_hash = hash_snapshot(ebs, copy_id)
    assert copy_hash.sha256 == source_hash.sha256 == ext4_sha256
    assert copy_hash.blocks_read == source_hash.blocks_read

    with pytest.raises(ClientError) as refused:
        ec2.copy_snapshot(SourceSnapshotId=unshared, SourceRegion=local_aws.region)
    assert _error_code(refused) == "InvalidSnapshot.NotFound"
    with pytest.raises(ClientError) as needs_encryption:
        ec2.copy_snapshot(SourceSnapshotId=shared, SourceRegion=local_aws.region, KmsKeyId=key_arn)
    assert _error_code(needs_encryption) == "InvalidParameterDependency"

    # B may also make a volume straight from the shared snapshot (an unshared one stays out of reach).
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=shared)
    assert (volume["SnapshotId"], volume["Size"]) == (shared, 1)
    with pytest.raises(ClientError) as no_volume:
        ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=unshared)
    assert _error_code(no_volume) == "InvalidSnapshot.NotFound"


def test_put_snapshot_block_refuses_bad_checksums_and_short_blocks(ebs: Any) -> None:
    snapshot_id = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    data = os.urandom(BLOCK_SIZE)
    short = data[:1000]

    def put(**overrides: Any) -> Any:
        request = {
            "SnapshotId": snapshot_id,
            "BlockIndex": 3,
            "BlockData": data,
            "DataLength": BLOCK_SIZE,
            "Checksum": block_checksum(data),
            "ChecksumAlgorithm": "SHA256",
        }
        return ebs.put_snapshot_block(**{**request, **overrides})

    for bad in (
        {"Checksum": block_checksum(os.urandom(BLOCK_SIZE))},
        {"BlockData": short, "DataLength": len(short), "Checksum": block_checksum(short)},
        {"DataLength": BLOCK_SIZE - 1},
        {"BlockIndex": GIB // BLOCK_SIZE},
    ):
        with pytest.raises(ClientError) as refused:
            put(**bad)
        assert _error_code(refused) == "ValidationException", bad
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    assert put()["Checksum"] == block_checksum(data)
    assert ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=1)["Status"] == "completed"
    assert [b["BlockIndex"] for b in ebs.list_snapshot_blocks(SnapshotId=snapshot_id)["Blocks"]] == [3]


class _CountingEbs:
    """Passes calls through, counting the blocks requested but not yet hashed (``progress`` says how far the
    hash has got): the blocks the hasher holds in memory, in flight or waiting their turn.

    The hash stalls once, after its first block, until the fetches have run ``stall_until`` blocks ahead (or
    have stopped for ``stall_seconds``): an unbounded read-ahead shows itself there, however fast hashing is.
    """

    def __init__(self, ebs: Any, listed: list[int], stall_until: int, stall_seconds: float = 2.0) -> None:
        self._ebs = ebs
        self._listed = listed
        self._changed = threading.Condition()
        self._requested = 0
        self._hashed_up_to = 0  # block index the digest has reached
        self._stall: tuple[int, float] | None = (stall_until, stall_seconds)
        self.list_calls = 0
        self.in_flight = 0
        self.max_held = 0
        self.max_in_flight = 0

    def _held(self) -> int:
        return self._requested - bisect.bisect_left(self._listed, self._hashed_up_to)

    def list_snapshot_blocks(self, **request: Any) -> Any:
        self.list_calls += 1
        return self._ebs.list_snapshot_blocks(**request)

    def get_snapshot_block(self, **request: Any) -> Any:
        with self._changed:
            self._requested += 1
            self.in_flight += 1
            self.max_held = max(self.max_held, self._held())
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._changed.notify_all()
        try:
            answer = self._ebs.get_snapshot_block(**request)
            answer["BlockData"] = io.BytesIO(answer["BlockData"].read())
            return answer
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def progress(self, done: int, total: int) -> None:
        with self._changed:
            self._hashed_up_to = done // BLOCK_SIZE
            if self._stall is not None:
                until, seconds = self._stall
                self._stall = None
                self._changed.wait_for(lambda: self._held() >= until, timeout=seconds)


@pytest.fixture
def many_blocks(tmp_path: Path, ebs: Any) -> tuple[str, list[int], Path]:
    """130 written blocks (every third), so listing takes two pages of 100."""
    listed = list(range(0, 390, 3))
    image = tmp_path / "many.img"
    with image.open("wb") as out:
        for index in range(390):
            out.write(os.urandom(BLOCK_SIZE) if index in listed else bytes(BLOCK_SIZE))
    return write_image(ebs, image), listed, image


def test_listing_is_paged_and_hashing_holds_at_most_two_blocks_per_worker(
    many_blocks: tuple[str, list[int], Path], ebs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot_id, listed, image = many_blocks
    first = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100)
    second = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, NextToken=first["NextToken"])
    assert [b["BlockIndex"] for b in first["Blocks"] + second["Blocks"]] == listed
    assert "NextToken" not in second
    starting = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=100, StartingBlockIndex=301)
    assert [b["BlockIndex"] for b in starting["Blocks"]] == [i for i in listed if i >= 301]

    monkeypatch.setattr(disk_image, "LIST_PAGE_SIZE", 100)
    workers = 3
    counting = _CountingEbs(ebs, listed, stall_until=2 * workers + 1)
    result = hash_snapshot(counting, snapshot_id, workers=workers, progress=counting.progress)

    assert result.sha256 == file_sha256(image)
    assert result.blocks_read == len(listed)
    assert counting.list_calls == 2
    # Reads ran ahead of the stalled hash (more blocks than fetches in flight), but never past the bound.
    assert workers < counting.max_held <= 2 * workers
    assert counting.max_in_flight >= 2


class _RecordingEbs:
    """Takes a snapshot's writes and keeps the blocks."""

    def __init__(self) -> None:
        self.blocks: dict[int, bytes] = {}
        self.changed = -1

    def start_snapshot(self, **_: Any) -> dict[str, str]:
        return {"SnapshotId": "snap-0recorded"}

    def put_snapshot_block(self, *, BlockIndex: int, BlockData: bytes, **_: Any) -> None:
        self.blocks[BlockIndex] = BlockData

    def complete_snapshot(self, *, ChangedBlocksCount: int, **_: Any) -> None:
        self.changed = ChangedBlocksCount


def test_a_sparse_file_is_written_as_its_bytes_read_from_any_offset(tmp_path: Path) -> None:
    # Data at a block's start, across a block boundary and in the last partial block; holes between.
    image = _sparse_file(tmp_path / "sparse.img", 9 * BLOCK_SIZE + 1000)
    with image.open("r+b") as out:
        for offset, size in ((0, 10), (3 * BLOCK_SIZE - 5, 10), (9 * BLOCK_SIZE + 999, 1)):
            out.seek(offset)
            out.write(os.urandom(size) + b"\1")
    content = image.read_bytes()

    for start in (0, 7, BLOCK_SIZE + 3):
        expected = content[start:] + bytes(-len(content[start:]) % BLOCK_SIZE)
        blocks = {
            i: expected[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE]
            for i in range(len(expected) // BLOCK_SIZE)
            if expected[i * BLOCK_SIZE : (i + 1) * BLOCK_SIZE] != bytes(BLOCK_SIZE)
        }
        recorded = _RecordingEbs()
        with image.open("rb") as stream:
            stream.seek(start)
            write_image(recorded, stream)
        assert recorded.blocks == blocks and recorded.changed == len(blocks) > 0, start
