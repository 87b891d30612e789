"""The day-zero rules (scps-attached, no-full-access-allow, evidence-role-trust) on what the organization
and source-account programs register, and on the variants each rule exists to refuse."""

from __future__ import annotations

import copy
import json
from typing import Any

from programs.organization.config import NAMESPACE as ORG_NAMESPACE
from programs.organization.program import organization
from programs.source_account.config import NAMESPACE as SOURCE_NAMESPACE
from programs.source_account.permissions import EVIDENCE_ROLE_NAME
from programs.source_account.program import source_account
from tests.policy.harness import Res, run_resource, run_stack
from tests.programs.day_zero_harness import DayZeroRun, run_day_zero

EU = "111122223333"
ORG_CONFIG: dict[str, Any] = {
    "forensicAccountIds": [EU],
    "parentId": "",
    "breakGlassRoleArn": f"arn:aws:iam::{EU}:role/forensics-break-glass",
    "allowedRegions": {EU: "eu-west-1"},
}
SERVICE = "arn:aws:iam::999988887777:role/forensics-service"
SOURCE_CONFIG: dict[str, Any] = {
    "accountId": "210987654321",
    "servicePrincipalArns": [SERVICE],
    "externalId": "ext-0123456789abcdef",
    "forensicAccountIds": [EU],
}
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"


def _resources(run: DayZeroRun) -> list[Res]:
    """The run's custom resources with the ids the mocks gave them (rules tie attachments to policies by
    id), and the dependencies the engine would report for the attachments' references."""
    ids = {"aws:organizations/organizationalUnit:OrganizationalUnit": "ou-ab12-forensic"}
    found = []
    for r in run.resources:
        if not r.type.startswith("aws:"):
            continue
        props = copy.deepcopy(r.inputs)
        if r.type == POLICY:
            props["id"] = f"p-{r.name}"
        elif r.type in ids:
            props["id"] = ids[r.type]
        found.append(Res(r.type, r.name, props))
    return found


def _organization() -> list[Res]:
    return _resources(run_day_zero(organization, ORG_NAMESPACE, ORG_CONFIG, {EU: "forensics-eu"}))


def _violations(resources: list[Res], policy: str) -> list[str]:
    return [v.message for r in resources for v in run_resource(policy, r.rtype, r.props, r.name)]


def test_the_organization_program_passes_the_day_zero_rules() -> None:
    resources = _organization()
    assert run_stack("scps-attached", resources) == []
    assert _violations(resources, "no-full-access-allow") == []


def test_an_scp_left_unattached_is_refused() -> None:
    resources = _organization()
    dropped = next(r for r in resources if r.rtype == ATTACHMENT)
    resources.remove(dropped)
    found = run_stack("scps-attached", resources)
    assert len(found) == 1 and "attached to no organizational unit" in found[0].message
    # Attached to something else than an OU of the stack (an account) counts for nothing either.
    resources.append(Res(ATTACHMENT, "to-an-account", {**dropped.props, "targetId": EU}))
    assert len(run_stack("scps-attached", resources)) == 1


def test_an_allow_of_every_action_is_refused_anywhere() -> None:
    full = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}
    )
    found = run_resource("no-full-access-allow", POLICY, {"name": "x", "content": full})
    assert found and "Allows every action" in found[0].message
    scoped = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}],
        }
    )
    assert run_resource("no-full-access-allow", "aws:iam/rolePolicy:RolePolicy", {"policy": scoped})
    deny = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    )
    assert run_resource("no-full-access-allow", POLICY, {"name": "x", "content": deny}) == []


def _evidence_role(**trust_change: Any) -> dict[str, Any]:
    run = run_day_zero(source_account, SOURCE_NAMESPACE, SOURCE_CONFIG)
    props = copy.deepcopy(run.one("aws:iam/role:Role", "evidence-role").inputs)
    trust = json.loads(props["assumeRolePolicy"])
    trust["Statement"][0].update(trust_change)
    props["assumeRolePolicy"] = json.dumps(trust)
    return props


def test_the_source_account_program_passes_the_day_zero_rules() -> None:
    run = run_day_zero(source_account, SOURCE_NAMESPACE, SOURCE_CONFIG)
    for resource in _resources(run):
        for policy in ("evidence-role-trust", "no-full-access-allow"):
            assert run_resource(policy, resource.rtype, resource.props, resource.name) == []


def test_an_evidence_role_without_the_external_id_or_with_other_principals_is_refused() -> None:
    role = "aws:iam/role:Role"
    no_external_id = _evidence_role(Condition={})
    assert "sts:ExternalId" in run_resource("evidence-role-trust", role, no_external_id)[0].message
    wildcard_id = _evidence_role(Condition={"StringLike": {"sts:ExternalId": "*"}})
    assert run_resource("evidence-role-trust", role, wildcard_id)
    root = _evidence_role(Principal={"AWS": ["arn:aws:iam::999988887777:root"]})
    assert "not a named role or user" in run_resource("evidence-role-trust", role, root)[0].message
    service = _evidence_role(Principal={"Service": "ec2.amazonaws.com"})
    assert run_resource("evidence-role-trust", role, service)
    # Renaming the role does not take it out of the rule while it carries the purpose tag, nor the reverse.
    renamed = {**no_external_id, "name": "something-else"}
    assert run_resource("evidence-role-trust", role, renamed)
    untagged = {**no_external_id, "tags": {}, "name": EVIDENCE_ROLE_NAME}
    assert run_resource("evidence-role-trust", role, untagged)


def test_the_whole_pack_passes_both_programs_as_the_bootstrap_runs_them(monkeypatch: Any) -> None:
    """Every rule, as the bootstrap runs the pack on a day-zero stack (its kind declared by the service):
    tags of the baseline, no wildcard a role does not need, SCPs attached, trust with the external id."""
    from policy_packs.forensics.rules.stack_kind import DAY_ZERO, ENV_STACK_KIND
    from tests.policy.harness import run_everything

    monkeypatch.setenv(ENV_STACK_KIND, DAY_ZERO)
    for resources in (
        _organization(),
        _resources(run_day_zero(source_account, SOURCE_NAMESPACE, SOURCE_CONFIG)),
    ):
        found = run_everything(resources)
        assert {name: [v.message for v in vs] for name, vs in found.items() if vs} == {}


def test_scps_are_found_attached_by_the_ids_the_created_resources_end_their_arns_with() -> None:
    """After `up` the engine shows a policy's and an OU's outputs (an ARN, no id) while the attachment holds
    the ids themselves: the ARN's last part is the id."""
    org = "arn:aws:organizations::123456789012"
    policy_arn = f"{org}:policy/o-abcdefghij/service_control_policy/p-abcd1234"
    unit_arn = f"{org}:ou/o-abcdefghij/ou-ab12-forensic"
    created = [
        Res(POLICY, "region-lock", {"arn": policy_arn, "type": "SERVICE_CONTROL_POLICY", "content": "{}"}),
        Res("aws:organizations/organizationalUnit:OrganizationalUnit", "ou", {"arn": unit_arn}),
        Res(ATTACHMENT, "region-lock-ou", {"policyId": "p-abcd1234", "targetId": "ou-ab12-forensic"}),
    ]
    assert run_stack("scps-attached", created) == []
    elsewhere = [*created[:2], Res(ATTACHMENT, "x", {"policyId": "p-abcd1234", "targetId": "ou-ab12-other1"})]
    assert len(run_stack("scps-attached", elsewhere)) == 1
