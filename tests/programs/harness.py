"""Run the forensic program under `pulumi.runtime.set_mocks` and record what it registers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from programs.forensic_env.program import forensic_environment

ACCOUNT = "123456789012"
REGION = "us-east-1"
AMI_ID = "ami-0123456789abcdef0"
SSM_AMI_ID = "ami-0fedcba9876543210"
TAG_AMI_ID = "ami-0aaaabbbbccccdddd"
# Lookups of these find nothing, as AWS answers for an image or parameter that does not exist.
MISSING_AMI_ID = "ami-00000000000dead0"
MISSING_SSM_PARAMETER = "/forensics/golden-ami/no-such-parameter"
MISSING_TAG_VALUE = "no-such-image"
AMI_AGE_DAYS = 12
SNAPSHOTS = ["snap-0123456789abcdef0", "snap-0fedcba9876543210"]

BASE_CONFIG: dict[str, Any] = {
    "investigationId": "inv-test-01",
    "ticket": "SEC-123",
    "accountId": ACCOUNT,
    "amiId": AMI_ID,
}


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    protect: bool
    retain_on_delete: bool
    parent: str
    custom: bool


@dataclass
class ProgramRun:
    resources: list[Registered]
    outputs: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name_contains: str = "") -> Registered:
        matches = [r for r in self.of_type(typ) if name_contains in r.name]
        assert len(matches) == 1, (
            f"expected one {typ} named like {name_contains!r}, got {[r.name for r in matches]}"
        )
        return matches[0]

    def custom(self) -> list[Registered]:
        return [r for r in self.resources if r.custom]

    def policy(self, typ: str, name_contains: str, prop: str = "policy") -> dict[str, Any]:
        value = self.one(typ, name_contains).inputs[prop]
        return json.loads(value) if isinstance(value, str) else value


class FakeAws(Mocks):
    """new_resource echoes the inputs and adds the ids/ARNs AWS would compute; call fakes the data sources."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.counter = 0

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.counter += 1
        n = self.counter
        state = dict(args.inputs)
        name = state.get("name") or args.name
        typ = args.typ
        rid = f"{args.name}-id"
        if typ == "aws:ec2/vpc:Vpc":
            rid = f"vpc-{n:08x}"
        elif typ == "aws:ec2/subnet:Subnet":
            rid = f"subnet-{n:08x}"
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            rid = f"sg-{n:08x}"
        elif typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            rid = f"vpce-{n:08x}"
        elif typ == "aws:ec2/instance:Instance":
            rid = f"i-{n:08x}"
            state["arn"] = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{rid}"
            state["availabilityZone"] = f"{REGION}a"
            state["rootBlockDevice"] = {**state.get("rootBlockDevice", {}), "volumeId": "vol-root0001"}
        elif typ == "aws:ebs/volume:Volume":
            rid = f"vol-{n:08x}"
        elif typ in ("aws:ebs/snapshot:Snapshot", "aws:ebs/snapshotCopy:SnapshotCopy"):
            rid = f"snap-{n:08x}"
        elif typ == "aws:iam/role:Role":
            rid = name
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif typ == "aws:iam/instanceProfile:InstanceProfile":
            rid = name
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"
        elif typ == "aws:kms/key:Key":
            rid = "1234abcd-12ab-34cd-56ef-1234567890ab"
            state["keyId"] = rid
            state["arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{rid}"
        elif typ == "aws:s3/bucket:Bucket":
            rid = state["bucket"]
            state["arn"] = f"arn:aws:s3:::{rid}"
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            rid = name
            state["arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        elif typ == "aws:sns/topic:Topic":
            state["arn"] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        state.setdefault("arn", f"arn:aws:mock:{REGION}:{ACCOUNT}:{args.name}")
        return rid, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        created = (datetime.now(UTC) - timedelta(days=AMI_AGE_DAYS, hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        )
        # A lookup that finds nothing fails as the engine reports a provider's invoke failure.
        if args.token == "aws:ssm/getParameter:getParameter":
            if args.args["name"] == MISSING_SSM_PARAMETER:
                return {}, [("name", f"reading SSM Parameter ({args.args['name']}): ParameterNotFound")]
            return {
                "id": args.args["name"],
                "name": args.args["name"],
                "value": SSM_AMI_ID,
                "type": "String",
            }, []
        if args.token == "aws:ec2/getAmi:getAmi":
            filters = {f["name"]: f["values"] for f in args.args.get("filters", [])}
            image = filters.get("image-id", [TAG_AMI_ID])[0]
            if image == MISSING_AMI_ID or MISSING_TAG_VALUE in str(filters):
                return {}, [
                    ("filters", "Your query returned no results. Please change your search criteria.")
                ]
            return {"id": image, "imageId": image, "creationDate": created, "state": "available"}, []
        raise AssertionError(f"unexpected call {args.token}")


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: FakeAws, registered: list[str] | None = None) -> None:
        super().__init__(mocks)
        self.options: dict[tuple[str, str], tuple[bool, bool, str, bool]] = {}
        self.registered = registered if registered is not None else []

    def RegisterResource(self, request: Any) -> Any:
        self.registered.append(request.type)
        self.options[(request.type, request.name)] = (
            bool(request.protect),
            bool(request.retainOnDelete),
            request.parent,
            bool(request.custom),
        )
        return super().RegisterResource(request)


def _ensure_event_loop() -> None:
    """Pulumi's runtime makes its futures on the thread's current event loop. An ``asyncio.run`` earlier in
    the same process (the stand-in's tests call its provider that way) leaves the main thread without one,
    so a program run must not depend on which tests its worker ran before."""
    policy = asyncio.get_event_loop_policy()
    try:
        policy.get_event_loop()
    except RuntimeError:
        policy.set_event_loop(policy.new_event_loop())


def run_under_mocks(
    program: Callable[[], None],
    flat_config: dict[str, str],
    mocks: Mocks,
    monitor: MockMonitor,
    *,
    project: str,
    stack: str,
) -> dict[str, Any]:
    """Run ``program`` once on a fresh Pulumi runtime under ``mocks`` with ``flat_config`` (namespaced keys);
    return its stack outputs. The runtime's config and root resource are reset afterwards, also when the
    program raises, so the next run starts clean."""
    _ensure_event_loop()
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(flat_config, [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        program()
        root = runtime_settings.get_root_resource()
        exported: dict[str, Any] = root.outputs  # type: ignore[union-attr]
        return pulumi.Output.from_input(exported).apply(outputs.update)

    try:
        run()
    finally:
        pulumi.runtime.set_all_config({}, [])
        runtime_settings.ROOT.set(None)
    return outputs


def run_program(registered: list[str] | None = None, **config: Any) -> ProgramRun:
    """Run forensic_environment with BASE_CONFIG + config (None removes a key) on a fresh runtime.

    ``registered`` collects every type registered with the engine, in order (also when the run raises)."""
    values = {**BASE_CONFIG, **config}
    flat = {
        f"forensics:{k}": v if isinstance(v, str) else json.dumps(v)
        for k, v in values.items()
        if v is not None
    }
    flat["aws:region"] = REGION
    mocks = FakeAws()
    monitor = RecordingMonitor(mocks, registered)
    outputs = run_under_mocks(
        forensic_environment, flat, mocks, monitor, project="forensics", stack="inv-test"
    )

    resources = []
    for urn, registration in monitor.resources.items():
        typ = urn.split("::")[2].split("$")[-1]
        name = urn.split("::")[3]
        protect, retain, parent, custom = monitor.options[(typ, name)]
        resources.append(Registered(typ, name, dict(registration.state), protect, retain, parent, custom))
    return ProgramRun(resources, outputs, mocks.calls)


# DNS Firewall rules name their group and domain list by id (several lists in one stack).
_BY_ID = "aws:route53/resolverFirewall"


def policy_resources(run: ProgramRun) -> list[Any]:
    """The run's resources as the policy tests declare them, with the mocks' ids (``<name>-id``) where
    rules tie resources by id and nothing else tells them apart (the engine gives ids or dependencies)."""
    import copy

    from tests.policy.harness import Res

    return [
        Res(
            r.type,
            r.name,
            {**copy.deepcopy(r.inputs), **({"id": f"{r.name}-id"} if _BY_ID in r.type else {})},
        )
        for r in run.custom()
    ]
