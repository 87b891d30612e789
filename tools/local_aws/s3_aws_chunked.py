"""aws-chunked upload bodies decoded as S3 decodes them: a malformed one is refused, 400 ``IncompleteBody``.

An SDK streams a PutObject or UploadPart as ``aws-chunked`` (``x-amz-content-sha256: STREAMING-...``): chunks
of ``<hex size>[;chunk-signature=...]\\r\\n<data>\\r\\n``, a last chunk of size 0, the trailing headers (the
checksum), an empty line. moto 5.2.5 decodes it loosely: a size that is not hexadecimal, or a signed stream
without ``x-amz-decoded-content-length``, raised before its error handling (a 500 page); a chunk cut short was
stored short; a signed stream shorter than its declared length was stored padded with zero bytes. S3 refuses
all of them with 400 ``IncompleteBody`` ("The request body terminated unexpectedly", or, when the decoded data
is not ``x-amz-decoded-content-length`` bytes, "You did not provide the number of bytes specified by the
Content-Length HTTP header"), and stores nothing. Here the body is decoded strictly; a refusal is raised once
the request is authenticated and authorized (S3 reads the body after judging the caller), before any work.

Not modelled: chunk signatures of a signed stream (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) are not verified
(moto never checked them; the request's own signature is); S3's minimum chunk size (8 KiB but the last).
"""

from __future__ import annotations

import io
import re
from typing import Any

# x-amz-content-sha256 values that announce an aws-chunked body; the signed ones need the decoded length.
SIGNED_STREAMING = frozenset(
    {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"}
)
UNSIGNED_STREAMING = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
TERMINATED = "The request body terminated unexpectedly"
WRONG_LENGTH = "You did not provide the number of bytes specified by the Content-Length HTTP header"
_HEX = re.compile(rb"[0-9a-fA-F]+")


class IncompleteBody(Exception):
    """S3's 400 ``IncompleteBody`` for an aws-chunked body, with its message."""

    code = "IncompleteBody"


def decode(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """The data and the trailing headers (names lower-cased) of a whole aws-chunked body; ``IncompleteBody``
    when it is not one: a size line that is not hexadecimal, a chunk not followed by CRLF or cut short, no
    last chunk, a trailer without a colon, no closing empty line, or bytes after it."""
    position = 0

    def line() -> bytes:
        nonlocal position
        end = raw.find(b"\r\n", position)
        if end < 0:
            raise IncompleteBody(TERMINATED)
        found, position = raw[position:end], end + 2
        return found

    data = bytearray()
    while True:
        size_text = line().split(b";", 1)[0]
        if not _HEX.fullmatch(size_text):
            raise IncompleteBody(TERMINATED)
        size = int(size_text, 16)
        if size == 0:
            break
        chunk = raw[position : position + size]
        if len(chunk) != size or raw[position + size : position + size + 2] != b"\r\n":
            raise IncompleteBody(TERMINATED)
        data += chunk
        position += size + 2
    trailers: dict[str, str] = {}
    while header := line():
        name, colon, value = header.partition(b":")
        if not colon or not name.strip():
            raise IncompleteBody(TERMINATED)
        trailers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    if position != len(raw):
        raise IncompleteBody(TERMINATED)
    return bytes(data), trailers


def decoded_body(raw: bytes, declared_length: str | None) -> bytes:
    """The data of an aws-chunked body, checked against ``x-amz-decoded-content-length`` when it is given."""
    data, _ = decode(raw)
    if declared_length is not None and (not declared_length.isdigit() or int(declared_length) != len(data)):
        raise IncompleteBody(WRONG_LENGTH)
    return data


def install() -> None:
    """Decode aws-chunked bodies strictly in moto's S3, refusing a malformed one after authorization."""
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response

    if getattr(S3Response, "_strict_aws_chunked", False):
        return
    S3Response._strict_aws_chunked = True  # type: ignore[attr-defined]

    def decode_or_refuse(self: Any, raw: bytes) -> bytes:
        try:
            return decoded_body(raw, self.headers.get("x-amz-decoded-content-length"))
        except IncompleteBody as refused:
            self._aws_chunked_refusal = refused
            return b""

    def handle_encoded_body(self: Any, body: io.BufferedIOBase | bytes) -> bytes:
        return decode_or_refuse(self, body if isinstance(body, bytes) else body.read())

    def handle_v4_chunk_signatures(self: Any, body: bytes, content_length: int) -> bytes:
        return decode_or_refuse(self, body)

    S3Response._handle_encoded_body = handle_encoded_body  # type: ignore[method-assign]
    S3Response._handle_v4_chunk_signatures = handle_v4_chunk_signatures  # type: ignore[method-assign]

    setup_class = S3Response.setup_class

    def setup(self: Any, request: Any, full_url: str | None = None, headers: Any = None) -> None:
        self._aws_chunked_refusal = None
        declared = request.headers.get("x-amz-decoded-content-length")
        unreadable_length = request.headers.get("x-amz-content-sha256") in SIGNED_STREAMING and not (
            declared is not None and str(declared).isdigit()
        )
        if not unreadable_length:
            setup_class(self, request, full_url, headers)
            return
        # moto reads the declared length with int() as its last set-up step, before its error handling.
        try:
            setup_class(self, request, full_url, headers)
        except (KeyError, ValueError):
            self.body = b""
            self._aws_chunked_refusal = IncompleteBody(WRONG_LENGTH)

    S3Response.setup_class = setup  # type: ignore[method-assign]

    authorize = S3Response._authenticate_and_authorize_s3_action

    def authorize_then_refuse(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        authorize(self, bucket_name=bucket_name, key_name=key_name)
        refused: IncompleteBody | None = getattr(self, "_aws_chunked_refusal", None)
        if refused is not None:
            raise S3ClientError(refused.code, str(refused))

    S3Response._authenticate_and_authorize_s3_action = authorize_then_refuse  # type: ignore[method-assign]
