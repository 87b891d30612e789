"""Organizations through the provider methods, checked against moto with boto3: an OU, an SCP, its
attachment, and a member account adopted by import (read with no prior state) and moved under the OU."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support.standin import Clients, Driver

OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
POLICY = "aws:organizations/policy:Policy"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
ACCOUNT = "aws:organizations/account:Account"
DENY_LEAVING = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
    }
)


@pytest.fixture
def root(aws: Clients) -> str:
    org = aws("organizations")
    try:
        org.create_organization(FeatureSet="ALL")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "AlreadyInOrganizationException":
            raise
    return str(org.list_roots()["Roots"][0]["Id"])


def test_ou_policy_and_attachment(driver: Driver, aws: Clients, root: str) -> None:
    org = aws("organizations")
    tags = {"managed-by": "forensic-cleanroom"}
    ou_id, ou = driver.create(OU, "ou", {"name": "forensics-standin", "parentId": root, "tags": tags})
    assert ou_id.startswith("ou-") and ou["parentId"] == root and ou["tagsAll"] == tags
    assert org.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]["Name"] == (
        "forensics-standin"
    )
    assert driver.diff(OU, "ou", ou_id, ou, {"name": "x", "parentId": "r-zzzz", "tags": tags}).replaces == [
        "parentId"
    ]
    ou = driver.update(OU, "ou", ou_id, ou, {"name": "forensics-renamed", "parentId": root, "tags": tags})
    assert org.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]["Name"] == (
        "forensics-renamed"
    )

    inputs = {"name": "deny-leaving-standin", "type": "SERVICE_CONTROL_POLICY", "content": DENY_LEAVING}
    policy_id, policy = driver.create(POLICY, "scp", {**inputs, "description": "no leaving"})
    described = org.describe_policy(PolicyId=policy_id)["Policy"]
    assert json.loads(described["Content"]) == json.loads(DENY_LEAVING)
    assert described["PolicySummary"]["Type"] == "SERVICE_CONTROL_POLICY"
    assert policy["content"] == DENY_LEAVING and policy["arn"] == described["PolicySummary"]["Arn"]
    changed = json.dumps({**json.loads(DENY_LEAVING), "Version": "2012-10-17"}, indent=2)
    driver.update(POLICY, "scp", policy_id, policy, {**inputs, "content": changed, "description": "d"})
    assert org.describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Description"] == "d"

    attachment_id, _ = driver.create(ATTACHMENT, "att", {"policyId": policy_id, "targetId": ou_id})
    assert attachment_id == f"{ou_id}:{policy_id}"
    targets = [t["TargetId"] for t in org.list_targets_for_policy(PolicyId=policy_id)["Targets"]]
    assert targets == [ou_id]
    state = {"policyId": policy_id, "targetId": ou_id}
    assert driver.read(ATTACHMENT, "att", attachment_id, state)[0] == attachment_id

    # A policy still attached cannot go (AWS's PolicyInUseException); detached, it can.
    with pytest.raises(ClientError, match="PolicyInUse"):
        driver.delete(POLICY, "scp", policy_id, policy)
    driver.delete(ATTACHMENT, "att", attachment_id, state)
    assert org.list_targets_for_policy(PolicyId=policy_id)["Targets"] == []
    assert driver.read(ATTACHMENT, "att", attachment_id, state)[0] == ""  # gone
    driver.delete(POLICY, "scp", policy_id, policy)
    driver.delete(OU, "ou", ou_id, ou)
    assert driver.read(OU, "ou", ou_id, ou)[0] == ""


def test_an_existing_account_is_imported_and_moved(driver: Driver, aws: Clients, root: str) -> None:
    org = aws("organizations")
    account = org.create_account(AccountName="forensics-standin", Email="standin@example.com")[
        "CreateAccountStatus"
    ]["AccountId"]
    ou_id, _ = driver.create(OU, "ou-moves", {"name": "forensics-moves", "parentId": root})

    # Import: read with nothing but the id, as the engine does for the `import` option.
    read_id, state, _ = driver.read(ACCOUNT, "acct", account, {})
    assert read_id == account
    assert (state["name"], state["email"], state["parentId"]) == (
        "forensics-standin",
        "standin@example.com",
        root,
    )
    inputs = {"name": state["name"], "email": state["email"], "parentId": ou_id}
    diff = driver.diff(ACCOUNT, "acct", account, state, inputs)
    assert diff.changes and diff.diffs == ["parentId"] and not diff.replaces
    moved = driver.update(ACCOUNT, "acct", account, state, inputs)
    assert moved["parentId"] == ou_id
    assert [p["Id"] for p in org.list_parents(ChildId=account)["Parents"]] == [ou_id]
    organization = driver.invoke("aws:organizations/getOrganization:getOrganization", {})
    assert root in [r["id"] for r in organization["roots"]]
    assert account in [a["id"] for a in organization["nonMasterAccounts"]]

    # Deleting (without closeOnDeletion) removes the account from the organization, never closes it.
    driver.delete(ACCOUNT, "acct", account, moved)
    assert account not in [a["Id"] for a in org.list_accounts()["Accounts"]]
