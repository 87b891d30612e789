"""Just-in-time grants in the program: one trust statement per grant on its role only, limited in time and to
one person, left out while frozen (but the custodian's), validated strictly, and passed by the policy pack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from programs.forensic_env.config import ConfigError, validate_config
from programs.forensic_env.trust import TRUST_POLICY_MAX_CHARS
from tests.policy.harness import run_everything
from tests.programs.harness import ACCOUNT, ProgramRun, policy_resources, run_program
from tests.support.policy_documents import grant_statements, statements_of
from tests.support.stub_ec2 import stub_ec2

ALICE_ARN = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Forensics_0a1b2c3d4e5f"
)
BOB_ARN = "arn:aws:iam::210987654321:user/bob"
INVESTIGATOR_GRANT = {
    "role": "investigator",
    "principalArn": ALICE_ARN,
    "person": "alice@example.com",
    "expiresAt": "2031-05-04T13:00:00Z",
}
CUSTODIAN_GRANT = {
    "role": "custodian",
    "principalArn": BOB_ARN,
    "person": "bob",
    "expiresAt": "2031-05-04T15:30:00Z",
}
GRANTS = [INVESTIGATOR_GRANT, CUSTODIAN_GRANT]
TAG = "aws:RequestTag/forensics-investigation"


def _trust(run: ProgramRun, role: str) -> list[dict[str, Any]]:
    return statements_of(run.one("aws:iam/role:Role", f"-{role}").inputs["assumeRolePolicy"])


@pytest.fixture(scope="module")
def granted() -> ProgramRun:
    return run_program(grants=GRANTS)


@pytest.fixture(scope="module")
def granted_frozen() -> ProgramRun:
    return run_program(grants=GRANTS, frozen=True)


def test_a_grant_is_one_statement_on_its_role(granted: ProgramRun) -> None:
    (statement,) = grant_statements(_trust(granted, "investigator"))
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ALICE_ARN}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
    assert statement["Condition"] == {
        # STS itself refuses the role from the expiry on.
        "DateLessThan": {"aws:CurrentTime": "2031-05-04T13:00:00Z"},
        "StringEquals": {"sts:SourceIdentity": "alice@example.com", TAG: "inv-test-01"},
    }
    # The standing statement (MFA only) is untouched, and comes first.
    standing = _trust(granted, "investigator")[:1]
    assert [s["Sid"] for s in standing] == ["AssumeWithMfaForThisInvestigation"]
    (custodian,) = grant_statements(_trust(granted, "custodian"))
    assert custodian["Principal"] == {"AWS": BOB_ARN}
    assert custodian["Condition"]["StringEquals"]["sts:SourceIdentity"] == "bob"
    # Nobody else's role names either of them.
    for role in ("responder", "analyst"):
        assert grant_statements(_trust(granted, role)) == []
        assert len(_trust(granted, role)) == 1


def test_without_grants_the_trust_policies_are_the_standing_ones() -> None:
    run = run_program()
    for role in ("responder", "investigator", "custodian", "analyst"):
        assert grant_statements(_trust(run, role)) == []


def test_freeze_revokes_every_grant_but_the_custodians(granted_frozen: ProgramRun) -> None:
    assert grant_statements(_trust(granted_frozen, "investigator")) == []
    (custodian,) = grant_statements(_trust(granted_frozen, "custodian"))
    assert custodian["Principal"] == {"AWS": BOB_ARN}
    # Every grant is still declared: a release puts the remaining ones back.
    cfg = validate_config(
        {"investigationId": "inv-test-01", "ticket": "SEC-1", "grants": GRANTS, "frozen": True}
    )
    assert [g.role for g in cfg.grants] == ["investigator", "custodian"]
    assert [g.role for g in cfg.grants_in_force] == ["custodian"]


def test_the_frozen_responder_keeps_standing_access_but_loses_a_grant() -> None:
    grant = {**INVESTIGATOR_GRANT, "role": "responder"}
    running, frozen = run_program(grants=[grant]), run_program(grants=[grant], frozen=True)
    assert len(grant_statements(_trust(running, "responder"))) == 1
    assert grant_statements(_trust(frozen, "responder")) == []
    assert len(_trust(frozen, "responder")) == 1  # the standing statement


def test_an_expired_grant_is_still_declared() -> None:
    """The trust condition refuses it; the service removes it on its own schedule, and an `up` queued
    before the expiry must not fail because of it."""
    run = run_program(grants=[{**INVESTIGATOR_GRANT, "expiresAt": "2001-01-01T00:00:00Z"}])
    (statement,) = grant_statements(_trust(run, "investigator"))
    assert statement["Condition"]["DateLessThan"] == {"aws:CurrentTime": "2001-01-01T00:00:00Z"}


def test_grants_of_one_role_get_distinct_sids() -> None:
    later = {**INVESTIGATOR_GRANT, "expiresAt": "2031-05-05T13:00:00Z"}
    other = {**INVESTIGATOR_GRANT, "person": "carol", "principalArn": BOB_ARN}
    run = run_program(grants=[INVESTIGATOR_GRANT, later, other])
    sids = [s["Sid"] for s in grant_statements(_trust(run, "investigator"))]
    assert len(set(sids)) == 3 and all(sid.isalnum() for sid in sids)


@pytest.fixture
def fresh_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """golden-ami-fresh asks EC2 about the workstation's image: a stub that knows it as fresh."""
    stub_ec2(monkeypatch, account_id=ACCOUNT)


@pytest.mark.usefixtures("fresh_images")
@pytest.mark.parametrize("frozen", [False, True], ids=["running", "frozen"])
def test_the_program_with_grants_passes_the_policy_pack(frozen: bool) -> None:
    run = run_program(grants=GRANTS, frozen=frozen)
    resources = policy_resources(run)
    assert run_everything(resources) == {}


@pytest.mark.usefixtures("fresh_images")
def test_a_grant_stripped_of_its_expiry_is_refused_by_the_policy_pack(granted: ProgramRun) -> None:
    resources = policy_resources(granted)
    role = next(r for r in resources if r.rtype == "aws:iam/role:Role" and r.name.endswith("-investigator"))
    doc = json.loads(role.props["assumeRolePolicy"])
    for statement in grant_statements(doc["Statement"]):
        del statement["Condition"]["DateLessThan"]
    role.props["assumeRolePolicy"] = json.dumps(doc)
    found = run_everything(resources)
    assert set(found) == {"iam-no-wildcards"}
    assert ["never expires" in v.message for v in found["iam-no-wildcards"]] == [True]


# --- validation ---


def _config(grants: Any) -> dict[str, Any]:
    return {"investigationId": "case-42", "ticket": "SEC-1", "grants": grants}


@pytest.mark.parametrize(
    ("grants", "words"),
    [
        ({"role": "investigator"}, "expected a list"),
        (["investigator"], "must be an object"),
        ([{**INVESTIGATOR_GRANT, "hours": 1}], "unknown field(s) hours"),
        ([{k: v for k, v in INVESTIGATOR_GRANT.items() if k != "person"}], "lacks person"),
        ([{**INVESTIGATOR_GRANT, "role": "admin"}], "role 'admin'"),
        ([{**INVESTIGATOR_GRANT, "role": "workstation"}], "role 'workstation'"),
        ([{**INVESTIGATOR_GRANT, "principalArn": f"arn:aws:iam::{ACCOUNT}:root"}], "never a root"),
        ([{**INVESTIGATOR_GRANT, "principalArn": ACCOUNT}], "never a root"),
        ([{**INVESTIGATOR_GRANT, "principalArn": "*"}], "never a root"),
        (
            [{**INVESTIGATOR_GRANT, "principalArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/x/y"}],
            "never a root",
        ),
        ([{**INVESTIGATOR_GRANT, "person": "a"}], "not a source identity"),
        ([{**INVESTIGATOR_GRANT, "person": "alice smith"}], "not a source identity"),
        ([{**INVESTIGATOR_GRANT, "person": "a" * 65}], "not a source identity"),
        ([{**INVESTIGATOR_GRANT, "expiresAt": "2031-05-04T13:00:00+00:00"}], "not a UTC time"),
        ([{**INVESTIGATOR_GRANT, "expiresAt": "2031-05-04T13:00:00.5Z"}], "not a UTC time"),
        ([{**INVESTIGATOR_GRANT, "expiresAt": "2031-05-04"}], "not a UTC time"),
        ([{**INVESTIGATOR_GRANT, "expiresAt": 1935666000}], "not a UTC time"),
        ([{**INVESTIGATOR_GRANT, "expiresAt": "2031-02-30T13:00:00Z"}], "not a valid time"),
        ([INVESTIGATOR_GRANT, dict(INVESTIGATOR_GRANT)], "entry 2 repeats entry 1"),
        ([{**INVESTIGATOR_GRANT, "sessionName": "a:b"}], "not a role session name"),
        ([{**INVESTIGATOR_GRANT, "sessionName": "*"}], "not a role session name"),
        ([{**CUSTODIAN_GRANT, "sessionName": "bob"}], "is not a role"),
    ],
)
def test_grants_are_validated_strictly(grants: Any, words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config(_config(grants))
    assert refused.value.key == "forensics:grants"
    assert words in refused.value.detail, refused.value.detail


def test_grants_arrive_as_json_from_the_engine() -> None:
    cfg = validate_config(_config(json.dumps(GRANTS)))
    assert [(g.role, g.person, g.expires_at) for g in cfg.grants] == [
        ("investigator", "alice@example.com", "2031-05-04T13:00:00Z"),
        ("custodian", "bob", "2031-05-04T15:30:00Z"),
    ]
    assert validate_config(_config("")).grants == ()


def test_a_grant_to_a_shared_role_admits_only_the_persons_own_session() -> None:
    """An SSO permission-set role is everyone's who is assigned the permission set: the grant names Alice's
    own session of it (aws:userid is <role id>:<session name>), not just the source identity any caller
    may claim."""
    run = run_program(grants=[{**INVESTIGATOR_GRANT, "sessionName": "alice@example.com"}])
    (statement,) = grant_statements(_trust(run, "investigator"))
    assert statement["Principal"] == {"AWS": ALICE_ARN}
    assert statement["Condition"]["StringLike"] == {"aws:userid": "*:alice@example.com"}
    assert statement["Condition"]["StringEquals"]["sts:SourceIdentity"] == "alice@example.com"
    # The standing statements admit no one by a source identity they chose.
    standing = [
        s for s in _trust(run, "investigator") if s not in grant_statements(_trust(run, "investigator"))
    ]
    assert all("sts:SourceIdentity" not in json.dumps(s) for s in standing)


def test_a_trust_policy_iam_would_refuse_is_refused_before_anything_is_built() -> None:
    bound = {**INVESTIGATOR_GRANT, "sessionName": "alice@example.com"}
    many_bound = [{**bound, "expiresAt": f"2031-05-{day:02d}T13:00:00Z"} for day in range(1, 9)]
    with pytest.raises(ConfigError) as too_big:
        validate_config(_config(many_bound))
    assert f"over IAM's {TRUST_POLICY_MAX_CHARS} (ACLSizePerRole)" in too_big.value.detail
    many = [{**INVESTIGATOR_GRANT, "expiresAt": f"2031-05-{day:02d}T13:00:00Z"} for day in range(1, 10)]
    with pytest.raises(ConfigError) as refused:
        validate_config(_config(many))
    assert refused.value.key == "forensics:grants"
    assert f"over IAM's {TRUST_POLICY_MAX_CHARS} (ACLSizePerRole)" in refused.value.detail
    assert "investigator role" in refused.value.detail
    # Frozen, the investigator's grants are not in the policy, so they do not count against it.
    assert validate_config({**_config(many), "frozen": True}).grants_in_force == ()
