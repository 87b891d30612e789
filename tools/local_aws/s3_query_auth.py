"""S3 requests without an Authorization header, judged under IAM enforcement as S3 judges them.

moto's enforcement reads the caller from the ``Authorization`` header only: a presigned URL (SigV4 in the
query string) or an anonymous request made it fail with ``KeyError``, answered as a 500 HTML page, so a
presigned upload could neither succeed nor be refused as S3 refuses it. S3 instead:

- authenticates a presigned URL by its query string (SigV4 query authentication): the six ``X-Amz-*``
  parameters are required, the algorithm must be ``AWS4-HMAC-SHA256``, ``X-Amz-Expires`` at most a week, the
  credential scope ``<key>/<yyyymmdd>/<region>/s3/aws4_request`` with the date of ``X-Amz-Date`` (400
  ``AuthorizationQueryParametersError`` otherwise); the key must exist (403 ``InvalidAccessKeyId``) and a
  role session's ``X-Amz-Security-Token`` be its own (400 ``InvalidToken``); the signature is recomputed
  over the method, path, query (all but ``X-Amz-Signature``), the signed headers and ``UNSIGNED-PAYLOAD``
  (403 ``SignatureDoesNotMatch``: a changed key, query parameter or signed header such as
  ``x-amz-checksum-sha256``); a URL used before ``X-Amz-Date`` or after ``X-Amz-Expires`` seconds is
  403 ``AccessDenied`` ("Request is not valid yet" / "Request has expired"). The signer's identity policies
  then authorize the request exactly as for a signed one (``tools.local_aws.iam_resources``), and the
  request is in the signer's account;
- answers a SigV2 query string (``AWSAccessKeyId``/``Signature``) with 400 ``InvalidRequest``, as regions
  that take SigV4 only do (the service always presigns with SigV4);
- refuses an anonymous request with 403 ``AccessDenied``.

Not modelled: public access granted to anonymous callers by a bucket policy or ACL (refused: the service
never makes a bucket public); the credential scope's region (any region signs); presigned POST forms.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
# S3's longest presigned validity, in seconds.
MAX_EXPIRES = 604800
_REQUIRED = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_AMZ_DATE = re.compile(r"^\d{8}T\d{6}Z$")


class QueryAuthError(Exception):
    """Why S3 refuses a request's query-string authentication, as its error code and message (moto's S3
    model gives the code its status: 403 for AccessDenied, 400 for the others here)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _parameter_error(message: str) -> QueryAuthError:
    return QueryAuthError("AuthorizationQueryParametersError", message)


def query_pairs(path: str) -> list[tuple[str, str]]:
    """The query of a request path (``/bucket/key?a=1&b``) as decoded (name, value) pairs, in order."""
    query = path.partition("?")[2]
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def is_query_signed(path: str) -> bool:
    """Whether the request tries query-string authentication (SigV4, or SigV2's ``Signature``)."""
    names = {name.lower() for name, _ in query_pairs(path)}
    return bool(names & {"x-amz-algorithm", "x-amz-credential", "x-amz-signature", "signature"})


class PresignedRequest:
    """A SigV4 presigned request's parameters, checked for form (``parse``) as S3 checks them before it
    looks at the key."""

    def __init__(self, method: str, path: str, headers: Mapping[str, Any]) -> None:
        self.method, self.path, self.headers = method, path, headers
        self.pairs = query_pairs(path)
        self.params = {name: value for name, value in self.pairs}

    @classmethod
    def parse(cls, method: str, path: str, headers: Mapping[str, Any]) -> PresignedRequest:
        request = cls(method, path, headers)
        params = request.params
        if "X-Amz-Algorithm" not in params and "Signature" in params:
            raise QueryAuthError(
                "InvalidRequest",
                f"The authorization mechanism you have provided is not supported. Please use {ALGORITHM}.",
            )
        if any(name not in params for name in _REQUIRED):
            raise _parameter_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            )
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise _parameter_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
        if not _AMZ_DATE.match(params["X-Amz-Date"]):
            raise _parameter_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise _parameter_error("X-Amz-Expires should be a number") from None
        if expires < 0:
            raise _parameter_error("X-Amz-Expires must be non-negative")
        if expires > MAX_EXPIRES:
            raise _parameter_error(
                f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_EXPIRES}"
            )
        scope = params["X-Amz-Credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
            raise _parameter_error(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            )
        if scope[1] != params["X-Amz-Date"][:8]:
            raise _parameter_error(
                f'Error parsing the X-Amz-Credential parameter; incorrect date format "{scope[1]}". '
                'This date in the credential must be in the format "yyyyMMdd".'
            )
        if scope[3] != "s3":
            raise _parameter_error(
                f'Error parsing the X-Amz-Credential parameter; incorrect service "{scope[3]}". '
                'This endpoint belongs to "s3".'
            )
        return request

    @property
    def access_key_id(self) -> str:
        return self.params["X-Amz-Credential"].split("/", 1)[0]

    @property
    def region(self) -> str:
        return self.params["X-Amz-Credential"].split("/")[2]

    @property
    def session_token(self) -> str | None:
        return self.params.get("X-Amz-Security-Token")

    @property
    def signed_at(self) -> datetime:
        return datetime.strptime(self.params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    def canonical_request(self) -> str:
        """SigV4's canonical request for S3 query authentication: the path as sent (S3 does not normalise
        it), every query parameter but the signature, the signed headers, and an unsigned payload."""
        uri = quote(unquote(self.path.partition("?")[0]), safe="/~")
        encoded = sorted(
            (quote(name, safe="-_.~"), quote(value, safe="-_.~"))
            for name, value in self.pairs
            if name != "X-Amz-Signature"
        )
        query = "&".join(f"{name}={value}" for name, value in encoded)
        signed = self.params["X-Amz-SignedHeaders"].lower().split(";")
        lines = []
        for name in signed:
            value = self.headers.get(name)
            lines.append(f"{name}:{' '.join(str(value).split()) if value is not None else ''}\n")
        return "\n".join(
            [self.method.upper(), uri, query, "".join(lines), ";".join(signed), "UNSIGNED-PAYLOAD"]
        )

    def expected_signature(self, secret_access_key: str) -> str:
        scope = self.params["X-Amz-Credential"].split("/", 1)[1]
        digest = hashlib.sha256(self.canonical_request().encode()).hexdigest()
        to_sign = "\n".join([ALGORITHM, self.params["X-Amz-Date"], scope, digest])
        key = f"AWS4{secret_access_key}".encode()
        for part in scope.split("/"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def signature_matches(self, secret_access_key: str) -> bool:
        return hmac.compare_digest(self.expected_signature(secret_access_key), self.params["X-Amz-Signature"])

    def validity_refusal(self, now: datetime | None = None) -> QueryAuthError | None:
        """S3's answer to a URL used outside its validity window; None inside it."""
        moment = now or datetime.now(UTC)
        if moment < self.signed_at:
            return QueryAuthError("AccessDenied", "Request is not valid yet")
        if moment > self.signed_at + timedelta(seconds=int(self.params["X-Amz-Expires"])):
            return QueryAuthError("AccessDenied", "Request has expired")
        return None


def _s3_error(error: QueryAuthError) -> Exception:
    """The refusal as moto's S3 serializes it (the S3 error document with the code's status)."""
    from moto.s3.exceptions import S3ClientError

    return S3ClientError(error.code, error.message)


def install() -> None:
    """Patch moto's S3 enforcement (``S3IAMRequest``) and the caller's account for presigned requests."""
    from moto.iam.access_control import CreateAccessKeyFailure, S3IAMRequest, create_access_key
    from moto.s3.responses import S3Response
    from moto.utilities.utils import get_partition

    if getattr(S3IAMRequest, "_judges_query_auth", False):
        return
    S3IAMRequest._judges_query_auth = True  # type: ignore[attr-defined]
    header_init = S3IAMRequest.__init__
    header_signature = S3IAMRequest.check_signature

    def __init__(
        self: Any,
        account_id: str,
        method: str,
        path: str,
        data: dict[str, str],
        body: bytes,
        headers: Any,
        action: str,
    ) -> None:
        self._presigned = None
        if "Authorization" in headers:
            header_init(self, account_id, method, path, data, body, headers, action)
            return
        self.account_id, self._method, self._path = account_id, method, path
        self._data, self._body, self._headers = data, body, headers
        if not is_query_signed(path):
            self._raise_access_denied()  # anonymous: no public access is modelled
        try:
            presigned = PresignedRequest.parse(method, path, headers)
        except QueryAuthError as refused:
            raise _s3_error(refused) from None
        self._presigned = presigned
        self._region, self._service = presigned.region, "s3"
        self._action = f"s3:{action[0] if isinstance(action, list) else action}"
        token = presigned.session_token
        try:
            self._access_key = create_access_key(
                account_id=account_id,
                partition=get_partition(presigned.region),
                access_key_id=presigned.access_key_id,
                headers={"X-Amz-Security-Token": token} if token is not None else {},
            )
        except CreateAccessKeyFailure as failure:
            self._raise_invalid_access_key(failure.reason)

    def check_signature(self: Any) -> None:
        presigned: PresignedRequest | None = self._presigned
        if presigned is None:
            header_signature(self)
            return
        if not presigned.signature_matches(self._access_key.create_credentials().secret_key):
            self._raise_signature_does_not_match()
        refusal = presigned.validity_refusal()
        if refusal is not None:
            raise _s3_error(refusal)

    S3IAMRequest.__init__ = __init__  # type: ignore[method-assign]
    S3IAMRequest.check_signature = check_signature  # type: ignore[method-assign]

    # The request acts in the signer's account, found from the query's credential as from the header's.
    header_access_key = S3Response.get_access_key

    def get_access_key(self: Any) -> str:
        if "Authorization" not in self.headers:
            credential = self.querystring.get("X-Amz-Credential")
            if credential:
                return str(credential[0]).split("/", 1)[0]
        return str(header_access_key(self))

    S3Response.get_access_key = get_access_key  # type: ignore[method-assign]
