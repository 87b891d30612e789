"""The local AWS's check of S3 query-string authentication (tools/local_aws/s3_query_auth.py), without a
server: a presigned URL botocore makes verifies, any change to it does not, and malformed parameters get
S3's error codes. The enforcing server's answers are in test_local_s3_checksums.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from tools.local_aws.s3_query_auth import PresignedRequest, QueryAuthError, is_query_signed

SECRET = "local-secret-access-key"
HOST = "127.0.0.1:4566"


def _presigned(method: str, key: str, **params: str) -> str:
    s3 = boto3.client(
        "s3",
        endpoint_url=f"https://{HOST}",
        region_name="us-east-1",
        aws_access_key_id="AKIALOCALEXAMPLE0001",
        aws_secret_access_key=SECRET,
        aws_session_token="session-token/with+chars=",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return str(
        s3.generate_presigned_url(method, Params={"Bucket": "evidence", "Key": key, **params}, ExpiresIn=900)
    )


def _request(url: str, method: str = "GET", **headers: str) -> PresignedRequest:
    parts = urlsplit(url)
    return PresignedRequest.parse(method, f"{parts.path}?{parts.query}", {"host": HOST, **headers})


@pytest.mark.parametrize("key", ["plain.bin", "dir/a name+with spaces&=.bin", "ünïcode/~tilde*(x).img"])
def test_a_url_botocore_presigns_verifies_and_names_its_signer(key: str) -> None:
    request = _request(_presigned("get_object", key))
    assert request.signature_matches(SECRET)
    assert not request.signature_matches("another secret")
    assert request.access_key_id == "AKIALOCALEXAMPLE0001"
    assert request.session_token == "session-token/with+chars="
    assert request.validity_refusal() is None


def test_a_signed_header_or_method_that_differs_fails_the_signature() -> None:
    checksum = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    url = _presigned("put_object", "upload", ChecksumSHA256=checksum)
    assert _request(url, "PUT", **{"x-amz-checksum-sha256": checksum}).signature_matches(SECRET)
    other = "AAAAgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
    assert not _request(url, "PUT", **{"x-amz-checksum-sha256": other}).signature_matches(SECRET)
    assert not _request(url, "PUT").signature_matches(SECRET)  # the signed header left out
    assert not _request(url, "DELETE", **{"x-amz-checksum-sha256": checksum}).signature_matches(SECRET)


def test_validity_is_judged_from_x_amz_date_for_x_amz_expires_seconds() -> None:
    request = _request(_presigned("get_object", "k"))
    assert request.validity_refusal(request.signed_at + timedelta(seconds=900)) is None
    late = request.validity_refusal(request.signed_at + timedelta(seconds=901))
    early = request.validity_refusal(request.signed_at - timedelta(seconds=1))
    assert late is not None and (late.code, late.message) == ("AccessDenied", "Request has expired")
    assert early is not None and (early.code, early.message) == ("AccessDenied", "Request is not valid yet")
    assert request.signed_at <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"),
            "AuthorizationQueryParametersError",
        ),
        (("X-Amz-Expires=900", "X-Amz-Expires=604801"), "AuthorizationQueryParametersError"),
        (("X-Amz-Expires=900", "X-Amz-Expires=-1"), "AuthorizationQueryParametersError"),
        (("X-Amz-Expires=900", "X-Amz-Expires=soon"), "AuthorizationQueryParametersError"),
        (("X-Amz-Expires=900&", ""), "AuthorizationQueryParametersError"),
        (("%2Fs3%2Faws4_request", "%2Fec2%2Faws4_request"), "AuthorizationQueryParametersError"),
        (("%2Faws4_request", "%2Faws4"), "AuthorizationQueryParametersError"),
        (("X-Amz-Date=2", "X-Amz-Date=1"), "AuthorizationQueryParametersError"),
    ],
)
def test_malformed_query_parameters_are_refused_with_s3s_code(change: tuple[str, str], code: str) -> None:
    url = _presigned("get_object", "k")
    assert change[0] in url
    with pytest.raises(QueryAuthError) as refused:
        _request(url.replace(*change))
    assert refused.value.code == code


def test_sigv2_query_authentication_is_not_supported_and_an_unsigned_request_is_not_query_signed() -> None:
    sigv2 = "/evidence/k?AWSAccessKeyId=AKIA&Expires=1999999999&Signature=abc%3D"
    assert is_query_signed(sigv2)
    with pytest.raises(QueryAuthError) as refused:
        PresignedRequest.parse("GET", sigv2, {"host": HOST})
    assert refused.value.code == "InvalidRequest"
    assert not is_query_signed("/evidence/k")
    assert not is_query_signed("/evidence/k?versionId=3&legal-hold")
