"""The local AWS's per-request lookups (tools/local_aws/request_routing.py) answer exactly as moto's own."""

from __future__ import annotations

import pytest
from moto.core.utils import method_names_from_class
from moto.ebs.responses import EBSResponse
from moto.ec2.responses import EC2Response
from moto.iam.responses import IamResponse
from moto.kms.responses import KmsResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.responses import S3Response
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.sts.responses import TokenResponse

from tools.local_aws.request_routing import FunctionNames

RESPONSE_CLASSES = (
    EC2Response,
    EBSResponse,
    IamResponse,
    KmsResponse,
    S3Response,
    SimpleSystemManagerResponse,
    TokenResponse,
)


@pytest.mark.parametrize("clazz", RESPONSE_CLASSES, ids=lambda c: c.__name__)
def test_function_names_answer_as_moto_lists_them(clazz: type) -> None:
    listed = set(method_names_from_class(clazz))
    names = FunctionNames(clazz)
    candidates = listed | {name for name in dir(clazz)} | {"", "no_such_action", "response_headers"}
    assert {name for name in candidates if name in names} == listed
    assert 42 not in names  # type: ignore[operator]


def test_a_method_added_later_counts() -> None:
    class Response(EBSResponse):
        pass

    names = FunctionNames(Response)
    assert "describe_everything" not in names
    Response.describe_everything = lambda self: None  # type: ignore[attr-defined]
    assert "describe_everything" in names


@pytest.mark.parametrize(
    "host",
    [
        None,
        "moto_api",
        "s3",
        "ec2.us-east-1.amazonaws.com",
        "ebs.us-east-1.amazonaws.com",
        "iam.amazonaws.com",
        "sts.us-east-1.amazonaws.com",
        "kms.eu-west-1.amazonaws.com",
        "bucket.s3.us-east-1.amazonaws.com",
        "s3.us-east-1.amazonaws.com",
        "unknown.example.com",
    ],
)
def test_the_backend_for_a_host_is_the_one_moto_finds(host: str | None) -> None:
    from tools.local_aws import request_routing

    request_routing.install()
    original = DomainDispatcherApplication.get_backend_for_host.__wrapped__  # type: ignore[attr-defined]
    app = DomainDispatcherApplication(create_backend_app)
    expected = original(app, host)
    assert app.get_backend_for_host(host) == expected
    assert app.get_backend_for_host(host) == expected  # the second answer, remembered
