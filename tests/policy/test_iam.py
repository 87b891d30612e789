"""iam-no-wildcards, no-aws-managed-admin, separation-of-duties."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .harness import (
    BUCKET_ARN,
    KEY_ARN,
    ROOT,
    U_STR,
    Res,
    allow,
    clean_room,
    deny,
    doc,
    role,
    role_policy,
    run_everything,
    run_resource,
    run_stack,
)

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECTS = f"{BUCKET_ARN}/*"

# ---------------------------------------------------------------------------------- iam-no-wildcards


def test_scoped_policies_pass() -> None:
    good = doc(allow(["s3:GetObject"], OBJECTS), deny("*", "*"))  # a deny-all is how the service freezes
    assert run_resource("iam-no-wildcards", ROLE_POLICY, {"role": "r", "policy": good}) == []
    assert run_resource("iam-no-wildcards", "aws:iam/policy:Policy", {"policy": json.loads(good)}) == []
    assert run_resource("iam-no-wildcards", ROLE, {"inlinePolicies": [{"name": "x", "policy": good}]}) == []
    assert run_resource("iam-no-wildcards", ROLE_POLICY, {"role": "r", "policy": U_STR}) == []


def test_kms_key_policy_with_spelled_out_actions_passes() -> None:
    spelled = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/forensics-break-glass"},
            "Action": ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/custodian"},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
    )
    assert run_resource("iam-no-wildcards", "aws:kms/key:Key", {"policy": spelled}) == []


@pytest.mark.parametrize(
    "principal", [ROOT, "123456789012", {"AWS": ROOT}, {"AWS": [" " + ROOT]}, {"AWS": ["123456789012"]}]
)
@pytest.mark.parametrize("actions", [["kms:*"], ["kms:Decrypt"], "*"])
def test_kms_key_policy_refuses_the_root_and_kms_star(principal: object, actions: object) -> None:
    """The old default key policy (root kms:*) and every spelling of it is refused now."""
    principal = principal if isinstance(principal, dict) else {"AWS": principal}
    policy = doc({"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"})
    messages = [v.message for v in run_resource("iam-no-wildcards", "aws:kms/key:Key", {"policy": policy})]
    assert any("account root" in m for m in messages), messages
    if actions != ["kms:Decrypt"]:
        assert any("spell out each principal's key actions" in m for m in messages), messages


PERSON_TAGS = {"forensics:role": "custodian"}
TAGGED = {"StringEquals": {"aws:RequestTag/forensics-investigation": "inv-1"}}


@pytest.mark.parametrize(
    ("trust", "tags", "words"),
    [
        ({"Principal": {"AWS": ROOT}}, {}, "account root"),
        ({"Principal": {"AWS": "123456789012"}}, {}, "account root"),
        ({"Principal": {"AWS": "arn:aws:iam::123456789012:role/IR"}}, PERSON_TAGS, "without MFA"),
        (
            {"Principal": {"AWS": "arn:aws:iam::123456789012:role/IR"}, "Condition": TAGGED},
            PERSON_TAGS,
            "without MFA",
        ),
        (
            {
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/IR"},
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            PERSON_TAGS,
            "session tag",
        ),
    ],
)
def test_role_trust_refuses_roots_and_unconditioned_people(
    trust: dict[str, object], tags: dict[str, str], words: str
) -> None:
    policy = doc({"Effect": "Allow", "Action": "sts:AssumeRole", **trust})
    messages = [
        v.message for v in run_resource("iam-no-wildcards", ROLE, {"assumeRolePolicy": policy, "tags": tags})
    ]
    assert messages and words in messages[0], messages


@pytest.mark.parametrize(
    "condition",
    [
        {**TAGGED, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
        {**TAGGED, "Null": {"sts:SourceIdentity": "false"}},
    ],
)
def test_role_trust_with_mfa_or_source_identity_and_the_tag_passes(condition: dict[str, object]) -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/IR"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": condition,
        }
    )
    assert run_resource("iam-no-wildcards", ROLE, {"assumeRolePolicy": policy, "tags": PERSON_TAGS}) == []
    # A service's role (the workstation's) needs none of that.
    service = doc(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    assert run_resource("iam-no-wildcards", ROLE, {"assumeRolePolicy": service, "tags": {}}) == []


@pytest.mark.parametrize(
    ("rtype", "props", "expected"),
    [
        (ROLE_POLICY, {"policy": doc(allow("*", OBJECTS))}, "Action '*'"),
        (ROLE_POLICY, {"policy": doc(allow("*:*", OBJECTS))}, "Action '*'"),
        (ROLE_POLICY, {"policy": doc(allow("s3:GetObject", "*"))}, "Resource '*'"),
        (
            ROLE_POLICY,
            {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": OBJECTS})},
            "NotAction",
        ),
        (
            "aws:iam/policy:Policy",
            {
                "policy": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            },
            "Action '*'",
        ),
        (ROLE, {"inlinePolicies": [{"name": "admin", "policy": doc(allow("s3:*", "*"))}]}, "inline policy"),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            {"policy": doc(allow("s3:GetObject", "*", Principal={"AWS": ROOT}))},
            "Resource '*'",
        ),
        (
            "aws:s3/bucketPolicy:BucketPolicy",
            {"policy": doc(allow("s3:GetObject", OBJECTS, Principal="*"))},
            "Principal '*'",
        ),
        (
            "aws:kms/key:Key",
            {
                "policy": doc(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::1:role/x"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                )
            },
            "kms:*",
        ),
        (
            ROLE,
            {
                "assumeRolePolicy": doc(
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                )
            },
            "assume-role",
        ),
    ],
)
def test_wildcards_are_violations(rtype: str, props: dict[str, object], expected: str) -> None:
    found = run_resource("iam-no-wildcards", rtype, props, "p")
    assert found and any(expected in v.message for v in found), [v.message for v in found]


# ------------------------------------------------------------------------------ no-aws-managed-admin
def test_least_privilege_attachment_passes() -> None:
    props = {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    assert (
        run_resource("no-aws-managed-admin", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", props) == []
    )
    assert run_resource("no-aws-managed-admin", ROLE, {"managedPolicyArns": []}) == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/IAMFullAccess",
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AmazonEC2FullAccess",
        "arn:aws:iam::aws:policy/AWSCloudTrail_FullAccess",
    ],
)
def test_managed_admin_policies_are_violations(arn: str) -> None:
    attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert len(run_resource("no-aws-managed-admin", attachment, {"role": "r", "policyArn": arn})) == 1
    assert len(run_resource("no-aws-managed-admin", ROLE, {"managedPolicyArns": [arn]})) == 1


# ------------------------------------------------------------------------------ separation-of-duties
SOD = "separation-of-duties"


def test_clean_room_roles_pass() -> None:
    assert run_stack(SOD, clean_room()) == []


def _with(*extra: Res) -> list[Res]:
    return [*clean_room(), *extra]


@pytest.mark.parametrize(
    ("role_name", "statement", "expected"),
    [
        ("investigator-role", allow(["s3:DeleteObject"], OBJECTS), "s3:DeleteObject"),
        ("investigator-role", allow(["s3:Delete*"], OBJECTS), "s3:DeleteObjectVersion"),
        ("investigator-role", allow(["s3:PutObjectLegalHold"], OBJECTS), "s3:PutObjectLegalHold"),
        ("responder-role", allow(["s3:DeleteObject"], OBJECTS), "s3:DeleteObject"),
        ("responder-role", allow(["s3:PutObjectRetention"], OBJECTS), "s3:PutObjectRetention"),
        ("custodian-role", allow(["s3:BypassGovernanceRetention"], OBJECTS), "s3:BypassGovernanceRetention"),
        (
            "custodian-role",
            allow(["s3:PutBucketObjectLockConfiguration"], BUCKET_ARN),
            "ObjectLockConfiguration",
        ),
        ("custodian-role", allow(["s3:DeleteBucket"], BUCKET_ARN), "s3:DeleteBucket"),
        ("analyst-role", allow(["s3:GetObject"], f"{BUCKET_ARN}/incoming/*"), "incoming/*"),
        ("analyst-role", allow(["s3:Get*"], OBJECTS), "analysts may read only"),
        (
            "analyst-role",
            allow(["s3:PutObject"], f"{BUCKET_ARN}/active-investigation/reports/*"),
            "s3:PutObject",
        ),
    ],
)
def test_duty_violations(role_name: str, statement: dict[str, object], expected: str) -> None:
    found = run_stack(SOD, _with(role_policy("extra", role_name, doc(statement))))
    assert found and any(expected in v.message for v in found), [v.message for v in found]
    assert all(v.urn and v.urn.endswith(f"::{role_name}") for v in found)


def test_custodian_may_manage_legal_hold_and_deny_statements_are_ignored() -> None:
    extra = role_policy("freeze", "analyst-role", doc(deny("*", "*")))
    assert run_stack(SOD, _with(extra)) == []


def test_inline_policy_violation_and_role_identified_by_name() -> None:
    rogue = role(
        "case-1-analyst", None, inline=[{"name": "read-all", "policy": doc(allow("s3:GetObject", OBJECTS))}]
    )
    (found,) = run_stack(SOD, _with(rogue))
    assert "analyst" in found.message and found.urn and found.urn.endswith("::case-1-analyst")


def test_non_duty_role_tag_is_not_checked_as_a_duty() -> None:
    # e.g. the workstation's instance role, tagged forensics:role=workstation, named "...-analyst-box"
    box = role(
        "case-1-analyst-box",
        "workstation",
        inline=[{"name": "x", "policy": doc(allow("s3:GetObject", OBJECTS))}],
    )
    assert run_stack(SOD, _with(box)) == []


def test_preview_matches_role_policies_through_dependencies() -> None:
    inv = role("investigator-role", "investigator")
    inv.props["name"] = U_STR
    bad = Res(
        ROLE_POLICY,
        "bad",
        {"role": U_STR, "policy": doc(allow("s3:DeleteObject", OBJECTS))},
        deps={"role": ["investigator-role"]},
    )
    (found,) = run_stack(SOD, [inv, bad])
    assert "s3:DeleteObject" in found.message


def test_attached_in_stack_policy_counts() -> None:
    policy = Res(
        "aws:iam/policy:Policy",
        "inv-managed",
        {
            "arn": "arn:aws:iam::123456789012:policy/inv",
            "policy": doc(allow("s3:DeleteObjectVersion", OBJECTS)),
        },
    )
    attach = Res(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "attach",
        {"role": "investigator-role", "policyArn": "arn:aws:iam::123456789012:policy/inv"},
    )
    (found,) = run_stack(SOD, _with(policy, attach))
    assert "s3:DeleteObjectVersion" in found.message
    assert KEY_ARN


# ------------------------------------------------------------------ wildcards, whatever their spelling
@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (allow("**", OBJECTS), "Action '*'"),
        (allow("*:*", OBJECTS), "Action '*'"),
        (allow("s3:GetObject", "arn:*:*:*:*:*"), "Resource '*'"),
        (allow("s3:GetObject", "arn:aws:*:*:*:*"), "Resource '*'"),
        (allow("s3:GetObject", "arn:*"), "Resource '*'"),
        (allow("s3:*", "arn:aws:s3:::*"), "service-wide wildcard"),
        (allow("s3:*", "arn:aws:s3:::*/*"), "service-wide wildcard"),
        (
            allow("S3:*", ["arn:aws:s3:::forensics-case-1-evidence", "arn:aws:s3:::*"]),
            "service-wide wildcard",
        ),
        (allow("kms:*", "arn:aws:kms:*:*:key/*"), "service-wide wildcard"),
        (allow("kms:*", f"arn:aws:kms:us-east-1:{ROOT.split(':')[4]}:key/*"), "service-wide wildcard"),
        (allow("iam:*", "arn:aws:iam::123456789012:role/*"), "service-wide wildcard"),
        (allow("iam:*", "arn:aws:iam::*:*"), "service-wide wildcard"),
        (allow("logs:*", "arn:aws:logs:us-east-1:123456789012:log-group:*"), "service-wide wildcard"),
        (allow("ec2:*", "arn:aws:*:us-east-1:123456789012:*"), "Resource '*'"),
    ],
)
def test_wildcard_spellings_are_violations(statement: dict[str, object], expected: str) -> None:
    for rtype, props in (
        (ROLE_POLICY, {"role": "r", "policy": doc(statement)}),
        ("aws:iam/policy:Policy", {"policy": doc(statement)}),
        ("aws:iam/userPolicy:UserPolicy", {"user": "u", "policy": doc(statement)}),
        ("aws:iam/groupPolicy:GroupPolicy", {"group": "g", "policy": doc(statement)}),
        (ROLE, {"inlinePolicies": [{"name": "x", "policy": doc(statement)}]}),
    ):
        found = run_resource("iam-no-wildcards", rtype, props, "p")
        assert found and any(expected in v.message for v in found), (rtype, [v.message for v in found])
    assert "iam-no-wildcards" in run_everything(
        [*clean_room(), role_policy("extra", "analyst-role", doc(statement))]
    )


@pytest.mark.parametrize(
    "statement",
    [
        allow("s3:*", [BUCKET_ARN, OBJECTS]),  # every action, on one bucket
        allow("s3:Get*", "arn:aws:s3:::forensics-*/*"),  # a name prefix is not every bucket
        allow("s3:*", "arn:aws:kms:us-east-1:123456789012:key/*"),  # s3 actions do nothing on keys
        allow("kms:*", KEY_ARN),
        allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:*"),  # not service-wide
    ],
)
def test_scoped_service_wildcards_pass(statement: dict[str, object]) -> None:
    assert run_resource("iam-no-wildcards", ROLE_POLICY, {"role": "r", "policy": doc(statement)}) == []


@pytest.mark.parametrize("rtype", ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"])
def test_inline_bucket_policy_is_a_bucket_policy(rtype: str) -> None:
    props = {"bucket": "b", "policy": doc(allow("s3:GetObject", OBJECTS, Principal="*"))}
    (found,) = run_resource("iam-no-wildcards", rtype, props, "b")
    assert "Principal '*'" in found.message


# ------------------------------------------------------------- admin-equivalent managed policies
ATTACHMENTS: list[tuple[str, Callable[[str], dict[str, object]]]] = [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", lambda arn: {"role": "r", "policyArn": arn}),
    ("aws:iam/policyAttachment:PolicyAttachment", lambda arn: {"roles": ["r"], "policyArn": arn}),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", lambda arn: {"user": "u", "policyArn": arn}),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", lambda arn: {"group": "g", "policyArn": arn}),
    (ROLE, lambda arn: {"managedPolicyArns": [arn]}),
    (
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        lambda arn: {"roleName": "r", "policyArns": [arn]},
    ),
    (
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        lambda arn: {"userName": "u", "policyArns": [arn]},
    ),
    (
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
        lambda arn: {"groupName": "g", "policyArns": [arn]},
    ),
    (
        "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
        lambda arn: {"instanceArn": "i", "permissionSetArn": "p", "managedPolicyArn": arn},
    ),
    (
        "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
        lambda arn: {"instanceArn": "i", "permissionSetArn": "p", "managedPolicyArns": [arn]},
    ),
]


def _admin_arns() -> list[str]:
    from policy_packs.forensics.rules.iam import ADMIN_EQUIVALENT_MANAGED_POLICIES

    return [f"arn:aws:iam::aws:policy/{name}" for name in ADMIN_EQUIVALENT_MANAGED_POLICIES]


@pytest.mark.parametrize(("rtype", "props"), ATTACHMENTS, ids=[t.split(":")[-1] for t, _ in ATTACHMENTS])
@pytest.mark.parametrize(
    "arn",
    [
        *_admin_arns(),
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
        "arn:aws-cn:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/administratoraccess",
        " arn:aws:iam::aws:policy/IAMFullAccess ",
        "arn:aws:iam::aws:policy/AdministratorAccess-SomeFutureService",
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployFullAccess",
    ],
)
def test_admin_equivalent_policies_are_refused_through_every_attachment(
    rtype: str, props: object, arn: str
) -> None:
    body = props(arn)
    (found,) = run_resource("no-aws-managed-admin", rtype, body, "attach")
    assert arn in found.message
    assert "no-aws-managed-admin" in run_everything([Res(rtype, "attach", body)])


@pytest.mark.parametrize(("rtype", "props"), ATTACHMENTS, ids=[t.split(":")[-1] for t, _ in ATTACHMENTS])
def test_least_privilege_and_customer_policies_pass_every_attachment(
    rtype: str, props: Callable[[str], dict[str, object]]
) -> None:
    for arn in (
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::123456789012:policy/AdministratorAccess",  # a customer policy: judged by its document
        U_STR,
    ):
        assert run_resource("no-aws-managed-admin", rtype, props(arn)) == []


def test_attachment_types_exist_in_pulumi_aws() -> None:
    import importlib
    import inspect

    from policy_packs.forensics.rules.iam import MANAGED_POLICY_ARN_PROPS

    assert {t for t, _ in ATTACHMENTS} == set(MANAGED_POLICY_ARN_PROPS)
    for token, prop in MANAGED_POLICY_ARN_PROPS.items():
        module, cls = token.split(":")[1].split("/")[0], token.split(":")[2]
        resource = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls)
        assert f'"{token}"' in inspect.getsource(resource), token
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in prop)
        assert hasattr(resource, snake), (token, prop)


# ---------------------------------- spellings judged by meaning (an attacker picks the one a parser misses)
BREAK_GLASS = {"AWS": "arn:aws:iam::123456789012:role/forensics-break-glass"}


@pytest.mark.parametrize("action", ["kms:**", "kms:*Key*", "kms:?*", "KMS:*key*", "k?s:*", "kms:*crypt*"])
def test_a_key_policy_wildcard_is_judged_by_the_kms_actions_it_matches(action: str) -> None:
    """`kms:**` and `kms:?*` are kms:*; `kms:*Key*` takes in ScheduleKeyDeletion and PutKeyPolicy."""
    policy = doc({"Effect": "Allow", "Principal": BREAK_GLASS, "Action": [action], "Resource": "*"})
    messages = [v.message for v in run_resource("iam-no-wildcards", "aws:kms/key:Key", {"policy": policy})]
    assert any("spell out each principal's key actions" in m and action in m for m in messages), messages


@pytest.mark.parametrize("action", ["kms:Describe*", "kms:List*", "kms:Get*"])
def test_a_key_policy_wildcard_over_read_only_actions_passes(action: str) -> None:
    policy = doc({"Effect": "Allow", "Principal": BREAK_GLASS, "Action": [action], "Resource": "*"})
    assert run_resource("iam-no-wildcards", "aws:kms/key:Key", {"policy": policy}) == []


def test_an_identity_policy_wildcard_matching_a_whole_service_is_service_wide() -> None:
    """Every STS action has an "e" in its name: `sts:*e*` is `sts:*` however it is spelled."""
    policy = doc(allow("sts:*e*", "arn:aws:sts::123456789012:*"))
    messages = [
        v.message for v in run_resource("iam-no-wildcards", ROLE_POLICY, {"role": "r", "policy": policy})
    ]
    assert any("service-wide wildcard" in m for m in messages), messages


IR = {"AWS": "arn:aws:iam::123456789012:role/IR"}


@pytest.mark.parametrize(
    "condition",
    [
        # "Null true" means the key is absent: no MFA at all.
        {**TAGGED, "Null": {"aws:MultiFactorAuthPresent": "true"}},
        # IfExists: long-term credentials carry no MFA key, so they pass.
        {**TAGGED, "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
        {**TAGGED, "Bool": {"aws:MultiFactorAuthPresent": ["true", "false"]}},
        {**TAGGED, "Null": {"aws:MultiFactorAuthPresent": "false"}},
        # A session tag "pinned" to any value at all.
        {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "StringLike": {"aws:RequestTag/forensics-investigation": "*"},
        },
        {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "StringEquals": {"aws:RequestTag/forensics-investigation": ""},
        },
        {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "StringEqualsIfExists": {"aws:RequestTag/forensics-investigation": "inv-1"},
        },
        {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "Null": {"aws:RequestTag/forensics-investigation": "false"},
        },
        # A source identity "required" by a test that lets anything through.
        {**TAGGED, "StringNotEquals": {"sts:SourceIdentity": "false"}},
        {**TAGGED, "StringLike": {"sts:SourceIdentity": "*"}},
    ],
)
def test_a_persons_role_trust_is_judged_by_what_its_conditions_mean(condition: dict[str, object]) -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Principal": IR,
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": condition,
        }
    )
    messages = [
        v.message
        for v in run_resource("iam-no-wildcards", ROLE, {"assumeRolePolicy": policy, "tags": PERSON_TAGS})
    ]
    assert messages, f"{condition} was accepted as MFA/source identity plus the session tag"


@pytest.mark.parametrize("action", ["k?s:*", "km*:*", "?3:*"])
def test_a_wildcard_in_the_service_name_is_judged_by_the_services_it_matches(action: str) -> None:
    resource = "arn:aws:s3:::*" if action.endswith("3:*") else "arn:aws:kms:*:*:key/*"
    policy = doc(allow(action, resource))
    found = run_resource("iam-no-wildcards", ROLE_POLICY, {"role": "r", "policy": policy})
    messages = [v.message for v in found]
    assert any("service-wide wildcard" in m for m in messages), messages
