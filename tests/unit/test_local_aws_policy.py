"""The local AWS judges the evidence bucket policy as S3 does: TLS, and the caller's principal ARN."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.support.aws import clients_with
from tools.local_aws.aws import LocalAws

# One worker runs the module, so its own local AWS (the `aws` module fixture, about 2.4 CPU-s to start and
# stop) is started once, not once per worker that gets one of its tests.
pytestmark = pytest.mark.xdist_group(name="local-aws-policy")
BUCKET = "policy-judged"
ROLE = "arn:aws:iam::123456789012:role/evidence-reader"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        s3 = local.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="marker/", Body=b"")
        statements = [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "NotResource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/marker/"],
                "Condition": {"StringNotLike": {"aws:PrincipalArn": [ROLE]}},
            },
        ]
        s3.put_bucket_policy(
            Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
        )
        yield local


def _as_role(aws: LocalAws, endpoint: str | None = None) -> object:
    creds = aws.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="unit")["Credentials"]
    return clients_with(creds, endpoint_url=endpoint or aws.endpoint_url, region="us-east-1")("s3")


def test_the_named_role_over_tls_is_let_in(aws: LocalAws) -> None:
    _as_role(aws).put_object(Bucket=BUCKET, Key="evidence.bin", Body=b"x")  # type: ignore[attr-defined]


def test_anyone_else_is_denied(aws: LocalAws) -> None:
    with pytest.raises(ClientError):
        aws.client("s3").put_object(Bucket=BUCKET, Key="evidence.bin", Body=b"x")


def test_not_resource_exempts_the_marker(aws: LocalAws) -> None:
    aws.client("s3").put_object(Bucket=BUCKET, Key="marker/", Body=b"")
