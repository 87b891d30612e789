"""The enforcing local AWS checks SigV4 signatures of body-less REST calls as AWS does: over the empty body
the client signed (moto recomputed them over the request's headers, refusing every correct one)."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.local_aws.aws import LocalAws


def test_a_bodyless_ebs_call_is_judged_by_its_signature(enforcing_aws: LocalAws) -> None:
    def ebs(secret: str) -> object:
        return boto3.client(
            "ebs",
            endpoint_url=enforcing_aws.endpoint_url,
            region_name=enforcing_aws.region,
            verify=False,
            aws_access_key_id=enforcing_aws.access_key_id,
            aws_secret_access_key=secret,
        )

    admin = ebs(enforcing_aws.secret_access_key)
    snapshot = admin.start_snapshot(VolumeSize=1)["SnapshotId"]  # type: ignore[attr-defined]
    block = b"\x5a" * 524288
    checksum = base64.b64encode(hashlib.sha256(block).digest()).decode()
    admin.put_snapshot_block(  # type: ignore[attr-defined]
        SnapshotId=snapshot,
        BlockIndex=0,
        BlockData=block,
        DataLength=len(block),
        Checksum=checksum,
        ChecksumAlgorithm="SHA256",
    )
    with pytest.raises(ClientError) as refused:
        ebs("not-the-secret").complete_snapshot(SnapshotId=snapshot, ChangedBlocksCount=1)  # type: ignore[attr-defined]
    assert "SignatureDoesNotMatch" in str(refused.value)
    completed = admin.complete_snapshot(SnapshotId=snapshot, ChangedBlocksCount=1)  # type: ignore[attr-defined]
    assert completed["Status"] == "completed"
    # A body-less GET with a query (the hashing's ListSnapshotBlocks?maxResults=...) is signed over its URL's
    # query and an empty body (moto signed the query a second time, as a form body, and refused it).
    listed = admin.list_snapshot_blocks(SnapshotId=snapshot, MaxResults=100, StartingBlockIndex=0)  # type: ignore[attr-defined]
    assert [b["BlockIndex"] for b in listed["Blocks"]] == [0]
    with pytest.raises(ClientError) as refused_list:
        ebs("not-the-secret").list_snapshot_blocks(SnapshotId=snapshot, MaxResults=100)  # type: ignore[attr-defined]
    assert "SignatureDoesNotMatch" in str(refused_list.value)
