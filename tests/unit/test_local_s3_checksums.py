"""The local AWS checks upload checksums as S3 does: a PutObject or UploadPart whose x-amz-checksum-<algo>
(header, presigned URL, or aws-chunked trailer) does not match the data is refused with 400 BadDigest and
nothing is stored; a matching one is stored and returned with ChecksumMode ENABLED. The suite's local AWS
enforces IAM: a presigned URL is authenticated by its query string as S3 does (a URL that does not fit its
signature, expired, or malformed is refused with S3's 4xx, never a 500), an anonymous request is denied."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import uuid
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tools.local_aws.aws import LocalAws
from tools.local_aws.moto_server import chunked_trailers

BODY = b"evidence bytes " * 4096
OTHER = b"other bytes " * 4096


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


SHA256 = _b64(hashlib.sha256(BODY).digest())
MD5 = _b64(hashlib.md5(BODY, usedforsecurity=False).digest())


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


def _presigner(local_aws: LocalAws) -> Any:
    """An S3 client that presigns with SigV4, as the service's uploads do."""
    return boto3.client(
        "s3",
        endpoint_url=local_aws.endpoint_url,
        region_name=local_aws.region,
        aws_access_key_id=local_aws.access_key_id,
        aws_secret_access_key=local_aws.secret_access_key,
        verify=False,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def _presigned_put(local_aws: LocalAws, bucket: str, key: str, expires: int = 900) -> str:
    return str(
        _presigner(local_aws).generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": key, "ChecksumSHA256": SHA256}, ExpiresIn=expires
        )
    )


def _s3_error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, S3 error code, message) of a refused request: an S3 error document, never an HTML page."""
    assert response.headers["content-type"].startswith("application/xml"), response.text
    code = response.text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    message = response.text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return response.status_code, code, message


def test_a_presigned_put_checks_the_signed_checksum_header(local_aws: LocalAws, bucket: str) -> None:
    """What an uploader with only a URL does: the checksum is a signed header, not an SDK parameter."""
    url = _presigned_put(local_aws, bucket, "upload")
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


def test_a_presigned_upload_that_does_not_fit_its_signature_is_refused_as_s3_refuses_it(
    local_aws: LocalAws, bucket: str
) -> None:
    """The enforcing local AWS authenticates a presigned URL by its query string: what the URL's holder
    changes (the signed checksum header, the key, the validity) fails the signature with 403; a URL past
    its validity is 403 AccessDenied; a malformed one 400; an unsigned request is denied. Nothing is
    stored."""
    url = _presigned_put(local_aws, bucket, "upload")
    other_sha256 = _b64(hashlib.sha256(OTHER).digest())
    forged = httpx.put(url, content=OTHER, headers={"x-amz-checksum-sha256": other_sha256}, verify=False)
    assert _s3_error(forged)[:2] == (403, "SignatureDoesNotMatch")
    elsewhere = httpx.put(
        url.replace("/upload?", "/elsewhere?"),
        content=BODY,
        headers={"x-amz-checksum-sha256": SHA256},
        verify=False,
    )
    assert _s3_error(elsewhere)[:2] == (403, "SignatureDoesNotMatch")
    longer = url.replace("X-Amz-Expires=900", "X-Amz-Expires=3600")
    assert longer != url
    extended = httpx.put(longer, content=BODY, headers={"x-amz-checksum-sha256": SHA256}, verify=False)
    assert _s3_error(extended)[:2] == (403, "SignatureDoesNotMatch")

    expired_url = _presigned_put(local_aws, bucket, "late", expires=1)
    time.sleep(2.5)
    expired = httpx.put(expired_url, content=BODY, headers={"x-amz-checksum-sha256": SHA256}, verify=False)
    assert _s3_error(expired) == (403, "AccessDenied", "Request has expired")

    over_a_week = httpx.put(
        url.replace("X-Amz-Expires=900", "X-Amz-Expires=604801"),
        content=BODY,
        headers={"x-amz-checksum-sha256": SHA256},
        verify=False,
    )
    assert _s3_error(over_a_week)[:2] == (400, "AuthorizationQueryParametersError")
    unsigned = url.split("?", 1)[0]
    anonymous = httpx.put(unsigned, content=BODY, headers={"x-amz-checksum-sha256": SHA256}, verify=False)
    assert _s3_error(anonymous)[:2] == (403, "AccessDenied")

    s3 = local_aws.client("s3")
    for key in ("upload", "elsewhere", "late"):
        assert _versions(s3, bucket, key) == []
    # The same URL, used as signed, still stores the data.
    stored = httpx.put(url, content=BODY, headers={"x-amz-checksum-sha256": SHA256}, verify=False)
    assert stored.status_code == 200, stored.text


def test_a_presigned_get_reads_as_its_signer_and_only_what_the_signer_may_read(
    local_aws: LocalAws, bucket: str
) -> None:
    """A presigned GET acts as its signer: its identity policies decide, as for a signed request."""
    s3 = local_aws.client("s3")
    key = "dir/a name+with spaces.bin"
    s3.put_object(Bucket=bucket, Key=key, Body=BODY, ChecksumSHA256=SHA256)
    url = _presigner(local_aws).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60
    )
    got = httpx.get(url, verify=False)
    assert got.status_code == 200 and got.content == BODY

    iam = local_aws.client("iam")
    reader = f"presigned-reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=reader)
    iam.put_user_policy(
        UserName=reader,
        PolicyName="other-keys-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/other/*",
                    }
                ],
            }
        ),
    )
    keys = iam.create_access_key(UserName=reader)["AccessKey"]
    their_presigner = boto3.client(
        "s3",
        endpoint_url=local_aws.endpoint_url,
        region_name=local_aws.region,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        verify=False,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    theirs = their_presigner.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    assert _s3_error(httpx.get(theirs, verify=False))[:2] == (403, "AccessDenied")


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

    def signed(body: bytes) -> dict[str, str]:
        """The headers with the SDK's SigV4 over them (the payload itself is unsigned: its trailer is the
        integrity check)."""
        request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
        credentials = Credentials(local_aws.access_key_id, local_aws.secret_access_key)
        SigV4Auth(credentials, "s3", local_aws.region).add_auth(request)
        return dict(request.headers.items())

    wrong = _b64(hashlib.sha256(OTHER).digest())
    refused = httpx.put(url, content=chunked(wrong), headers=signed(chunked(wrong)), verify=False)
    assert refused.status_code == 400 and "<Code>BadDigest</Code>" in refused.text
    stored = httpx.put(url, content=chunked(SHA256), headers=signed(chunked(SHA256)), verify=False)
    assert stored.status_code == 200, stored.text
    s3 = local_aws.client("s3")
    assert s3.get_object(Bucket=bucket, Key="trailer")["Body"].read() == BODY


def _signed_chunked_put(local_aws: LocalAws, url: str, body: bytes, **headers: str) -> httpx.Response:
    """A PUT of an aws-chunked body, its headers signed as an SDK signs them (the payload is not)."""
    request = AWSRequest(
        method="PUT", url=url, data=body, headers={"content-encoding": "aws-chunked", **headers}
    )
    credentials = Credentials(local_aws.access_key_id, local_aws.secret_access_key)
    SigV4Auth(credentials, "s3", local_aws.region).add_auth(request)
    return httpx.put(url, content=body, headers=dict(request.headers.items()), verify=False)


@pytest.mark.parametrize(
    ("body", "declared", "message"),
    [
        (b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", len(BODY), "The request body terminated unexpectedly"),
        (f"{len(BODY):x}\r\n".encode() + BODY[:-10], len(BODY), "The request body terminated unexpectedly"),
        (
            f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n",
            len(BODY),
            "The request body terminated unexpectedly",
        ),
        (
            f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n",
            len(BODY) + 1,
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ),
    ],
    ids=["size-not-hex", "chunk-cut-short", "no-last-chunk", "declared-length-differs"],
)
def test_a_malformed_aws_chunked_upload_is_incomplete_body_and_nothing_is_stored(
    local_aws: LocalAws, bucket: str, body: bytes, declared: int, message: str
) -> None:
    """S3 answers 400 IncompleteBody to an aws-chunked body it cannot decode as declared (moto answered 500,
    or stored the data cut short); nothing is stored."""
    url = f"{local_aws.endpoint_url}/{bucket}/chunked"
    refused = _signed_chunked_put(
        local_aws,
        url,
        body,
        **{
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(declared),
            "content-md5": MD5,  # what the Object Lock bucket needs: nothing else is wrong
        },
    )
    assert _s3_error(refused) == (400, "IncompleteBody", message)
    assert _versions(local_aws.client("s3"), bucket, "chunked") == []


def test_a_signed_stream_without_its_decoded_length_is_refused(local_aws: LocalAws, bucket: str) -> None:
    url = f"{local_aws.endpoint_url}/{bucket}/signed-stream"
    body = f"{len(BODY):x};chunk-signature={'0' * 64}\r\n".encode() + BODY + b"\r\n"
    body += f"0;chunk-signature={'0' * 64}\r\n\r\n".encode()
    refused = _signed_chunked_put(
        local_aws, url, body, **{"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
    )
    assert _s3_error(refused)[:2] == (400, "IncompleteBody")
    assert _versions(local_aws.client("s3"), bucket, "signed-stream") == []
    # With it, the same body is decoded and stored (a GOVERNANCE bucket takes it with the SDK's Content-MD5).
    stored = _signed_chunked_put(
        local_aws,
        url,
        body,
        **{
            "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "x-amz-decoded-content-length": str(len(BODY)),
            "content-md5": MD5,
        },
    )
    assert stored.status_code == 200, stored.text
    assert local_aws.client("s3").get_object(Bucket=bucket, Key="signed-stream")["Body"].read() == BODY


def test_a_part_whose_checksum_does_not_match_is_refused(local_aws: LocalAws, bucket: str) -> None:
    s3 = local_aws.client("s3")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts", ChecksumAlgorithm="SHA256")
    part = {"Bucket": bucket, "Key": "parts", "UploadId": upload["UploadId"], "PartNumber": 1}
    _refused(lambda: s3.upload_part(**part, Body=OTHER, ChecksumSHA256=SHA256))
    assert s3.upload_part(**part, Body=BODY, ChecksumSHA256=SHA256)["ChecksumSHA256"] == SHA256
