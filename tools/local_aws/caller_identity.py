"""Who is calling, as the IAM request context names it: ``aws:userid`` for the local AWS's trust judging.

AWS puts the caller's unique id in every request's context (IAM's global condition key ``aws:userid``):

- a role session (credentials from sts:AssumeRole): ``<role unique id>:<role session name>``, the role's id
  being IAM's ``AROA...`` RoleId (moto gives every role one, and reports the same ``UserId`` from
  GetCallerIdentity);
- an IAM user: the user's unique id (``AIDA...``);
- the account root (moto's default credentials belong to no IAM user): the account id.

moto puts no ``aws:userid`` in the context, so a trust policy that binds a grant to one person's session of
a shared role (an SSO permission-set role) could not be judged; ``tools.local_aws.moto_server`` adds it when
it judges a trust policy at sts:AssumeRole. Not modelled: federated users (``<account>:<name>``) and web
identity / SAML callers, which the clean room's roles never trust.
"""

from __future__ import annotations


def caller_userid(access_key_id: str | None, account_id: str) -> str:
    """``aws:userid`` of the credentials with this access key id, as AWS would put it in the context."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key_id:
        for account_backends in list(sts_backends.values()):  # other request threads add accounts
            for backend in list(account_backends.values()):
                session = backend.get_assumed_role_from_access_key(access_key_id)
                if session is not None:
                    return str(session.user_id)
        for iam_account in list(iam_backends.values()):
            for iam in list(iam_account.values()):
                for user in list(iam.users.values()):
                    if any(key.access_key_id == access_key_id for key in user.access_keys):
                        return str(user.id)
    return account_id
