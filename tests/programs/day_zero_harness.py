"""Run a day-zero program under `pulumi.runtime.set_mocks` and record what it registers (and with which
options: an adopted account's import id, retain-on-delete, ignored changes, dependencies)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from tests.programs.harness import run_under_mocks

ROOT_ID = "r-ab12"
MANAGEMENT_ACCOUNT = "999988887777"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    import_id: str
    retain_on_delete: bool
    ignore_changes: list[str]
    dependencies: list[str]


@dataclass
class DayZeroRun:
    resources: list[Registered]
    outputs: dict[str, Any]
    calls: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Registered:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, [r.name for r in found]
        return found[0]


class FakeAws(Mocks):
    """Ids as AWS makes them; an organization with ``members`` (id -> name) besides the management account."""

    def __init__(self, members: dict[str, str]) -> None:
        self.members = members
        self.calls: list[str] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        if args.typ == "aws:iam/role:Role":
            rid = state["name"]
            state["arn"] = f"arn:aws:iam::{MANAGEMENT_ACCOUNT}:role/{rid}"
        elif args.typ == "aws:organizations/organizationalUnit:OrganizationalUnit":
            rid = "ou-ab12-forensic"
        elif args.typ == "aws:organizations/policy:Policy":
            rid = f"p-{args.name}"
        elif args.typ == "aws:organizations/policyAttachment:PolicyAttachment":
            rid = f"{state['targetId']}:{state['policyId']}"
        elif args.typ == "aws:organizations/account:Account":
            rid = args.resource_id or rid
        return rid, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append(args.token)
        if args.token == "aws:organizations/getOrganization:getOrganization":
            accounts = [
                {"id": account, "name": name, "email": f"{name}@example.com", "arn": f"arn:{account}"}
                for account, name in {MANAGEMENT_ACCOUNT: "management", **self.members}.items()
            ]
            return {
                "id": "o-abcdef1234",
                "masterAccountId": MANAGEMENT_ACCOUNT,
                "accounts": accounts,
                "roots": [{"id": ROOT_ID, "name": "Root", "arn": "arn:root", "policyTypes": []}],
            }, []
        raise AssertionError(f"unexpected call {args.token}")


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: FakeAws) -> None:
        super().__init__(mocks)
        self.options: dict[tuple[str, str], tuple[str, bool, list[str], list[str]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.options[(request.type, request.name)] = (
            request.importId,
            bool(request.retainOnDelete),
            list(request.ignoreChanges),
            list(request.dependencies),
        )
        return super().RegisterResource(request)


def run_day_zero(
    program: Callable[[], None], namespace: str, config: dict[str, Any], members: dict[str, str] | None = None
) -> DayZeroRun:
    flat = {f"{namespace}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    flat["aws:region"] = "us-east-1"
    mocks = FakeAws(members or {})
    monitor = RecordingMonitor(mocks)
    outputs = run_under_mocks(program, flat, mocks, monitor, project=namespace, stack="test")
    resources = []
    for urn, registration in monitor.resources.items():
        typ = urn.split("::")[2].split("$")[-1]
        name = urn.split("::")[3]
        import_id, retain, ignore, deps = monitor.options[(typ, name)]
        resources.append(Registered(typ, name, dict(registration.state), import_id, retain, ignore, deps))
    return DayZeroRun(resources, outputs, mocks.calls)
