"""Evidence disk images through the EBS direct APIs: the SHA-256 of a snapshot's full raw disk, and writing an
image into a new snapshot (for tests, the bench and the local seed).

The hash is that of the raw disk as ``dd`` would read it from a volume made from the snapshot: ``VolumeSize``
GiB, where blocks the snapshot does not list are sparse (zeros), so it equals ``sha256sum`` of the image
file that was written. Every block read is checked against the checksum EBS returns with it.

The ``ebs`` argument is a boto3 ``ebs`` client the caller created (region, credentials, endpoint). Its
default connection pool holds 10 connections: pass ``botocore.config.Config(max_pool_connections=...)``
when hashing with more workers than that.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from service.errors import DiskImageError

BLOCK_SIZE = 524288  # bytes: the only block size of the EBS direct APIs
GIB = 1 << 30
# ListSnapshotBlocks page size; AWS accepts 100 to 10000 (a module constant so tests can exercise paging).
LIST_PAGE_SIZE = 10000


class BlockChecksumMismatch(DiskImageError):
    """A block's data does not match the checksum EBS returned with it."""

    def __init__(self, snapshot_id: str, block_index: int, expected: str, actual: str) -> None:
        super().__init__(
            f"{snapshot_id}: block {block_index} has SHA-256 {actual} (base64), EBS says {expected}"
        )
        self.snapshot_id = snapshot_id
        self.block_index = block_index
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class DiskImageHash:
    snapshot_id: str
    sha256: str  # hex, of the full raw disk (size_bytes)
    size_bytes: int
    block_size: int
    blocks_read: int  # blocks the snapshot lists (non-sparse), each fetched and verified
    seconds: float


def block_checksum(data: bytes) -> str:
    """The checksum the EBS direct APIs use: base64 of the block's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass(frozen=True)
class _Layout:
    volume_size_gib: int
    block_size: int
    blocks: Iterator[tuple[int, str]]  # (index, token) in increasing index order, pages fetched lazily


def _layout(ebs: Any, snapshot_id: str) -> _Layout:
    first = ebs.list_snapshot_blocks(SnapshotId=snapshot_id, MaxResults=LIST_PAGE_SIZE)

    def listed() -> Iterator[tuple[int, str]]:
        page = first
        previous = -1
        while True:
            for block in page.get("Blocks", []):
                index = int(block["BlockIndex"])
                # Hashing streams in list order: a listing out of order would silently give a wrong hash.
                if index <= previous:
                    raise DiskImageError(f"{snapshot_id}: block {index} listed after block {previous}")
                previous = index
                yield index, str(block["BlockToken"])
            token = page.get("NextToken")
            if not token:
                return
            page = ebs.list_snapshot_blocks(
                SnapshotId=snapshot_id, MaxResults=LIST_PAGE_SIZE, NextToken=token
            )

    return _Layout(int(first["VolumeSize"]), int(first["BlockSize"]), listed())


def hash_snapshot(
    ebs: Any,
    snapshot_id: str,
    *,
    workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> DiskImageHash:
    """SHA-256 of the snapshot's full raw disk image. Listed blocks are fetched by ``workers`` threads, at
    most ``2 * workers`` of them held at any time, and hashed strictly in block order; unlisted blocks hash
    as zeros. ``progress(done_bytes, total_bytes)`` is called after each block is hashed.

    Raises ``BlockChecksumMismatch`` when a block does not match its checksum, ``DiskImageError`` when the
    API's answers are inconsistent (a block of the wrong length, listed out of order or beyond the volume),
    and botocore's ``ClientError`` as the API raises it (unknown snapshot, expired block token...)."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    started = time.perf_counter()
    layout = _layout(ebs, snapshot_id)
    block_size = layout.block_size
    size_bytes = layout.volume_size_gib * GIB
    if block_size <= 0 or size_bytes % block_size:
        raise DiskImageError(f"{snapshot_id}: block size {block_size} does not divide the volume")
    total_blocks = size_bytes // block_size
    zeros = bytes(block_size)
    digest = hashlib.sha256()
    hashed = 0  # blocks fed to the digest so far, sparse ones included
    blocks_read = 0

    def fetch(index: int, token: str) -> bytes:
        answer = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockToken=token)
        data: bytes = answer["BlockData"].read()
        if len(data) != block_size or int(answer.get("DataLength", -1)) != block_size:
            raise DiskImageError(
                f"{snapshot_id}: block {index} is {len(data)} bytes (DataLength {answer.get('DataLength')}), "
                f"expected {block_size}"
            )
        if answer.get("ChecksumAlgorithm") != "SHA256":
            raise DiskImageError(f"{snapshot_id}: block {index} has no SHA256 checksum to verify")
        actual = block_checksum(data)
        if actual != answer.get("Checksum"):
            raise BlockChecksumMismatch(snapshot_id, index, str(answer.get("Checksum")), actual)
        return data

    def feed(data: bytes) -> None:
        nonlocal hashed
        digest.update(data)
        hashed += 1
        if progress is not None:
            progress(hashed * block_size, size_bytes)

    def feed_block(index: int, data: bytes) -> None:
        while hashed < index:
            feed(zeros)
        feed(data)

    # Each queued future holds at most one block; the queue is drained in order before it grows past the
    # bound, so memory stays at about 2 * workers blocks whatever the disk's size.
    window: deque[tuple[int, Future[bytes]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ebs-block") as pool:
        try:
            for index, token in layout.blocks:
                if index >= total_blocks:
                    raise DiskImageError(f"{snapshot_id}: block {index} lies beyond the volume")
                if len(window) >= 2 * workers:
                    done_index, oldest = window.popleft()
                    feed_block(done_index, oldest.result())
                window.append((index, pool.submit(fetch, index, token)))
                blocks_read += 1
            while window:
                done_index, oldest = window.popleft()
                feed_block(done_index, oldest.result())
        finally:
            for _, pending in window:
                pending.cancel()
    while hashed < total_blocks:
        feed(zeros)
    return DiskImageHash(
        snapshot_id=snapshot_id,
        sha256=digest.hexdigest(),
        size_bytes=size_bytes,
        block_size=block_size,
        blocks_read=blocks_read,
        seconds=time.perf_counter() - started,
    )


def _read_block(stream: BinaryIO) -> bytes:
    """Up to a block: shorter only at the end (a raw stream may return less than asked before its end)."""
    chunk = stream.read(BLOCK_SIZE)
    while chunk and len(chunk) < BLOCK_SIZE:
        more = stream.read(BLOCK_SIZE - len(chunk))
        if not more:
            break
        chunk += more
    return chunk


def _data_from(stream: BinaryIO, position: int, end: int) -> int:
    """Where the next byte at or after ``position`` that is not in a hole of a sparse file is (``end`` when
    only holes follow): holes read as zeros, so the blocks wholly inside one need no reading. ``position``
    itself where the stream cannot tell (not a file, or a file system without SEEK_DATA)."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, io.UnsupportedOperation):
        return position
    # The stream's own idea of its offset is left as it was: it is put back after the look.
    here = os.lseek(descriptor, 0, os.SEEK_CUR)
    try:
        return min(os.lseek(descriptor, position, os.SEEK_DATA), end)
    except OSError as error:
        return end if error.errno == errno.ENXIO else position
    finally:
        os.lseek(descriptor, here, os.SEEK_SET)


def write_image(
    ebs: Any,
    image: Path | BinaryIO,
    *,
    volume_size_gib: int | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> str:
    """A new completed snapshot holding the raw disk image (a file, or a seekable binary stream read from its
    current position): every block that is not all zeros is written with its checksum, the last partial
    block padded with zeros. The volume size defaults to the image's, rounded up to whole GiB (at least 1).
    Returns the snapshot id. A failure part way leaves the snapshot pending (AWS times such snapshots out)."""
    if isinstance(image, Path):
        with image.open("rb") as stream:
            return write_image(
                ebs, stream, volume_size_gib=volume_size_gib, description=description, tags=tags
            )
    start = image.tell()
    image_bytes = image.seek(0, 2) - start
    image.seek(start)
    needed = max(1, -(-image_bytes // GIB))
    if volume_size_gib is None:
        volume_size_gib = needed
    elif volume_size_gib < needed:
        raise ValueError(f"the image ({image_bytes} bytes) does not fit in {volume_size_gib} GiB")
    request: dict[str, Any] = {"VolumeSize": volume_size_gib}
    if description:  # the API refuses an empty description
        request["Description"] = description
    if tags:
        request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    snapshot_id = str(ebs.start_snapshot(**request)["SnapshotId"])
    zeros = bytes(BLOCK_SIZE)
    written = 0
    index = 0
    end = start + image_bytes
    while True:
        block_start = start + index * BLOCK_SIZE
        data = _data_from(image, block_start, end)
        if data >= block_start + BLOCK_SIZE:
            index = (data - start) // BLOCK_SIZE
            block_start = start + index * BLOCK_SIZE
        image.seek(block_start)
        chunk = _read_block(image)
        if not chunk:
            break
        if len(chunk) < BLOCK_SIZE:
            chunk += bytes(BLOCK_SIZE - len(chunk))
        if chunk != zeros:
            ebs.put_snapshot_block(
                SnapshotId=snapshot_id,
                BlockIndex=index,
                BlockData=chunk,
                DataLength=BLOCK_SIZE,
                Checksum=block_checksum(chunk),
                ChecksumAlgorithm="SHA256",
            )
            written += 1
        index += 1
    ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=written)
    return snapshot_id
