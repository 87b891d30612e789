"""The local AWS's aws-chunked decoder (tools/local_aws/s3_aws_chunked.py), without a server: what an SDK
sends decodes to its data and trailers, anything else is S3's IncompleteBody. The server's answers are in
test_local_s3_checksums.py."""

from __future__ import annotations

import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Sha256Checksum

from tools.local_aws.s3_aws_chunked import TERMINATED, WRONG_LENGTH, IncompleteBody, decode, decoded_body

DATA = bytes(range(256)) * 300


def _sdk_body(data: bytes, chunk_size: int = 8192) -> bytes:
    """What botocore streams for a PutObject with a SHA-256 trailer."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data),
        checksum_cls=Sha256Checksum,
        checksum_name="x-amz-checksum-sha256",
        chunk_size=chunk_size,
    )
    return b"".join(iter(wrapper))


def test_what_botocore_streams_decodes_to_its_data_and_trailer() -> None:
    data, trailers = decode(_sdk_body(DATA))
    assert data == DATA
    assert set(trailers) == {"x-amz-checksum-sha256"}
    assert decoded_body(_sdk_body(DATA), str(len(DATA))) == DATA
    assert decode(_sdk_body(b"")) == (
        b"",
        {"x-amz-checksum-sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    )


def test_signed_chunks_and_a_signed_trailer_decode() -> None:
    signature = ";chunk-signature=" + "a" * 64
    body = (
        f"5{signature}\r\n".encode()
        + b"hello\r\n"
        + f"0{signature}\r\n".encode()
        + b"x-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:"
        + b"b" * 64
        + b"\r\n\r\n"
    )
    data, trailers = decode(body)
    assert data == b"hello" and trailers["x-amz-checksum-crc32"] == "NhCmhg=="


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"zz\r\nhello\r\n0\r\n\r\n",  # size not hexadecimal
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhel",  # chunk cut short
        b"5\r\nhelloXX0\r\n\r\n",  # chunk not followed by CRLF
        b"5\r\nhello\r\n",  # no last chunk
        b"5\r\nhello\r\n0\r\n",  # no closing empty line
        b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",  # a trailer that is no header
        b"5\r\nhello\r\n0\r\n\r\nextra",  # bytes after the end
        b"hello",  # not aws-chunked at all
    ],
)
def test_anything_else_is_incomplete_body(body: bytes) -> None:
    with pytest.raises(IncompleteBody, match=TERMINATED):
        decode(body)


def test_a_declared_length_other_than_the_data_is_refused() -> None:
    body = b"5\r\nhello\r\n0\r\n\r\n"
    assert decoded_body(body, None) == b"hello"
    for declared in ("4", "6", "five", ""):
        with pytest.raises(IncompleteBody, match=WRONG_LENGTH):
            decoded_body(body, declared)
