"""IAM as it stands in the local AWS, read with boto3: clients acting in another account of it, and every
role's and customer managed policy's documents, judged for administrator rights."""

from __future__ import annotations

from typing import Any

from tests.support.aws import role_session
from tests.support.policy_documents import as_list, parsed, statements_of
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import ADMINISTRATOR_ACCESS, MEMBER_ROLE_NAME


def in_account(aws: LocalAws, account_id: str, service: str, role_name: str = MEMBER_ROLE_NAME) -> Any:
    """A client acting in another account of the local AWS (as its administrator, through ``role_name``)."""
    return role_session(aws, f"arn:aws:iam::{account_id}:role/{role_name}", "check")(service)


def documents(iam: Any) -> list[tuple[str, str, Any]]:
    """(role or policy name, where, document or attached policy ARN) for every role's inline and attached
    policies and every customer managed policy's default version."""
    found: list[tuple[str, str, Any]] = []
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            found.append((name, f"{name}/{policy_name}", parsed(document)))
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            found.append((name, f"{name} attaches", attached["PolicyArn"]))
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        found.append(
            (policy["PolicyName"], policy["PolicyName"], parsed(version["PolicyVersion"]["Document"]))
        )
    return found


def administrator_grants(iam: Any) -> list[str]:
    """Where an account's IAM grants administrator rights: AdministratorAccess attached, or a statement
    allowing every action (``*`` or ``*:*``) on every resource."""
    found = []
    for _owner, where, document in documents(iam):
        if isinstance(document, str):
            if document == ADMINISTRATOR_ACCESS:
                found.append(where)
            continue
        for statement in statements_of(document):
            if statement.get("Effect") != "Allow" or "Action" not in statement:
                continue
            every_action = {"*", "*:*"} & {str(v) for v in as_list(statement["Action"])}
            if every_action and "*" in {str(v) for v in as_list(statement.get("Resource", []))}:
                found.append(where)
    return found
