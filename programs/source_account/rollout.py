"""How the evidence role reaches every member account of an organization: one stack per account.

Decision: one Automation API stack per source account (`source-<accountId>`, this program), run in parallel
by the bootstrap, rather than a CloudFormation StackSet with service-managed permissions declared from Pulumi.

Why:
- The same program, the same policy pack and the same tests judge every account's role: the permissions are
  ``permissions.py``'s, not a template rendered from them that the pack never sees and the local AWS cannot
  run (moto's StackSets do not deploy service-managed instances into organization members).
- Each account has its own state: drift, a failed account and a re-run are per account, and a preview of
  one account shows exactly what would change there.
- The cost: a new member account is covered when the bootstrap runs again (a StackSet's auto-deployment would
  do it on its own), and the bootstrap needs a way into each account (the provider's ``assumeRoles``: the
  organization's member-account access role, or a role the operator names). Re-running the bootstrap is a
  no-op preview for the accounts already done, so running it on a schedule closes that gap.
"""

from __future__ import annotations

# The stack of one source account.
STACK_NAME_FORMAT = "source-{account_id}"
# At most this many accounts' engines at once: each `up` is a CLI, a language host and a provider process.
MAX_PARALLEL_STACKS = 4


def stack_name(account_id: str) -> str:
    return STACK_NAME_FORMAT.format(account_id=account_id)
