"""vpc-endpoint-policy (stack level): every endpoint has a policy, and no Allow in it is open to everyone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import (
    ACCOUNT,
    BUCKET_ARN,
    U_STR,
    Res,
    allow,
    clean_room,
    deny,
    doc,
    endpoint_doc,
    in_account,
    replace,
    run_everything,
    run_stack,
)

RULE = "vpc-endpoint-policy"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ENDPOINT_POLICY = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
OBJECTS = f"{BUCKET_ARN}/*"


def _endpoint(policy: Any = None, name: str = "ep", **props: Any) -> Res:
    body = {"id": f"{name}-id", "vpcId": "vpc-1", "serviceName": "com.amazonaws.us-east-1.s3", **props}
    if policy is not None:
        body["policy"] = policy
    return Res(ENDPOINT, name, body)


def _only(policy: Any) -> list[Any]:
    return run_stack(RULE, [_endpoint(policy)])


def test_clean_room_endpoint_passes() -> None:
    assert run_stack(RULE, clean_room()) == []


@pytest.mark.parametrize(
    "policy",
    [
        endpoint_doc(allow(["s3:GetObject"], [BUCKET_ARN, OBJECTS])),
        # Resource '*' and Principal '*' are fine with an account condition: aws:ResourceAccount...
        doc(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["ssm:UpdateInstanceInformation"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": [ACCOUNT]}},
            }
        ),
        # ...or the organization.
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
            }
        ),
        # A named principal needs no condition.
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ws"},
                "Action": "s3:GetObject",
                "Resource": OBJECTS,
            }
        ),
        # Deny statements restrict, whatever they say.
        doc(in_account(allow("s3:GetObject", OBJECTS)), deny("*", "*", Principal="*")),
        # As a dict (PolicyDocumentArgs) and with lower-case keys.
        {"version": "2012-10-17", "statement": [in_account(allow("s3:GetObject", OBJECTS))]},
        U_STR,  # preview: cannot be judged yet
    ],
)
def test_fenced_policies_pass(policy: Any) -> None:
    assert _only(policy) == []


def test_missing_policy_is_a_violation() -> None:
    (found,) = _only(None)
    assert "no endpoint policy" in found.message and found.urn and found.urn.endswith("::ep")
    assert RULE in run_everything(replace(clean_room(), "ep-s3", policy=None))
    assert RULE in run_everything(replace(clean_room(), "ep-s3", policy=""))


def test_separate_endpoint_policy_resource_counts() -> None:
    good = endpoint_doc(allow("s3:GetObject", OBJECTS))
    by_id = Res(ENDPOINT_POLICY, "ep-policy", {"vpcEndpointId": "ep-id", "policy": good})
    assert run_stack(RULE, [_endpoint(), by_id]) == []
    by_dependency = Res(
        ENDPOINT_POLICY, "ep-policy", {"vpcEndpointId": U_STR, "policy": good}, deps={"vpcEndpointId": ["ep"]}
    )
    assert run_stack(RULE, [_endpoint(id=U_STR), by_dependency]) == []
    # One for another endpoint leaves this one open.
    other = Res(ENDPOINT_POLICY, "ep-policy", {"vpcEndpointId": "vpce-0other", "policy": good})
    (found,) = run_stack(RULE, [_endpoint(), other])
    assert "no endpoint policy" in found.message


def test_separate_endpoint_policy_document_is_judged() -> None:
    bad = Res(ENDPOINT_POLICY, "ep-policy", {"vpcEndpointId": "ep-id", "policy": doc(allow("*", "*"))})
    found = run_stack(RULE, [_endpoint(), bad])
    assert found and all(v.urn and v.urn.endswith("::ep-policy") for v in found)
    assert RULE in run_everything([*clean_room(), bad])


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (in_account(allow("*", OBJECTS)), "Action '*'"),
        (in_account(allow("*:*", OBJECTS)), "Action '*'"),
        (in_account(allow(["s3:GetObject", "*"], OBJECTS)), "Action '*'"),
        (in_account(allow("s3:*", "*")), "every action on every resource"),
        (in_account(allow("s3:*", "arn:aws:s3:::*")), "every action on every resource"),
        (in_account(allow("S3:*", "arn:aws:s3:::*/*")), "every action on every resource"),
        (allow("s3:GetObject", OBJECTS, Principal="*"), "Principal '*'"),
        (allow("s3:GetObject", OBJECTS, Principal={"AWS": "*"}), "Principal '*'"),
        (allow("s3:GetObject", OBJECTS, Principal={"AWS": ["*"]}), "Principal '*'"),
        (allow("s3:GetObject", OBJECTS), "Principal '*'"),  # no Principal at all: everyone
        (allow("s3:GetObject", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), "Resource *"),
        (allow("s3:GetObject", "arn:aws:*:*:*:*", Principal={"AWS": "arn:aws:iam::1:root"}), "Resource"),
        (allow("s3:GetObject", "arn:*", Principal={"AWS": "arn:aws:iam::1:root"}), "Resource"),
        # Conditions that do not pin an account.
        (
            allow(
                "s3:GetObject",
                OBJECTS,
                Principal="*",
                Condition={"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}},
            ),
            "Principal '*'",
        ),
        (
            allow(
                "s3:GetObject",
                OBJECTS,
                Principal="*",
                Condition={"StringLike": {"aws:PrincipalAccount": "*"}},
            ),
            "Principal '*'",
        ),
        (
            allow(
                "s3:GetObject", OBJECTS, Principal="*", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}
            ),
            "Principal '*'",
        ),
        (
            allow(
                "s3:GetObject",
                OBJECTS,
                Principal="*",
                Condition={"StringEquals": {"aws:PrincipalAccount": "*"}},
            ),
            "Principal '*'",
        ),
        (
            allow(
                "s3:GetObject",
                OBJECTS,
                Principal="*",
                Condition={"StringNotEquals": {"aws:PrincipalAccount": "1"}},
            ),
            "Principal '*'",
        ),
        (in_account({"Effect": "Allow", "NotAction": "s3:DeleteObject", "Resource": OBJECTS}), "NotAction"),
        (in_account({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECTS}), "NotResource"),
        (
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                "Action": "s3:*",
                "Resource": OBJECTS,
            },
            "NotPrincipal",
        ),
    ],
)
def test_open_statements_are_violations(statement: dict[str, Any], expected: str) -> None:
    found = _only(doc(statement))
    assert found and any(expected in v.message for v in found), [v.message for v in found]
    assert RULE in run_everything(replace(clean_room(), "ep-s3", policy=doc(statement)))


def test_a_single_statement_object_and_invalid_json() -> None:
    single = json.dumps({"Version": "2012-10-17", "Statement": allow("s3:*", "*", Principal="*")})
    assert _only(single)
    (found,) = _only("{not json")
    assert "not a JSON policy document" in found.message
