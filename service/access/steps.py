"""Access's entry in the action table: ``grant`` applies the approved, unexpired access grants. Loaded with
every feature by ``service.features``."""

from __future__ import annotations

from service.access import service as access
from service.auth.roles import Permission
from service.config import Settings
from service.investigation_states import Status
from service.investigations.actions import ActionSpec, Params, Step, fresh_engine_step, register
from service.investigations.models import Investigation
from service.orchestration.messages import OperationKind

# Just-in-time access grants (service/access holds the work). The approval of the access request is the second
# person; this action only applies what was decided, so it is queued by the approval or the scheduler.


def _grant_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [
        Step(label="declare the grants in force", work=access.declare_step),
        fresh_engine_step(OperationKind.UP, "up (access grants)"),
        Step(label="record the grants applied", work=access.record_applied),
    ]


register(
    ActionSpec(
        name="grant",
        summary=(
            "Bring the four roles' trust policies in line with the approved, unexpired access grants (an "
            "`up`; frozen, only the custodian's are in them). Queued by approvals and the expiry schedule."
        ),
        permission=Permission.APPROVE_ACCESS,
        sources=frozenset({Status.READY, Status.FROZEN}),
        steps=_grant_steps,
        kind=OperationKind.UP,
        # The same declared state deployed again converges.
        retry_after_interrupt=True,
        route="access-sync",
        refusals={
            Status.OPENING: "investigation {id} is still opening; grant access once it is ready",
            Status.NEEDS_ATTENTION: "investigation {id} needs attention; grant access once it is settled",
        },
    )
)
