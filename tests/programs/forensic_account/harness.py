"""Run programs/forensic_account under `pulumi.runtime.set_mocks` and record what it registers."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from programs.forensic_account.config import NAMESPACE
from programs.forensic_account.program import forensic_account
from tests.programs.harness import (
    ACCOUNT,
    REGION,
    FakeAws,
    ProgramRun,
    RecordingMonitor,
    Registered,
    run_under_mocks,
)

SERVICE = f"arn:aws:iam::{ACCOUNT}:role/forensics-service"
BASE_IMAGE = "ami-0123456789abcdef0"
BASE_CONFIG: dict[str, Any] = {
    "accountId": ACCOUNT,
    "region": REGION,
    "servicePrincipalArns": [SERVICE],
    "externalId": "forensics-ext-1",
    "goldenImagePipeline": True,
    "baseImageId": BASE_IMAGE,
}


class FakeBaseline(FakeAws):
    """The clean room's fakes, plus the ARNs AWS gives a managed policy, a trail and an Image Builder item."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        rid, state = super().new_resource(args)
        name = state.get("name") or args.name
        if args.typ == "aws:iam/policy:Policy":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        elif args.typ == "aws:kms/alias:Alias":
            state["arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"
        elif args.typ == "aws:cloudtrail/trail:Trail":
            state["arn"] = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"
        elif args.typ == "aws:sqs/queue:Queue":
            state["arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            state["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return rid, state


def run_account(**config: Any) -> ProgramRun:
    """Run the forensic account program with BASE_CONFIG + config (None removes a key)."""
    values = {**BASE_CONFIG, **config}
    flat = {
        f"{NAMESPACE}:{k}": v if isinstance(v, str) else json.dumps(v)
        for k, v in values.items()
        if v is not None
    }
    mocks = FakeBaseline()
    monitor = RecordingMonitor(mocks)
    outputs = run_under_mocks(
        forensic_account, flat, mocks, monitor, project=NAMESPACE, stack=f"account-{ACCOUNT}-{REGION}"
    )
    resources = []
    for urn, registration in monitor.resources.items():
        typ = urn.split("::")[2].split("$")[-1]
        name = urn.split("::")[3]
        protect, retain, parent, custom = monitor.options[(typ, name)]
        resources.append(Registered(typ, name, dict(registration.state), protect, retain, parent, custom))
    return ProgramRun(resources, outputs, mocks.calls)
