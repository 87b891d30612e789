"""The local AWS checks upload checksums as S3 does: a PutObject or UploadPart whose x-amz-checksum-<algo>
(header, presigned URL, or aws-chunked trailer) does not match the data is refused with 400 BadDigest and
nothing is stored; a matching one is stored and returned with ChecksumMode ENABLED."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tools.local_aws.aws import LocalAws
from tools.local_aws.moto_server import chunked_trailers

# Under IAM enforcement the launcher answers 500 (not S3's 400 BadDigest) to a presigned PUT whose body does
# not match its signed checksum and to a chunked upload with a wrong trailer: to be fixed in the launcher.
pytestmark = pytest.mark.open_local_aws("enforcing launcher answers 500 to a bad presigned or chunked upload")

BODY = b"evidence bytes " * 4096
OTHER = b"other bytes " * 4096


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


SHA256 = _b64(hashlib.sha256(BODY).digest())


@pytest.fixture
def bucket(local_aws: LocalAws) -> str:
    """An Object Lock bucket with default retention, like the evidence bucket (writes need a checksum)."""
    name = f"checksums-{uuid.uuid4().hex[:12]}"
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    return name


def _refused(call: Any, code: str = "BadDigest") -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response
    assert error["Error"]["Code"] == code, error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    return dict(error["Error"])


def _versions(s3: Any, bucket: str, key: str) -> list[Any]:
    return list(s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []))


def test_a_put_whose_sha256_does_not_match_is_refused_and_nothing_is_stored(
    local_aws: LocalAws, bucket: str
) -> None:
    s3 = local_aws.client("s3")
    error = _refused(lambda: s3.put_object(Bucket=bucket, Key="wrong", Body=OTHER, ChecksumSHA256=SHA256))
    assert error["Message"] == "The SHA256 you specified did not match the calculated checksum."
    assert _versions(s3, bucket, "wrong") == []

    s3.put_object(Bucket=bucket, Key="right", Body=BODY, ChecksumSHA256=SHA256)
    head = s3.head_object(Bucket=bucket, Key="right", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == SHA256
    got = s3.get_object(Bucket=bucket, Key="right", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == SHA256 and got["Body"].read() == BODY


def test_crc32_and_sha1_are_checked_too_and_a_malformed_value_is_invalid(
    local_aws: LocalAws, bucket: str
) -> None:
    s3 = local_aws.client("s3")
    crc32 = _b64(binascii.crc32(BODY).to_bytes(4, "big"))
    sha1 = _b64(hashlib.sha1(BODY).digest())
    _refused(lambda: s3.put_object(Bucket=bucket, Key="crc", Body=OTHER, ChecksumCRC32=crc32))
    _refused(lambda: s3.put_object(Bucket=bucket, Key="sha1", Body=OTHER, ChecksumSHA1=sha1))
    _refused(
        lambda: s3.put_object(Bucket=bucket, Key="bad", Body=BODY, ChecksumSHA256="not-base64"),
        code="InvalidRequest",
    )
    s3.put_object(Bucket=bucket, Key="crc", Body=BODY, ChecksumCRC32=crc32)
    assert s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32
    # The SDK's own checksums (in the aws-chunked trailer) still pass.
    s3.put_object(Bucket=bucket, Key="sdk", Body=BODY, ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=bucket, Key="default", Body=BODY)
    assert s3.head_object(Bucket=bucket, Key="sdk", ChecksumMode="ENABLED")["ChecksumSHA256"] == SHA256


def test_a_presigned_put_checks_the_signed_checksum_header(local_aws: LocalAws, bucket: str) -> None:
    """What an uploader with only a URL does: the checksum is a signed header, not an SDK parameter."""
    presigner = boto3.client(
        "s3",
        endpoint_url=local_aws.endpoint_url,
        region_name=local_aws.region,
        aws_access_key_id=local_aws.access_key_id,
        aws_secret_access_key=local_aws.secret_access_key,
        verify=False,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = presigner.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "upload", "ChecksumSHA256": SHA256}, ExpiresIn=900
    )
    assert "x-amz-checksum-sha256" in httpx.URL(url).params["X-Amz-SignedHeaders"].split(";")
    headers = {"x-amz-checksum-sha256": SHA256}

    refused = httpx.put(url, content=OTHER, headers=headers, verify=False)
    assert refused.status_code == 400 and "<Code>BadDigest</Code>" in refused.text
    s3 = local_aws.client("s3")
    assert _versions(s3, bucket, "upload") == []

    # Accepted by the Object Lock bucket with no SDK header: the checksum header is the integrity check.
    stored = httpx.put(url, content=BODY, headers=headers, verify=False)
    assert stored.status_code == 200, stored.text
    head = s3.head_object(Bucket=bucket, Key="upload", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == SHA256 and head["VersionId"] == stored.headers["x-amz-version-id"]


def test_a_chunked_upload_with_a_wrong_trailer_is_refused(local_aws: LocalAws, bucket: str) -> None:
    def chunked(checksum: str) -> bytes:
        return b"".join(
            [
                f"{len(BODY):x}\r\n".encode(),
                BODY,
                b"\r\n0\r\n",
                f"x-amz-checksum-sha256:{checksum}\r\n\r\n".encode(),
            ]
        )

    assert chunked_trailers(chunked(SHA256)) == {"x-amz-checksum-sha256": SHA256}
    assert chunked_trailers(BODY) == {}
    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-sha256",
        "x-amz-sdk-checksum-algorithm": "SHA256",
        "x-amz-decoded-content-length": str(len(BODY)),
        "content-encoding": "aws-chunked",
    }
    url = f"{local_aws.endpoint_url}/{bucket}/trailer"
    wrong = _b64(hashlib.sha256(OTHER).digest())
    refused = httpx.put(url, content=chunked(wrong), headers=headers, verify=False)
    assert refused.status_code == 400 and "<Code>BadDigest</Code>" in refused.text
    stored = httpx.put(url, content=chunked(SHA256), headers=headers, verify=False)
    assert stored.status_code == 200, stored.text
    s3 = local_aws.client("s3")
    assert s3.get_object(Bucket=bucket, Key="trailer")["Body"].read() == BODY


def test_a_part_whose_checksum_does_not_match_is_refused(local_aws: LocalAws, bucket: str) -> None:
    s3 = local_aws.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts", ChecksumAlgorithm="SHA256")
    part = {"Bucket": bucket, "Key": "parts", "UploadId": upload["UploadId"], "PartNumber": 1}
    _refused(lambda: s3.upload_part(**part, Body=OTHER, ChecksumSHA256=SHA256))
    assert s3.upload_part(**part, Body=BODY, ChecksumSHA256=SHA256)["ChecksumSHA256"] == SHA256
