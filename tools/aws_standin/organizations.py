"""AWS Organizations: organizational unit, policy (SCPs), policy attachment, member account (moved between
parents; imported, as an account the organization already has), and the getOrganization data source."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, StandinError, error_code, tag_map, wait_until
from .datasources import DataSource
from .iam import policy_text
from .values import Props

_GONE = (
    "OrganizationalUnitNotFoundException",
    "PolicyNotFoundException",
    "AccountNotFoundException",
    "TargetNotFoundException",
)


def _gone(exc: BaseException) -> bool:
    return error_code(exc) in _GONE


class OrganizationsHandler(ResourceHandler):
    taggable = True

    @property
    def org(self) -> Any:
        return self.aws.client("organizations")

    def _tags(self, resource_id: str) -> dict[str, str]:
        return tag_map(self.org.list_tags_for_resource(ResourceId=resource_id).get("Tags"))

    def _retag(self, resource_id: str, olds: Props, news: Props) -> None:
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.org.untag_resource(ResourceId=resource_id, TagKeys=to_remove)
        if to_set:
            self.org.tag_resource(
                ResourceId=resource_id, Tags=[{"Key": k, "Value": v} for k, v in to_set.items()]
            )

    def _parent(self, child_id: str) -> str:
        parents = self.org.list_parents(ChildId=child_id)["Parents"]
        return str(parents[0]["Id"]) if parents else ""


class OrganizationalUnit(OrganizationsHandler):
    token = "aws:organizations/organizationalUnit:OrganizationalUnit"
    inputs = frozenset({"name", "parentId"})
    outputs = frozenset({"arn", "name", "parentId", "accounts"})
    replace_on = frozenset({"parentId"})
    autoname = "name"
    autoname_max_len = 128

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        tags = self.tags_all(news)
        unit = self.org.create_organizational_unit(
            ParentId=news["parentId"],
            Name=news["name"],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["OrganizationalUnit"]
        return str(unit["Id"]), self.read(str(unit["Id"]), news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            unit = self.org.describe_organizational_unit(OrganizationalUnitId=resource_id)[
                "OrganizationalUnit"
            ]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        accounts = self.org.list_accounts_for_parent(ParentId=resource_id).get("Accounts", [])
        return {
            "name": unit["Name"],
            "arn": unit["Arn"],
            "parentId": self._parent(resource_id),
            "accounts": [
                {"arn": a["Arn"], "email": a["Email"], "id": a["Id"], "name": a["Name"]} for a in accounts
            ],
            **self.tag_outputs(self._tags(resource_id), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        if news.get("name") != olds.get("name"):
            self.org.update_organizational_unit(OrganizationalUnitId=resource_id, Name=news["name"])
        self._retag(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.org.delete_organizational_unit(OrganizationalUnitId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class Policy(OrganizationsHandler):
    token = "aws:organizations/policy:Policy"
    inputs = frozenset({"name", "content", "description", "type", "skipDestroy"})
    outputs = frozenset({"arn", "name", "content", "description", "type"})
    replace_on = frozenset({"type"})
    autoname = "name"
    autoname_max_len = 128
    diff_defaults = {"type": "SERVICE_CONTROL_POLICY", "description": ""}

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        tags = self.tags_all(news)
        summary = self.org.create_policy(
            Name=news["name"],
            Content=news["content"],
            Description=news.get("description") or "",
            Type=news.get("type") or "SERVICE_CONTROL_POLICY",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["Policy"]["PolicySummary"]
        return str(summary["Id"]), self.read(str(summary["Id"]), news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            policy = self.org.describe_policy(PolicyId=resource_id)["Policy"]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        summary = policy["PolicySummary"]
        return {
            "name": summary["Name"],
            "arn": summary["Arn"],
            "description": summary.get("Description") or "",
            "type": summary["Type"],
            "content": policy_text(policy["Content"], olds.get("content")),
            **self.tag_outputs(self._tags(resource_id), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.org.update_policy(
            PolicyId=resource_id,
            Name=news["name"],
            Description=news.get("description") or "",
            Content=news["content"],
        )
        self._retag(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        if olds.get("skipDestroy"):
            return
        try:
            self.org.delete_policy(PolicyId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class PolicyAttachment(OrganizationsHandler):
    """Id ``<targetId>:<policyId>``, as pulumi-aws's."""

    token = "aws:organizations/policyAttachment:PolicyAttachment"
    inputs = frozenset({"policyId", "targetId", "skipDestroy"})
    outputs = frozenset({"policyId", "targetId"})
    replace_on = frozenset({"policyId", "targetId"})
    taggable = False

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self.org.attach_policy(PolicyId=news["policyId"], TargetId=news["targetId"])
        resource_id = f"{news['targetId']}:{news['policyId']}"
        return resource_id, self.read(resource_id, news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        target, _, policy = resource_id.partition(":")
        try:
            targets = self.org.list_targets_for_policy(PolicyId=policy)["Targets"]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        if not any(t["TargetId"] == target for t in targets):
            return None
        return {"policyId": policy, "targetId": target}

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        return self.read(resource_id, news) or {}  # only skipDestroy can change in place

    def delete(self, resource_id: str, olds: Props) -> None:
        if olds.get("skipDestroy"):
            return
        target, _, policy = resource_id.partition(":")
        try:
            self.org.detach_policy(PolicyId=policy, TargetId=target)
        except ClientError as exc:
            if not _gone(exc) and error_code(exc) != "PolicyNotAttachedException":
                raise


class Account(OrganizationsHandler):
    """A member account. Creating one is CreateAccount (then a move under ``parentId``); an existing account
    is imported by its id, and a new ``parentId`` moves it (MoveAccount, from the parent it has now).
    Deleting removes it from the organization, or closes it with ``closeOnDeletion``."""

    token = "aws:organizations/account:Account"
    inputs = frozenset(
        {
            "name",
            "email",
            "parentId",
            "closeOnDeletion",
            "createGovcloud",
            "iamUserAccessToBilling",
            "roleName",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "name",
            "email",
            "parentId",
            "status",
            "state",
            "joinedMethod",
            "joinedTimestamp",
            "govcloudId",
        }
    )
    replace_on = frozenset({"email", "name", "iamUserAccessToBilling", "roleName", "createGovcloud"})

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        if news.get("createGovcloud"):
            raise StandinError("the local stand-in cannot create GovCloud accounts")
        tags = self.tags_all(news)
        options: dict[str, Any] = {
            "AccountName": news["name"],
            "Email": news["email"],
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        }
        if news.get("roleName"):
            options["RoleName"] = news["roleName"]
        if news.get("iamUserAccessToBilling"):
            options["IamUserAccessToBilling"] = news["iamUserAccessToBilling"]
        request = self.org.create_account(**options)["CreateAccountStatus"]["Id"]

        def created() -> str | None:
            status = self.org.describe_create_account_status(CreateAccountRequestId=request)
            state = status["CreateAccountStatus"]
            if state["State"] == "FAILED":
                raise StandinError(f"CreateAccount failed: {state.get('FailureReason')}")
            return str(state["AccountId"]) if state["State"] == "SUCCEEDED" else None

        account_id = wait_until(created, f"account {news['name']} to be created")
        self._move(account_id, news.get("parentId") or "")
        return account_id, self.read(account_id, news) or {}

    def _move(self, account_id: str, parent_id: str) -> None:
        current = self._parent(account_id)
        if parent_id and parent_id != current:
            self.org.move_account(AccountId=account_id, SourceParentId=current, DestinationParentId=parent_id)

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            account = self.org.describe_account(AccountId=resource_id)["Account"]
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        joined = account.get("JoinedTimestamp")
        return {
            "name": account["Name"],
            "email": account["Email"],
            "arn": account["Arn"],
            "status": account.get("Status", ""),
            "state": account.get("State", ""),
            "joinedMethod": account.get("JoinedMethod", ""),
            "joinedTimestamp": joined.isoformat() if hasattr(joined, "isoformat") else str(joined or ""),
            "govcloudId": "",
            "parentId": self._parent(resource_id),
            **self.tag_outputs(self._tags(resource_id), olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._move(resource_id, news.get("parentId") or "")
        self._retag(resource_id, olds, news)
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            if olds.get("closeOnDeletion"):
                self.org.close_account(AccountId=resource_id)
            else:
                self.org.remove_account_from_organization(AccountId=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


def get_organization(aws: Any, args: Props) -> Props:
    org = aws.client("organizations")
    described = org.describe_organization()["Organization"]
    roots = org.list_roots()["Roots"]
    accounts: list[dict[str, Any]] = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts.extend(page["Accounts"])
    listed = [
        {
            "arn": a["Arn"],
            "email": a["Email"],
            "id": a["Id"],
            "name": a["Name"],
            "status": a.get("Status", ""),
            "state": a.get("State", ""),
            "joinedMethod": a.get("JoinedMethod", ""),
            "joinedTimestamp": str(a.get("JoinedTimestamp", "")),
        }
        for a in accounts
    ]
    master = described["MasterAccountId"]
    return {
        "id": described["Id"],
        "arn": described["Arn"],
        "featureSet": described.get("FeatureSet", "ALL"),
        "masterAccountArn": described.get("MasterAccountArn", ""),
        "masterAccountEmail": described.get("MasterAccountEmail", ""),
        "masterAccountId": master,
        "masterAccountName": next((a["name"] for a in listed if a["id"] == master), ""),
        "accounts": listed,
        "nonMasterAccounts": [a for a in listed if a["id"] != master],
        "roots": [
            {
                "arn": r["Arn"],
                "id": r["Id"],
                "name": r["Name"],
                "policyTypes": [{"status": t["Status"], "type": t["Type"]} for t in r.get("PolicyTypes", [])],
            }
            for r in roots
        ],
        "awsServiceAccessPrincipals": [],
        "enabledPolicyTypes": [
            t["Type"] for r in roots for t in r.get("PolicyTypes", []) if t.get("Status") == "ENABLED"
        ],
    }


HANDLERS: tuple[type[ResourceHandler], ...] = (OrganizationalUnit, Policy, PolicyAttachment, Account)

DATA_SOURCES = (
    DataSource(
        token="aws:organizations/getOrganization:getOrganization",
        result_class="organizations.GetOrganizationResult",
        args=frozenset(),
        results=frozenset(
            {
                "id",
                "arn",
                "featureSet",
                "masterAccountArn",
                "masterAccountEmail",
                "masterAccountId",
                "masterAccountName",
                "accounts",
                "nonMasterAccounts",
                "roots",
                "awsServiceAccessPrincipals",
                "enabledPolicyTypes",
            }
        ),
        fn=get_organization,
    ),
)
