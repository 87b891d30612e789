"""Every feature's entries in the action table, loaded together: importing this module registers custody's,
access's and containment's actions and fills the slots the lifecycle's own actions leave for features
(``service.investigations.actions.Slot``). Whatever serves requests or runs operations imports it (the app,
the worker, the job runner, the chat and ticket paths); the table itself never imports a feature.
"""

from __future__ import annotations

from service.access import scheduled as access_scheduled
from service.access import steps as access_steps
from service.containment import steps as containment_steps
from service.custody import steps as custody_steps
from service.expiry import scheduled as expiry_scheduled
from service.investigations import actions

FEATURE_STEPS = (access_steps.__name__, containment_steps.__name__, custody_steps.__name__)
# Their scheduled work, into the schedule (service.investigations.schedule). Approvals, above this module in
# the layers, and integrations register theirs where the job queue installs the schedule (service.jobs.tasks).
FEATURE_SCHEDULED = (access_scheduled.__name__, expiry_scheduled.__name__)

# The complete table: modules that read all of it when they are imported (routes, schemas) read it here.
ACTIONS = actions.ACTIONS

if missing := actions.empty_slots():
    raise RuntimeError(f"no feature fills the action table's slots {', '.join(missing)}")
