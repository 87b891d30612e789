"""The forensics OU, its SCPs attached to it, and the forensic accounts moved under it, in the guidance's
order: an account's baseline is built first (programs/forensic_account), then the SCPs are attached to the
OU, and only then is the account moved in (each move depends on every attachment), so no account is ever in
the OU without its guardrails."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_account.tags import baseline_tags
from programs.organization import scps
from programs.organization.config import OrganizationConfig

OU_NAME = "forensics"
# What made it and which part of the baseline it is (the pack requires both of a day-zero stack).
TAGS = {**baseline_tags("guardrails"), "forensics:purpose": "guardrails"}
# What Organizations cannot change in place about an account (a change would create a new account): never
# driven from here. The account keeps the name and email it has.
_ACCOUNT_FIXED = ["name", "email", "iamUserAccessToBilling", "roleName", "createGovcloud", "closeOnDeletion"]


def _members(organization: Any, account_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
    known = {str(a.id): {"name": str(a.name), "email": str(a.email)} for a in organization.accounts}
    missing = [a for a in account_ids if a not in known]
    if missing:
        raise ValueError(f"not members of the organization: {', '.join(missing)}")
    return {a: known[a] for a in account_ids}


class ForensicsOu(pulumi.ComponentResource):
    def __init__(self, name: str, cfg: OrganizationConfig, opts: pulumi.ResourceOptions | None = None):
        super().__init__("forensics:organization:ForensicsOu", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        organization = aws.organizations.get_organization(opts=pulumi.InvokeOptions(parent=self))
        parent_id = cfg.parent_id or str(organization.roots[0].id)
        members = _members(organization, cfg.forensic_account_ids)

        self.unit = aws.organizations.OrganizationalUnit(
            f"{name}-ou", name=OU_NAME, parent_id=parent_id, tags=TAGS, opts=child
        )
        self.policies: dict[str, aws.organizations.Policy] = {}
        self.attachments: list[aws.organizations.PolicyAttachment] = []
        documents = scps.documents(cfg.accounts_by_region, cfg.break_glass_role_arns)
        for policy_name, content in documents.items():
            policy = aws.organizations.Policy(
                policy_name,
                name=policy_name,
                description=scps.DESCRIPTIONS[policy_name],
                type=scps.SCP_TYPE,
                content=content,
                tags=TAGS,
                opts=child,
            )
            self.policies[policy_name] = policy
            self.attachments.append(
                aws.organizations.PolicyAttachment(
                    f"{policy_name}-ou", policy_id=policy.id, target_id=self.unit.id, opts=child
                )
            )
        # Existing accounts are adopted (imported) and moved; never created, closed or removed from here:
        # dropping one from the config leaves it where it is (retain_on_delete).
        self.accounts = {
            account_id: aws.organizations.Account(
                f"forensic-account-{account_id}",
                name=member["name"],
                email=member["email"],
                parent_id=self.unit.id,
                opts=pulumi.ResourceOptions(
                    parent=self,
                    import_=account_id,
                    retain_on_delete=True,
                    ignore_changes=_ACCOUNT_FIXED,
                    depends_on=list(self.attachments),
                ),
            )
            for account_id, member in members.items()
        }
        self.register_outputs({"ouId": self.unit.id})

    def outputs(self) -> Mapping[str, Any]:
        return {
            "forensicsOuId": self.unit.id,
            "policyIds": {name: policy.id for name, policy in self.policies.items()},
            # SCP name -> the target it is attached to (the OU), read from the attachments themselves.
            "attachedTargets": {
                name: attachment.target_id
                for name, attachment in zip(self.policies, self.attachments, strict=True)
            },
        }
