"""AWS Organizations' member accounts as AWS makes them, and role trust across accounts as STS judges it.

- ``CreateAccount`` gives the new account ``OrganizationAccountAccessRole`` (or the ``RoleName`` asked for),
  trusting the management account and holding ``AdministratorAccess``: the operator's way into the account on
  day zero (the bootstrap builds a source account's evidence role through it). moto makes the role with its
  trust but attaches nothing, so the role could do nothing once IAM is enforced.
- ``sts:AssumeRole`` of a role in another account is judged on that role's trust policy (moto looks the role
  up in the caller's account, and when it is not there skips the trust check, so any caller whose identity
  policy allows the action got into any account). A role that does not exist is refused, as STS does.

The role is AWS's, not the project's: the service's identity may not assume it (its identity policy names
only the day-zero roles; tests/bootstrap/test_local_day_zero_engine.py checks the refusal).
"""

from __future__ import annotations

from typing import Any

MEMBER_ROLE_NAME = "OrganizationAccountAccessRole"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def role_by_arn(role_arn: str) -> Any:
    """The role in the account its ARN names (moto's ``NotFoundException`` when there is none)."""
    from moto.iam.models import iam_backends

    account_id = role_arn.split(":")[4]
    partition = role_arn.split(":")[1]
    return iam_backends[account_id][partition].get_role_by_arn(role_arn)


def install() -> None:
    """Patch moto in this process (the launcher calls it; trust is judged only when IAM is enforced)."""
    from moto.iam.access_control import IAMRequestBase
    from moto.iam.models import iam_backends
    from moto.iam.utils import REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK
    from moto.organizations.models import OrganizationsBackend

    create_account = OrganizationsBackend.create_account

    def create_account_with_access_role(self: Any, **kwargs: Any) -> dict[str, Any]:
        status: dict[str, Any] = create_account(self, **kwargs)
        account_id = status["CreateAccountStatus"]["AccountId"]
        iam = iam_backends[account_id]["global"]
        iam.attach_role_policy(ADMINISTRATOR_ACCESS, kwargs.get("RoleName") or MEMBER_ROLE_NAME)
        return status

    OrganizationsBackend.create_account = create_account_with_access_role  # type: ignore[method-assign]

    def is_assuming_role_operation(self: Any, resource_arn: str) -> bool:
        # Every AssumeRole of a role ARN is judged on the role's trust, wherever the role is; a role that
        # does not exist has no trust that could allow it (``role_trusted`` then refuses).
        return ":role/" in resource_arn.lower() and self._action in REQUIRE_RESOURCE_ACCESS_POLICIES_CHECK

    IAMRequestBase._is_assuming_role_operation = is_assuming_role_operation  # type: ignore[method-assign]
