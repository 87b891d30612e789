"""What a teardown certificate proves: every resource a stack had, each shown gone (or retained and still
there) by AWS's own answer to a describe call made after the destroy.

``inventory`` lists the resources from the stack's export taken before the destroy; ``check_gone`` asks AWS
about each one, through one thin function per resource type (``CHECKERS``); ``problems`` says in words what
is not as it should be. A check never guesses: an answer that is neither "here it is" nor the API's own
not-found answer (access denied, throttling, a network error) leaves the resource "unchecked", never "gone".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

Status = Literal["gone", "retained", "present", "missing", "unchecked"]

# Not resources of the investigation: the stack itself and the provider instances the engine registers.
_STACK_TYPE = "pulumi:pulumi:Stack"
_PROVIDER_PREFIX = "pulumi:providers:"

# The few plain-string outputs a check reads (a bucket's name, a role policy's role, an attachment's volume
# and instance...). Nothing else is kept: outputs may hold policy documents, user data or secrets, which have
# no place in a certificate.
_KEPT_OUTPUTS = (
    "arn",
    "bucket",
    "key",
    "name",
    "role",
    "routeTableId",
    "subnetId",
    "gatewayId",
    "volumeId",
    "instanceId",
    "deviceName",
    "keyId",
)


class Clients(Protocol):
    """boto3 clients in the stack's account and region, by service name: ``clients("ec2")``."""

    def __call__(self, service: str, /) -> Any: ...


@dataclass(frozen=True)
class StackResource:
    urn: str
    type: str
    id: str
    # Left in place by a destroy (`retainOnDelete`, or read from outside the stack): must still exist.
    retained: bool
    outputs: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ResourceCheck:
    urn: str
    type: str
    id: str
    retained: bool
    status: Status
    # The call made and AWS's answer, e.g. "ec2:DescribeVpcs vpc-1 -> InvalidVpcID.NotFound".
    evidence: str

    @property
    def as_expected(self) -> bool:
        return self.status in ("gone", "retained")


def inventory(export: Mapping[str, Any]) -> list[StackResource]:
    """Every custom resource of a ``pulumi stack export`` (version 3), in state order. Resources awaiting
    deletion after a replacement (``delete: true``) are listed too: they existed in AWS all the same."""
    deployment = export.get("deployment")
    if not isinstance(deployment, Mapping):
        raise ValueError("not a stack export: no 'deployment' object")
    resources = deployment.get("resources") or []
    if not isinstance(resources, list):
        raise ValueError("not a stack export: 'deployment.resources' is not a list")
    listed = []
    for entry in resources:
        type_ = str(entry.get("type", ""))
        if not entry.get("custom") or type_ == _STACK_TYPE or type_.startswith(_PROVIDER_PREFIX):
            continue
        outputs = entry.get("outputs") or {}
        listed.append(
            StackResource(
                urn=str(entry["urn"]),
                type=type_,
                id=str(entry.get("id") or ""),
                retained=bool(entry.get("retainOnDelete") or entry.get("external")),
                outputs={k: outputs[k] for k in _KEPT_OUTPUTS if isinstance(outputs.get(k), str)},
            )
        )
    return listed


def check_gone(clients: Clients, resources: list[StackResource]) -> list[ResourceCheck]:
    """One describe-based check per resource, in the order given."""
    made: dict[str, Any] = {}

    def cached(service: str) -> Any:
        # One client per service for the whole certificate: creating one (and assuming a role) is slow.
        if service not in made:
            made[service] = clients(service)
        return made[service]

    return [_check(cached, resource) for resource in resources]


def problems(checks: list[ResourceCheck]) -> list[str]:
    out = []
    for check in checks:
        what = f"{check.type} {check.id or '(no id)'} ({check.urn})"
        if check.status == "present":
            out.append(f"{what} should be gone but is still there: {check.evidence}")
        elif check.status == "missing":
            out.append(f"{what} should have been retained but no longer exists: {check.evidence}")
        elif check.status == "unchecked":
            out.append(f"{what} could not be shown gone or retained: {check.evidence}")
    return out


def check_json(check: ResourceCheck) -> dict[str, Any]:
    """A check as a certificate lists it (``gone`` is what offline verification reads)."""
    return {
        "urn": check.urn,
        "type": check.type,
        "id": check.id,
        "retained": check.retained,
        "status": check.status,
        "gone": check.status == "gone",
        "evidence": check.evidence,
    }


# --- the checks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What one describe call showed: whether the resource exists, the call, and AWS's answer in short."""

    exists: bool
    call: str
    answer: str


class _Unanswered(Exception):
    """AWS answered neither with the resource nor with the API's not-found error."""

    def __init__(self, call: str, reason: str) -> None:
        super().__init__(f"{call} -> {reason}")
        self.call = call
        self.reason = reason


@dataclass(frozen=True)
class _Reply:
    body: Any  # the response; None when AWS said the thing does not exist
    code: str = ""


Checker = Callable[[Clients, StackResource], Observation]


def _check(clients: Clients, resource: StackResource) -> ResourceCheck:
    checker = CHECKERS.get(resource.type)
    if checker is None:
        status: Status = "unchecked"
        evidence = f"no describe call is known for {resource.type}: it cannot be shown gone"
    else:
        try:
            seen = checker(clients, resource)
        except _Unanswered as exc:
            status, evidence = "unchecked", str(exc)
        except (BotoCoreError, ClientError) as exc:
            status, evidence = "unchecked", f"{resource.type} {resource.id} -> {type(exc).__name__}: {exc}"
        else:
            evidence = f"{seen.call} -> {seen.answer}"
            if resource.retained:
                status = "retained" if seen.exists else "missing"
                evidence += " (retained)" if seen.exists else " (retained, but gone)"
            else:
                status = "present" if seen.exists else "gone"
    return ResourceCheck(
        urn=resource.urn,
        type=resource.type,
        id=resource.id,
        retained=resource.retained,
        status=status,
        evidence=evidence,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _ask(call: str, request: Callable[[], Any], not_found: Collection[str]) -> _Reply:
    """The response, or the not-found code if AWS gave one of ``not_found``; anything else is _Unanswered."""
    try:
        return _Reply(request())
    except ClientError as exc:
        code = _error_code(exc)
        if code in not_found:
            return _Reply(None, code)
        message = exc.response.get("Error", {}).get("Message", "")
        raise _Unanswered(call, f"{code or 'error'}: {message}" if message else code or str(exc)) from exc
    except BotoCoreError as exc:
        raise _Unanswered(call, f"{type(exc).__name__}: {exc}") from exc


def _gone(call: str, answer: str) -> Observation:
    return Observation(False, call, answer)


def _here(call: str, answer: str) -> Observation:
    return Observation(True, call, answer)


def _bucket_of(resource: StackResource) -> str:
    # pulumi-aws ids a bucket's sub-resource by its bucket ("bucket,owner" with an expected bucket owner).
    return resource.outputs.get("bucket") or resource.id.split(",", 1)[0]


# EC2 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ec2ById:
    """Describe<Things>(<Thing>Ids=[id]): gone on the API's NotFound code, an empty list, or a final state."""

    action: str
    ids_param: str
    listed: str
    not_found: str
    state: Callable[[dict[str, Any]], str]
    gone_states: Collection[str] = ()

    def __call__(self, clients: Clients, r: StackResource) -> Observation:
        call = f"ec2:{self.action} {r.id}"
        method = getattr(clients("ec2"), _snake(self.action))
        reply = _ask(call, lambda: method(**{self.ids_param: [r.id]}), {self.not_found})
        if reply.body is None:
            return _gone(call, reply.code)
        items = reply.body.get(self.listed) or []
        if not items:
            return _gone(call, f"no {self.listed}")
        current = self.state(items[0])
        return _gone(call, current) if current in self.gone_states else _here(call, current)


def _field(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda item: str(item.get(name, "listed"))


_VPC = _Ec2ById("DescribeVpcs", "VpcIds", "Vpcs", "InvalidVpcID.NotFound", _field("State"))
_SUBNET = _Ec2ById("DescribeSubnets", "SubnetIds", "Subnets", "InvalidSubnetID.NotFound", _field("State"))
_SECURITY_GROUP = _Ec2ById(
    "DescribeSecurityGroups",
    "GroupIds",
    "SecurityGroups",
    "InvalidGroup.NotFound",
    lambda g: f"group {g.get('GroupName', '')} listed",
)
_SECURITY_GROUP_RULE = _Ec2ById(
    "DescribeSecurityGroupRules",
    "SecurityGroupRuleIds",
    "SecurityGroupRules",
    "InvalidSecurityGroupRuleId.NotFound",
    lambda rule: f"rule of {rule.get('GroupId', '')} listed",
)
_ROUTE_TABLE = _Ec2ById(
    "DescribeRouteTables",
    "RouteTableIds",
    "RouteTables",
    "InvalidRouteTableID.NotFound",
    lambda t: f"{len(t.get('Associations') or [])} association(s)",
)
_VPC_ENDPOINT = _Ec2ById(
    "DescribeVpcEndpoints",
    "VpcEndpointIds",
    "VpcEndpoints",
    "InvalidVpcEndpointId.NotFound",
    _field("State"),
    gone_states=("deleted", "Deleted"),
)
# AWS answers an unknown flow log id with an empty list; the NotFound code is there for look-alikes.
_FLOW_LOG = _Ec2ById(
    "DescribeFlowLogs", "FlowLogIds", "FlowLogs", "InvalidFlowLogId.NotFound", _field("FlowLogStatus")
)
_VOLUME = _Ec2ById(
    "DescribeVolumes",
    "VolumeIds",
    "Volumes",
    "InvalidVolume.NotFound",
    _field("State"),
    gone_states=("deleted",),
)
_SNAPSHOT = _Ec2ById(
    "DescribeSnapshots", "SnapshotIds", "Snapshots", "InvalidSnapshot.NotFound", _field("State")
)


def _snake(action: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in action).lstrip("_")


def _route_table_association(clients: Clients, r: StackResource) -> Observation:
    """An association has no describe of its own: the route tables that still list it. A replaced
    association gets a new id in AWS, so the subnet (or gateway) is looked for in its route table too."""
    ec2 = clients("ec2")
    call = f"ec2:DescribeRouteTables association.route-table-association-id={r.id}"
    by_id = _ask(
        call,
        lambda: ec2.describe_route_tables(
            Filters=[{"Name": "association.route-table-association-id", "Values": [r.id]}]
        ),
        (),
    ).body
    if by_id["RouteTables"]:
        return _here(call, f"listed by {by_id['RouteTables'][0]['RouteTableId']}")
    table, subnet, gateway = (r.outputs.get(k, "") for k in ("routeTableId", "subnetId", "gatewayId"))
    member, name = (subnet, "association.subnet-id") if subnet else (gateway, "association.gateway-id")
    if not (table and member):
        return _gone(call, "none")
    again = f"ec2:DescribeRouteTables route-table-id={table} {name}={member}"
    found = _ask(
        again,
        lambda: ec2.describe_route_tables(
            Filters=[{"Name": "route-table-id", "Values": [table]}, {"Name": name, "Values": [member]}]
        ),
        (),
    ).body
    if found["RouteTables"]:
        return _here(again, f"{member} still associated with {table}")
    return _gone(call, f"none; {again} -> none")


def _instance_state(instance: dict[str, Any]) -> str:
    return str(instance.get("State", {}).get("Name", "listed"))


def _instance(clients: Clients, r: StackResource) -> Observation:
    return _instance_by_id(clients, r.id)


def _instance_by_id(clients: Clients, instance_id: str) -> Observation:
    call = f"ec2:DescribeInstances {instance_id}"
    ec2 = clients("ec2")
    reply = _ask(
        call, lambda: ec2.describe_instances(InstanceIds=[instance_id]), {"InvalidInstanceID.NotFound"}
    )
    if reply.body is None:
        return _gone(call, reply.code)
    instances = [i for reservation in reply.body.get("Reservations", []) for i in reservation["Instances"]]
    if not instances:
        return _gone(call, "no Instances")
    state = _instance_state(instances[0])
    # A terminated instance is listed for a while after it is gone; nothing of it is left to use.
    return _gone(call, state) if state == "terminated" else _here(call, state)


def _power_state(clients: Clients, r: StackResource) -> Observation:
    # An instance's declared power state is gone when the instance is: AWS has nothing else to describe.
    return _instance_by_id(clients, r.outputs.get("instanceId") or r.id)


def _volume_attachment(clients: Clients, r: StackResource) -> Observation:
    """Gone when the volume is, or when the volume lists no attachment to the instance."""
    volume_id, instance_id = r.outputs.get("volumeId", ""), r.outputs.get("instanceId", "")
    if not (volume_id and instance_id):
        raise _Unanswered(
            f"ec2:DescribeVolumes {volume_id or '?'}", "the stack did not record the volume/instance"
        )
    call = f"ec2:DescribeVolumes {volume_id} (attachment to {instance_id})"
    ec2 = clients("ec2")
    reply = _ask(call, lambda: ec2.describe_volumes(VolumeIds=[volume_id]), {"InvalidVolume.NotFound"})
    if reply.body is None:
        return _gone(call, reply.code)
    volumes = reply.body.get("Volumes") or []
    attached = [
        a
        for v in volumes
        for a in v.get("Attachments") or []
        if a.get("InstanceId") == instance_id and a.get("State") != "detached"
    ]
    if attached:
        return _here(call, str(attached[0].get("State", "attached")))
    return _gone(call, "volume gone" if not volumes else f"no attachment to {instance_id}")


# Found or not found --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """One Get/Describe call about the thing: gone on one of ``not_found``, otherwise ``found``.
    ``ask`` gives, from the stack's record, what the call names and the call's arguments."""

    api: str  # "<service>:<Action>"
    ask: Callable[[StackResource], tuple[str, dict[str, Any]]]
    not_found: Collection[str]
    found: str = "found"

    def __call__(self, clients: Clients, r: StackResource) -> Observation:
        service, action = self.api.split(":")
        subject, arguments = self.ask(r)
        call = f"{self.api} {subject}"
        method = getattr(clients(service), _snake(action))
        reply = _ask(call, lambda: method(**arguments), self.not_found)
        return _gone(call, reply.code) if reply.body is None else _here(call, self.found)


def _named(r: StackResource) -> str:
    return str(r.outputs.get("name") or r.id)


def _role_policy(r: StackResource) -> tuple[str, dict[str, Any]]:
    role, _, policy = r.id.partition(":")  # pulumi-aws's id: "<role>:<policy name>"
    role, policy = r.outputs.get("role") or role, r.outputs.get("name") or policy
    return f"{role}/{policy}", {"RoleName": role, "PolicyName": policy}


_RESOLVER_NOT_FOUND = ("ResourceNotFoundException",)
_NO_BUCKET = "NoSuchBucket"

_SNS_TOPIC = _Found(
    "sns:GetTopicAttributes", lambda r: (arn := r.outputs.get("arn") or r.id, {"TopicArn": arn}), {"NotFound"}
)
_FIREWALL_DOMAIN_LIST = _Found(
    "route53resolver:GetFirewallDomainList",
    lambda r: (r.id, {"FirewallDomainListId": r.id}),
    _RESOLVER_NOT_FOUND,
)
_FIREWALL_RULE_GROUP = _Found(
    "route53resolver:GetFirewallRuleGroup",
    lambda r: (r.id, {"FirewallRuleGroupId": r.id}),
    _RESOLVER_NOT_FOUND,
)
_IAM_ROLE = _Found("iam:GetRole", lambda r: (_named(r), {"RoleName": _named(r)}), {"NoSuchEntity"})
_IAM_ROLE_POLICY = _Found("iam:GetRolePolicy", _role_policy, {"NoSuchEntity"})
_INSTANCE_PROFILE = _Found(
    "iam:GetInstanceProfile", lambda r: (_named(r), {"InstanceProfileName": _named(r)}), {"NoSuchEntity"}
)
_BUCKET_POLICY = _Found(
    "s3:GetBucketPolicy",
    lambda r: (_bucket_of(r), {"Bucket": _bucket_of(r)}),
    (_NO_BUCKET, "NoSuchBucketPolicy"),
    found="policy found",
)


# CloudWatch Logs, KMS, SNS, SSM ---------------------------------------------------------------------------


def _log_group(clients: Clients, r: StackResource) -> Observation:
    name = r.outputs.get("name") or r.id
    call = f"logs:DescribeLogGroups {name}"
    logs = clients("logs")

    def listing() -> list[str]:
        pages = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        return [g["logGroupName"] for page in pages for g in page.get("logGroups", [])]

    names = _ask(call, listing, ()).body
    return _here(call, "listed") if name in names else _gone(call, "not listed")


def _kms_key(clients: Clients, r: StackResource) -> Observation:
    """A key cannot be deleted at once: scheduled for deletion is as gone as a key gets."""
    call = f"kms:DescribeKey {r.id}"
    kms = clients("kms")
    reply = _ask(call, lambda: kms.describe_key(KeyId=r.id), {"NotFoundException"})
    if reply.body is None:
        return _gone(call, reply.code)
    meta = reply.body["KeyMetadata"]
    state = str(meta.get("KeyState", "listed"))
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        when = meta.get("DeletionDate")
        due = f", deletion on {when.date().isoformat() if hasattr(when, 'date') else when}" if when else ""
        return _gone(call, f"{state} (scheduled for deletion{due}; a key cannot be deleted at once)")
    return _here(call, state)


def _kms_alias(clients: Clients, r: StackResource) -> Observation:
    # Aliases have no describe: ListAliases is the only way AWS shows one.
    name = r.outputs.get("name") or r.id
    call = f"kms:ListAliases {name}"
    kms = clients("kms")

    def listing() -> dict[str, str]:
        pages = kms.get_paginator("list_aliases").paginate()
        return {a["AliasName"]: a.get("TargetKeyId", "") for page in pages for a in page.get("Aliases", [])}

    aliases = _ask(call, listing, ()).body
    if name in aliases:
        return _here(call, f"listed (key {aliases[name]})" if aliases[name] else "listed")
    return _gone(call, "not listed")


def _ssm_document(clients: Clients, r: StackResource) -> Observation:
    name = r.outputs.get("name") or r.id
    call = f"ssm:DescribeDocument {name}"
    ssm = clients("ssm")
    reply = _ask(call, lambda: ssm.describe_document(Name=name), {"InvalidDocument"})
    if reply.body is None:
        return _gone(call, reply.code)
    return _here(call, str(reply.body["Document"].get("Status", "found")))


# Route 53 Resolver DNS Firewall ----------------------------------------------------------------------------


def _firewall_rule(clients: Clients, r: StackResource) -> Observation:
    group, _, domain_list = r.id.partition(":")  # pulumi-aws's id: "<rule group id>:<domain list id>"
    call = f"route53resolver:ListFirewallRules {group}"
    resolver = clients("route53resolver")
    reply = _ask(call, lambda: resolver.list_firewall_rules(FirewallRuleGroupId=group), _RESOLVER_NOT_FOUND)
    if reply.body is None:
        return _gone(call, f"{reply.code} (the rule group)")
    listed = [
        rule
        for rule in reply.body.get("FirewallRules", [])
        if rule.get("FirewallDomainListId") == domain_list
    ]
    return _here(call, f"listed for {domain_list}") if listed else _gone(call, f"none for {domain_list}")


def _firewall_association(clients: Clients, r: StackResource) -> Observation:
    call = f"route53resolver:GetFirewallRuleGroupAssociation {r.id}"
    resolver = clients("route53resolver")
    reply = _ask(
        call,
        lambda: resolver.get_firewall_rule_group_association(FirewallRuleGroupAssociationId=r.id),
        _RESOLVER_NOT_FOUND,
    )
    if reply.body is None:
        return _gone(call, reply.code)
    return _here(call, str(reply.body["FirewallRuleGroupAssociation"].get("Status", "found")))


# IAM ------------------------------------------------------------------------------------------------------


# S3 -------------------------------------------------------------------------------------------------------


def _bucket(clients: Clients, r: StackResource) -> Observation:
    name = _bucket_of(r)
    call = f"s3:HeadBucket {name}"
    s3 = clients("s3")
    # HeadBucket has no body: a missing bucket is a bare 404 ("403": there, but not ours to see).
    reply = _ask(call, lambda: s3.head_bucket(Bucket=name), ("404", "NotFound", _NO_BUCKET))
    if reply.body is None:
        return _gone(call, reply.code)
    return _here(call, str(reply.body.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)))


def _bucket_versioning(clients: Clients, r: StackResource) -> Observation:
    """Versioning cannot be turned off, only suspended: removing the resource suspends it (as pulumi-aws
    does), so "gone" is any status but Enabled."""
    name = _bucket_of(r)
    call = f"s3:GetBucketVersioning {name}"
    s3 = clients("s3")
    reply = _ask(call, lambda: s3.get_bucket_versioning(Bucket=name), (_NO_BUCKET,))
    if reply.body is None:
        return _gone(call, reply.code)
    status = str(reply.body.get("Status") or "never enabled")
    return _here(call, status) if status == "Enabled" else _gone(call, status)


def _bucket_encryption(clients: Clients, r: StackResource) -> Observation:
    """Since 2023 every bucket has SSE-S3 by default, so a deleted configuration reads back as that default
    (AES256 with no key) rather than as not found."""
    name = _bucket_of(r)
    call = f"s3:GetBucketEncryption {name}"
    s3 = clients("s3")
    reply = _ask(
        call,
        lambda: s3.get_bucket_encryption(Bucket=name),
        (_NO_BUCKET, "ServerSideEncryptionConfigurationNotFoundError"),
    )
    if reply.body is None:
        return _gone(call, reply.code)
    rules = reply.body.get("ServerSideEncryptionConfiguration", {}).get("Rules") or []
    defaults = [rule.get("ApplyServerSideEncryptionByDefault") or {} for rule in rules]
    algorithms = sorted({str(d.get("SSEAlgorithm", "")) for d in defaults} - {""})
    if algorithms in ([], ["AES256"]) and not any(d.get("KMSMasterKeyID") for d in defaults):
        return _gone(call, "AES256 only (the S3 default)" if algorithms else "no rules")
    return _here(call, ", ".join(algorithms))


def _bucket_public_access_block(clients: Clients, r: StackResource) -> Observation:
    name = _bucket_of(r)
    call = f"s3:GetPublicAccessBlock {name}"
    s3 = clients("s3")
    reply = _ask(
        call,
        lambda: s3.get_public_access_block(Bucket=name),
        (_NO_BUCKET, "NoSuchPublicAccessBlockConfiguration"),
    )
    if reply.body is None:
        return _gone(call, reply.code)
    flags = reply.body.get("PublicAccessBlockConfiguration", {})
    return _here(call, f"{sum(1 for v in flags.values() if v)} of {len(flags)} blocks on")


def _bucket_object_lock(clients: Clients, r: StackResource) -> Observation:
    """Object Lock stays enabled on a bucket for good; removing the resource removes the default retention
    rule, so "gone" is no rule."""
    name = _bucket_of(r)
    call = f"s3:GetObjectLockConfiguration {name}"
    s3 = clients("s3")
    reply = _ask(
        call,
        lambda: s3.get_object_lock_configuration(Bucket=name),
        (_NO_BUCKET, "ObjectLockConfigurationNotFoundError"),
    )
    if reply.body is None:
        return _gone(call, reply.code)
    retention = (reply.body.get("ObjectLockConfiguration", {}).get("Rule") or {}).get("DefaultRetention")
    if not retention:
        return _gone(call, "no default retention rule")
    span = f"{retention.get('Days') or retention.get('Years')} {'days' if retention.get('Days') else 'years'}"
    return _here(call, f"{retention.get('Mode', '')} {span}")


def _bucket_object(clients: Clients, r: StackResource) -> Observation:
    """Every version of the key, not only the current one: a delete marker over old versions still leaves the
    data in the bucket. (A bucket-level listing, too: object reads may be denied by the bucket policy.)"""
    bucket, key = _bucket_of(r), r.outputs.get("key") or r.id
    call = f"s3:ListObjectVersions {bucket}/{key}"
    s3 = clients("s3")

    def listing() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
            versions += [v for v in page.get("Versions", []) if v["Key"] == key]
            markers += [m for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        return versions, markers

    reply = _ask(call, listing, (_NO_BUCKET,))
    if reply.body is None:
        return _gone(call, reply.code)
    versions, markers = reply.body
    if not versions:
        return _gone(call, "no versions" + (" (delete markers only)" if markers else ""))
    if any(v.get("IsLatest") for v in versions):
        return _here(call, f"{len(versions)} version(s), current {_version_of(versions)}")
    if r.retained:
        # The retained object was deleted (its current version is a delete marker), though its data remains.
        return _gone(call, f"deleted (delete marker over {len(versions)} older version(s))")
    return _here(call, f"{len(versions)} older version(s) under a delete marker")


def _version_of(versions: list[dict[str, Any]]) -> str:
    return str(next((v.get("VersionId") for v in versions if v.get("IsLatest")), "?"))


CHECKERS: dict[str, Checker] = {
    "aws:ec2/vpc:Vpc": _VPC,
    "aws:ec2/subnet:Subnet": _SUBNET,
    "aws:ec2/securityGroup:SecurityGroup": _SECURITY_GROUP,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _SECURITY_GROUP_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _SECURITY_GROUP_RULE,
    "aws:ec2/routeTable:RouteTable": _ROUTE_TABLE,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _route_table_association,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _VPC_ENDPOINT,
    "aws:ec2/flowLog:FlowLog": _FLOW_LOG,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_versioning,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": _bucket_versioning,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _bucket_encryption
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_public_access_block,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _bucket_object_lock,
    "aws:s3/bucketPolicy:BucketPolicy": _BUCKET_POLICY,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:s3/bucketObject:BucketObject": _bucket_object,
    "aws:iam/role:Role": _IAM_ROLE,
    "aws:iam/rolePolicy:RolePolicy": _IAM_ROLE_POLICY,
    "aws:iam/instanceProfile:InstanceProfile": _INSTANCE_PROFILE,
    "aws:ec2/instance:Instance": _instance,
    "aws:ec2transitgateway/instanceState:InstanceState": _power_state,
    "aws:ebs/volume:Volume": _VOLUME,
    "aws:ec2/volumeAttachment:VolumeAttachment": _volume_attachment,
    "aws:ebs/snapshot:Snapshot": _SNAPSHOT,
    "aws:ebs/snapshotCopy:SnapshotCopy": _SNAPSHOT,
    "aws:sns/topic:Topic": _SNS_TOPIC,
    "aws:ssm/document:Document": _ssm_document,
    "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList": _FIREWALL_DOMAIN_LIST,
    "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup": _FIREWALL_RULE_GROUP,
    "aws:route53/resolverFirewallRule:ResolverFirewallRule": _firewall_rule,
    "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation": (
        _firewall_association
    ),
}
