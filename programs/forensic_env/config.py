"""The clean room's settings: read from the `forensics:` config namespace, validated before anything is built.

`validate_config` is pure (no engine needed), so the service can check a request up front with the same rules
the program applies; `load_config` reads the stack config through `pulumi.Config` and calls it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from programs.forensic_env.tags import RESERVED_TAG_KEYS
from programs.forensic_env.trust import (
    PERSON_ROLES,
    SESSION_NAME_PATTERN,
    SOURCE_IDENTITY_PATTERN,
    TRUST_POLICY_MAX_CHARS,
    AccessGrant,
    grants_in_force,
    person_trust_statements,
    policy_size,
    trust_document,
)

NAMESPACE = "forensics"
ObjectLockMode = Literal["GOVERNANCE", "COMPLIANCE"]
AmiSourceKind = Literal["id", "tag", "ssm"]

# The contract values the service, Pulumi.yaml and the docs restate: defined here only (the service imports
# them; tests/unit/test_contract_values.py holds Pulumi.yaml, README.md and docs/contracts.md to them).
# Patterns spell their classes out in ASCII: \d and \w would also take other scripts' digits and letters,
# which AWS does not, and the service checks the same strings with pydantic's (Rust) regex engine.
INVESTIGATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,40}$"
TICKET_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:#/-]{1,63}$"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_INSTANCE_TYPE = "t3.large"
# The workstation sizes a clean room may use unless the operator allows others (the service's
# FORENSICS_ALLOWED_INSTANCE_TYPES, which the policy pack reads too): general purpose and memory-heavy sizes
# for disk and memory analysis, none of the accelerated or metal ones a leaked token could run up a bill on.
DEFAULT_ALLOWED_INSTANCE_TYPES = (
    "t3.large",
    "t3.xlarge",
    "t3.2xlarge",
    "m5.large",
    "m5.xlarge",
    "m5.2xlarge",
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
    "r5.large",
    "r5.xlarge",
    "r5.2xlarge",
)
DEFAULT_VPC_CIDR = "10.77.0.0/16"
# Golden AMI parameters live under this prefix only: a caller cannot point the workstation at any parameter.
AMI_SSM_PREFIX = "/forensics/golden-ami/"
DEFAULT_AMI_SSM_PARAMETER = AMI_SSM_PREFIX + "latest"
# Images are looked up only among these owners ("self": the forensic account's own images).
DEFAULT_AMI_OWNERS = ("self",)
DEFAULT_MAX_AMI_AGE_DAYS = 30
DEFAULT_TTL_HOURS = 72
BREAK_GLASS_ROLE_NAME = "forensics-break-glass"
# The longest a clean room may live in all, extensions included: the service refuses an extension past it.
MAX_TTL_HOURS = 24 * 365
DEFAULT_OBJECT_LOCK_MODE: ObjectLockMode = "GOVERNANCE"
DEFAULT_OBJECT_LOCK_RETENTION_DAYS = 30
# Evidence volumes are attached on /dev/sdf .. /dev/sdp.
EVIDENCE_DEVICE_LETTERS = "fghijklmnop"
MAX_EVIDENCE_SNAPSHOTS = len(EVIDENCE_DEVICE_LETTERS)
EVIDENCE_ID_PATTERN = r"^[a-z0-9-]{1,40}$"
# Frozen disks are snapshotted under their artifact id, and the workstation's own disk under this one.
RESERVED_EVIDENCE_IDS = ("root",)
# Grants expire at a whole UTC second, in one spelling only: IAM reads it, and the service writes it the same.
GRANT_EXPIRY_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Every key the program reads, with its default (None: no default).
DEFAULTS: dict[str, Any] = {
    "investigationId": None,
    "ticket": None,
    "instanceType": DEFAULT_INSTANCE_TYPE,
    "vpcCidr": DEFAULT_VPC_CIDR,
    "amiId": None,
    "amiSsmParameter": DEFAULT_AMI_SSM_PARAMETER,
    "amiTag": None,
    "amiOwners": list(DEFAULT_AMI_OWNERS),
    "maxAmiAgeDays": DEFAULT_MAX_AMI_AGE_DAYS,
    "evidenceSnapshotIds": [],
    "evidence": [],
    "ttlHours": DEFAULT_TTL_HOURS,
    "tags": {},
    "trustedPrincipals": [],  # nobody but break-glass: never the account root
    # The service's own automation principal(s): they place legal holds and write freeze exports.
    "servicePrincipals": [],
    "breakGlassRoleArn": None,  # arn:aws:iam::<accountId>:role/forensics-break-glass
    "accountId": DEFAULT_ACCOUNT_ID,
    "assumeRoleArn": None,
    # The managed policy every role of the clean room carries as its permissions boundary: the deploy role
    # of programs/forensic_account may create no role without it.
    "permissionsBoundaryArn": None,
    "objectLockMode": DEFAULT_OBJECT_LOCK_MODE,
    "objectLockRetentionDays": DEFAULT_OBJECT_LOCK_RETENTION_DAYS,
    "retainEvidenceBucket": True,
    "frozen": False,
    "unprotect": False,
    # Just-in-time access: [{role, principalArn, person, expiresAt}], each a trust statement of that role.
    "grants": [],
}
CONFIG_KEYS: tuple[str, ...] = tuple(DEFAULTS)

_ID_RE = re.compile(INVESTIGATION_ID_PATTERN)
_TICKET_RE = re.compile(TICKET_PATTERN)
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
_AMI_ID_RE = re.compile(r"^ami-[0-9a-f]{8,17}$")
_SNAPSHOT_ID_RE = re.compile(r"^snap-[0-9a-f]{8,17}$")
_SSM_PARAMETER_RE = re.compile(r"^[A-Za-z0-9_.\-/]{1,2048}$")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9_+=,.@/-]+)$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
_POLICY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9_+=,.@/-]+$")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class ConfigError(ValueError):
    """A setting is missing or invalid; the message starts with the setting's full key."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key if ":" in key else f"{NAMESPACE}:{key}"
        self.detail = detail
        super().__init__(f"{self.key}: {detail}")


@dataclass(frozen=True)
class AmiSource:
    """Where the golden AMI comes from: an explicit id, the newest image with a tag, or an SSM parameter."""

    kind: AmiSourceKind
    value: str

    @property
    def tag(self) -> tuple[str, str]:
        key, _, value = self.value.partition("=")
        return key, value


@dataclass(frozen=True)
class EvidenceArtifact:
    """One evidence snapshot: always copied into the clean room (the copy is what is examined and kept),
    and, when `attach`, made into a volume from that copy and attached read-only to the workstation."""

    id: str
    snapshot_id: str
    attach: bool


@dataclass(frozen=True)
class EnvironmentConfig:
    investigation_id: str
    ticket: str
    region: str = DEFAULT_REGION
    instance_type: str = DEFAULT_INSTANCE_TYPE
    vpc_cidr: str = DEFAULT_VPC_CIDR
    ami_source: AmiSource = AmiSource("ssm", DEFAULT_AMI_SSM_PARAMETER)
    ami_owners: tuple[str, ...] = DEFAULT_AMI_OWNERS
    max_ami_age_days: int = DEFAULT_MAX_AMI_AGE_DAYS
    # The `evidenceSnapshotIds` shorthand as given; `evidence` holds every artifact, the shorthand's included.
    evidence_snapshot_ids: tuple[str, ...] = ()
    evidence: tuple[EvidenceArtifact, ...] = ()
    ttl_hours: int = DEFAULT_TTL_HOURS
    tags: Mapping[str, str] = field(default_factory=dict)
    trusted_principals: tuple[str, ...] = ()
    # Every grant declared, whatever the freeze; ``grants_in_force`` is what the trust policies hold.
    grants: tuple[AccessGrant, ...] = ()
    service_principals: tuple[str, ...] = ()
    # The one principal that may administer the key and the bucket's guard rails alone (break-glass).
    break_glass_role_arn: str = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{BREAK_GLASS_ROLE_NAME}"
    account_id: str = DEFAULT_ACCOUNT_ID
    assume_role_arn: str | None = None
    permissions_boundary_arn: str | None = None
    object_lock_mode: ObjectLockMode = DEFAULT_OBJECT_LOCK_MODE
    object_lock_retention_days: int = DEFAULT_OBJECT_LOCK_RETENTION_DAYS
    retain_evidence_bucket: bool = True
    frozen: bool = False
    unprotect: bool = False

    @property
    def name_prefix(self) -> str:
        """`forensics-<id>`: the prefix of every physical name (role names stay within IAM's 64 chars)."""
        return f"forensics-{self.investigation_id}"

    @property
    def evidence_bucket_name(self) -> str:
        """`forensics-<id>-evidence`: at most 60 characters, within S3's 63."""
        return f"{self.name_prefix}-evidence"

    @property
    def partition(self) -> str:
        return "aws"

    @property
    def grants_in_force(self) -> tuple[AccessGrant, ...]:
        """Frozen: only the custodian's grants (the others are revoked until a release)."""
        return grants_in_force(self.grants, self.frozen)

    @property
    def attached_evidence(self) -> tuple[EvidenceArtifact, ...]:
        """The artifacts attached to the workstation, in config order (their device letters' order)."""
        return tuple(a for a in self.evidence if a.attach)


# --- parsing helpers: values arrive as Python values (the service) or as config strings (the engine) ---


def _present(raw: Mapping[str, Any], key: str) -> bool:
    return key in raw and raw[key] is not None


def _string(raw: Mapping[str, Any], key: str) -> str | None:
    if not _present(raw, key):
        default = DEFAULTS[key]
        return default if isinstance(default, str) else None
    value = raw[key]
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {type(value).__name__} {value!r}")
    return value.strip()


def _required(raw: Mapping[str, Any], key: str) -> str:
    value = _string(raw, key)
    if not value:
        raise ConfigError(key, "is required")
    return value


def _positive_int(raw: Mapping[str, Any], key: str, maximum: int) -> int:
    value = raw[key] if _present(raw, key) else DEFAULTS[key]
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"{value!r} is not an integer")
    if not 0 < value <= maximum:
        raise ConfigError(key, f"{value} must be a positive integer (1..{maximum})")
    return value


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw[key] if _present(raw, key) else DEFAULTS[key]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(key, f"{value!r} is not a boolean (true/false)")


def _json(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    value = raw[key] if _present(raw, key) else DEFAULTS[key]
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return kind()
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(key, f"{value!r} is not valid JSON ({exc.msg})") from None
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, kind):
        raise ConfigError(key, f"expected a {'list' if kind is list else 'map'}, got {type(value).__name__}")
    return value


def _string_list(raw: Mapping[str, Any], key: str) -> list[str]:
    values = _json(raw, key, list)
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(key, "every item must be a string")
    return [v.strip() for v in values]


# --- validation of the individual settings ---


def _vpc_cidr(raw: Mapping[str, Any]) -> str:
    text = _required(raw, "vpcCidr")
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise ConfigError("vpcCidr", f"{text!r} is not a valid IPv4 CIDR") from None
    if not isinstance(network, ipaddress.IPv4Network) or "/" not in text:
        raise ConfigError("vpcCidr", f"{text!r} is not a valid IPv4 CIDR")
    if not 16 <= network.prefixlen <= 24:
        raise ConfigError("vpcCidr", f"{text!r} must be between /16 and /24")
    return str(network)


_OWNER_RE = re.compile(r"^(self|[0-9]{12})$")


def _ami_owners(raw: Mapping[str, Any]) -> tuple[str, ...]:
    owners = _string_list(raw, "amiOwners") if _present(raw, "amiOwners") else []
    for owner in owners:
        if not _OWNER_RE.match(owner):
            raise ConfigError("amiOwners", f"{owner!r} is not 'self' or a 12-digit account id")
    return tuple(owners) or DEFAULT_AMI_OWNERS


def _ami_source(raw: Mapping[str, Any]) -> AmiSource:
    """Exactly one source. `amiSsmParameter` has a default, which applies when neither `amiId` nor `amiTag`
    is set; an `amiSsmParameter` other than the default counts as an explicit choice, and an explicitly
    empty one switches the default off (leaving no source unless `amiId` or `amiTag` is set)."""
    ami_id = _string(raw, "amiId") or ""
    ami_tag = _string(raw, "amiTag") or ""
    ssm = _string(raw, "amiSsmParameter") or ""
    chosen: list[tuple[str, AmiSource]] = []
    if ami_id:
        if not _AMI_ID_RE.match(ami_id):
            raise ConfigError("amiId", f"{ami_id!r} is not an AMI id (ami-xxxxxxxx)")
        chosen.append(("amiId", AmiSource("id", ami_id)))
    if ami_tag:
        key, sep, value = ami_tag.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError("amiTag", f"{ami_tag!r} must look like Key=Value")
        chosen.append(("amiTag", AmiSource("tag", f"{key.strip()}={value.strip()}")))
    if ssm and not _SSM_PARAMETER_RE.match(ssm):
        raise ConfigError("amiSsmParameter", f"{ssm!r} is not an SSM parameter name")
    if ssm and not ssm.startswith(AMI_SSM_PREFIX):
        raise ConfigError("amiSsmParameter", f"{ssm!r} must be a parameter under {AMI_SSM_PREFIX}")
    if ssm and ssm != DEFAULT_AMI_SSM_PARAMETER:
        chosen.append(("amiSsmParameter", AmiSource("ssm", ssm)))
    if len(chosen) > 1:
        keys = " and ".join(f"{NAMESPACE}:{k}" for k, _ in chosen)
        raise ConfigError(chosen[1][0], f"choose exactly one golden AMI source, got {keys}")
    if chosen:
        return chosen[0][1]
    if ssm:
        return AmiSource("ssm", ssm)
    raise ConfigError(
        "amiSsmParameter",
        "no golden AMI source: set one of forensics:amiId, forensics:amiTag, forensics:amiSsmParameter",
    )


def _snapshots(raw: Mapping[str, Any]) -> tuple[str, ...]:
    ids = _string_list(raw, "evidenceSnapshotIds")
    for sid in ids:
        if not _SNAPSHOT_ID_RE.match(sid):
            raise ConfigError("evidenceSnapshotIds", f"{sid!r} is not an EBS snapshot id (snap-xxxxxxxx)")
    if len(set(ids)) != len(ids):
        raise ConfigError("evidenceSnapshotIds", "lists a snapshot more than once")
    if len(ids) > MAX_EVIDENCE_SNAPSHOTS:
        raise ConfigError(
            "evidenceSnapshotIds", f"at most {MAX_EVIDENCE_SNAPSHOTS} snapshots can be attached"
        )
    return tuple(ids)


_EVIDENCE_FIELDS = ("id", "snapshotId", "attach")
_EVIDENCE_ID_RE = re.compile(EVIDENCE_ID_PATTERN)


def _evidence_entry(item: Any, n: int) -> EvidenceArtifact:
    where = f"entry {n}"
    if not isinstance(item, dict):
        raise ConfigError("evidence", f"{where} must be an object with {', '.join(_EVIDENCE_FIELDS)}")
    unknown = sorted(str(k) for k in item if k not in _EVIDENCE_FIELDS)
    if unknown:
        raise ConfigError("evidence", f"{where} has unknown field(s) {', '.join(unknown)}")
    missing = [k for k in _EVIDENCE_FIELDS if k not in item or item[k] is None]
    if missing:
        raise ConfigError("evidence", f"{where} lacks {', '.join(missing)}")
    artifact_id, snapshot_id, attach = item["id"], item["snapshotId"], item["attach"]
    if not isinstance(artifact_id, str) or not _EVIDENCE_ID_RE.match(artifact_id):
        raise ConfigError("evidence", f"{where}: id {artifact_id!r} must match {EVIDENCE_ID_PATTERN}")
    where = f"entry {n} ({artifact_id})"
    if artifact_id in RESERVED_EVIDENCE_IDS:
        raise ConfigError("evidence", f"{where}: id {artifact_id!r} is reserved")
    if not isinstance(snapshot_id, str) or not _SNAPSHOT_ID_RE.match(snapshot_id):
        raise ConfigError(
            "evidence", f"{where}: snapshotId {snapshot_id!r} is not an EBS snapshot id (snap-xxxxxxxx)"
        )
    if not isinstance(attach, bool):
        raise ConfigError("evidence", f"{where}: attach {attach!r} is not a boolean (true/false)")
    return EvidenceArtifact(artifact_id, snapshot_id, attach)


def _evidence(raw: Mapping[str, Any], shorthand: tuple[str, ...]) -> tuple[EvidenceArtifact, ...]:
    """The shorthand's snapshots first (artifact id = snapshot id, attached), then `evidence` in order: a
    stack that adds entries later keeps the device letters its attached snapshots already have."""
    artifacts = [EvidenceArtifact(sid, sid, True) for sid in shorthand]
    shorthand_key = f"{NAMESPACE}:evidenceSnapshotIds"
    ids = dict.fromkeys(shorthand, shorthand_key)
    snapshots = dict.fromkeys(shorthand, shorthand_key)
    for n, item in enumerate(_json(raw, "evidence", list), start=1):
        artifact = _evidence_entry(item, n)
        if artifact.id in ids:
            raise ConfigError(
                "evidence", f"entry {n}: id {artifact.id!r} is already an artifact id (in {ids[artifact.id]})"
            )
        if artifact.snapshot_id in snapshots:
            raise ConfigError(
                "evidence",
                f"entry {n} ({artifact.id}): snapshot {artifact.snapshot_id} is already listed "
                f"(in {snapshots[artifact.snapshot_id]})",
            )
        ids[artifact.id] = snapshots[artifact.snapshot_id] = f"{NAMESPACE}:evidence"
        artifacts.append(artifact)
    attached = sum(a.attach for a in artifacts)
    if attached > MAX_EVIDENCE_SNAPSHOTS:
        raise ConfigError(
            "evidence",
            f"attaches {attached} snapshots (with forensics:evidenceSnapshotIds): at most "
            f"{MAX_EVIDENCE_SNAPSHOTS} snapshots can be attached",
        )
    return tuple(artifacts)


def _tags(raw: Mapping[str, Any]) -> dict[str, str]:
    tags = _json(raw, "tags", dict)
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not 0 < len(key) <= 128 or key.lower().startswith("aws:"):
            raise ConfigError("tags", f"{key!r} is not a valid tag key")
        if key in RESERVED_TAG_KEYS:
            raise ConfigError("tags", f"{key!r} is set by the program and cannot be overridden")
        if not isinstance(value, str | int | float | bool) or len(str(value)) > 256:
            raise ConfigError("tags", f"the value of {key!r} must be a string of at most 256 characters")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


_ROOT_RE = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:root$")


def _principals(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Named roles or users (SSO permission-set roles, say); never an account root, which would let every
    identity in the account with sts:AssumeRole become a data custodian."""
    principals = _string_list(raw, "trustedPrincipals") if _present(raw, "trustedPrincipals") else []
    for arn in principals:
        if not _PRINCIPAL_RE.match(arn) or _ROOT_RE.match(arn):
            raise ConfigError(
                "trustedPrincipals", f"{arn!r} is not an IAM role or user ARN (a root is refused)"
            )
    return tuple(principals)


_GRANT_FIELDS = ("role", "principalArn", "person", "expiresAt")
_SOURCE_IDENTITY_RE = re.compile(SOURCE_IDENTITY_PATTERN)
_SESSION_NAME_RE = re.compile(SESSION_NAME_PATTERN)
_GRANT_EXPIRY_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


def _grant_entry(item: Any, n: int) -> AccessGrant:
    where = f"entry {n}"
    if not isinstance(item, dict):
        raise ConfigError("grants", f"{where} must be an object with {', '.join(_GRANT_FIELDS)}")
    unknown = sorted(str(k) for k in item if k not in (*_GRANT_FIELDS, "sessionName"))
    if unknown:
        raise ConfigError("grants", f"{where} has unknown field(s) {', '.join(unknown)}")
    missing = [k for k in _GRANT_FIELDS if k not in item or item[k] is None]
    if missing:
        raise ConfigError("grants", f"{where} lacks {', '.join(missing)}")
    role, arn, person, expires = (item[k] for k in _GRANT_FIELDS)
    if role not in PERSON_ROLES:
        raise ConfigError("grants", f"{where}: role {role!r} is not one of {', '.join(PERSON_ROLES)}")
    where = f"entry {n} ({role})"
    # A root would hand the role to every identity of that account that may call sts:AssumeRole.
    if not isinstance(arn, str) or not _PRINCIPAL_RE.match(arn) or _ROOT_RE.match(arn):
        raise ConfigError(
            "grants", f"{where}: principalArn {arn!r} is not an IAM role or user ARN (never a root)"
        )
    if not isinstance(person, str) or not _SOURCE_IDENTITY_RE.match(person):
        raise ConfigError(
            "grants", f"{where}: person {person!r} is not a source identity ({SOURCE_IDENTITY_PATTERN})"
        )
    if not isinstance(expires, str) or not _GRANT_EXPIRY_RE.match(expires):
        raise ConfigError(
            "grants", f"{where}: expiresAt {expires!r} is not a UTC time like 2030-01-31T18:00:00Z"
        )
    try:
        datetime.strptime(expires, GRANT_EXPIRY_FORMAT)
    except ValueError:
        raise ConfigError("grants", f"{where}: expiresAt {expires!r} is not a valid time") from None
    session_name = item.get("sessionName")
    if session_name is not None:
        if not isinstance(session_name, str) or not _SESSION_NAME_RE.match(session_name):
            raise ConfigError(
                "grants",
                f"{where}: sessionName {session_name!r} is not a role session name ({SESSION_NAME_PATTERN})",
            )
        if ":role/" not in arn:
            raise ConfigError("grants", f"{where}: sessionName is for a role's sessions; {arn} is not a role")
    return AccessGrant(role, arn, person, expires, session_name)


def _grants(raw: Mapping[str, Any]) -> tuple[AccessGrant, ...]:
    """Past expiries are accepted: the trust condition refuses them, and the service removes them on its own
    schedule (an `up` must never fail because a grant ran out while it was queued)."""
    grants: list[AccessGrant] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(_json(raw, "grants", list), start=1):
        grant = _grant_entry(item, n)
        if grant.sid in seen:
            raise ConfigError("grants", f"entry {n} repeats entry {seen[grant.sid]}")
        seen[grant.sid] = n
        grants.append(grant)
    return tuple(grants)


def _check_trust_sizes(cfg: EnvironmentConfig) -> None:
    principals = list(cfg.trusted_principals) or [cfg.break_glass_role_arn]
    for role in PERSON_ROLES:
        statements = person_trust_statements(cfg.investigation_id, principals, cfg.grants_in_force, role)
        size = policy_size(trust_document(statements))
        if size > TRUST_POLICY_MAX_CHARS:
            raise ConfigError(
                "grants",
                f"the {role} role's trust policy would be {size} characters, over IAM's "
                f"{TRUST_POLICY_MAX_CHARS} (ACLSizePerRole): let a grant expire or be revoked first",
            )


def _break_glass(raw: Mapping[str, Any], account_id: str) -> str:
    arn = raw.get("breakGlassRoleArn") or f"arn:aws:iam::{account_id}:role/{BREAK_GLASS_ROLE_NAME}"
    if not isinstance(arn, str) or not _PRINCIPAL_RE.match(arn) or ":role/" not in arn:
        raise ConfigError("breakGlassRoleArn", f"{arn!r} is not an IAM role ARN")
    return arn


def _service_principals(raw: Mapping[str, Any]) -> tuple[str, ...]:
    principals = _string_list(raw, "servicePrincipals") if _present(raw, "servicePrincipals") else []
    for arn in principals:
        if not _PRINCIPAL_RE.match(arn):
            raise ConfigError("servicePrincipals", f"{arn!r} is not an IAM root, role or user ARN")
    return tuple(principals)


def validate_config(raw: Mapping[str, Any], *, region: str | None = None) -> EnvironmentConfig:
    """Validate settings given without namespace ("vpcCidr") or with it ("forensics:vpcCidr").

    Values may be Python values or the strings the engine hands the program (lists and maps as JSON).
    Raises ConfigError (a ValueError) naming the first bad setting.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        short = key.split(":", 1)[1] if key.startswith(f"{NAMESPACE}:") else key
        if short not in DEFAULTS:
            raise ConfigError(short, "is not a setting of the forensic environment")
        values[short] = value

    investigation_id = _required(values, "investigationId")
    if not _ID_RE.match(investigation_id):
        raise ConfigError("investigationId", f"{investigation_id!r} must match {INVESTIGATION_ID_PATTERN}")
    ticket = _required(values, "ticket")
    if not _TICKET_RE.match(ticket):
        raise ConfigError("ticket", f"{ticket!r} is not a ticket reference ({TICKET_PATTERN})")

    instance_type = _required(values, "instanceType")
    if not _INSTANCE_TYPE_RE.match(instance_type):
        raise ConfigError("instanceType", f"{instance_type!r} must look like family.size, e.g. t3.large")

    account_id = _required(values, "accountId")
    if not _ACCOUNT_RE.match(account_id):
        raise ConfigError("accountId", f"{account_id!r} is not a 12-digit AWS account id")

    assume_role_arn = _string(values, "assumeRoleArn") or None
    if assume_role_arn and not _ROLE_ARN_RE.match(assume_role_arn):
        raise ConfigError("assumeRoleArn", f"{assume_role_arn!r} is not an IAM role ARN")

    boundary = _string(values, "permissionsBoundaryArn") or None
    if boundary and not _POLICY_ARN_RE.match(boundary):
        raise ConfigError("permissionsBoundaryArn", f"{boundary!r} is not a customer managed policy ARN")

    mode = _required(values, "objectLockMode")
    if mode not in ("GOVERNANCE", "COMPLIANCE"):
        raise ConfigError("objectLockMode", f"{mode!r} must be GOVERNANCE or COMPLIANCE")

    region = (region or DEFAULT_REGION).strip()
    if not _REGION_RE.match(region):
        raise ConfigError("aws:region", f"{region!r} is not an AWS region")

    snapshot_ids = _snapshots(values)

    cfg = EnvironmentConfig(
        investigation_id=investigation_id,
        ticket=ticket,
        region=region,
        instance_type=instance_type,
        vpc_cidr=_vpc_cidr(values),
        ami_source=_ami_source(values),
        ami_owners=_ami_owners(values),
        max_ami_age_days=_positive_int(values, "maxAmiAgeDays", 3650),
        evidence_snapshot_ids=snapshot_ids,
        evidence=_evidence(values, snapshot_ids),
        ttl_hours=_positive_int(values, "ttlHours", MAX_TTL_HOURS),
        tags=_tags(values),
        trusted_principals=_principals(values),
        grants=_grants(values),
        break_glass_role_arn=_break_glass(values, account_id),
        service_principals=_service_principals(values),
        account_id=account_id,
        assume_role_arn=assume_role_arn,
        permissions_boundary_arn=boundary,
        object_lock_mode="COMPLIANCE" if mode == "COMPLIANCE" else "GOVERNANCE",
        object_lock_retention_days=_positive_int(values, "objectLockRetentionDays", 36500),
        retain_evidence_bucket=_bool(values, "retainEvidenceBucket"),
        frozen=_bool(values, "frozen"),
        unprotect=_bool(values, "unprotect"),
    )
    _check_trust_sizes(cfg)
    return cfg


def load_config() -> EnvironmentConfig:
    """Read the stack config (`forensics:*`, `aws:region`) and validate it; nothing is built before this."""
    import pulumi  # the pure validator above must not need the engine

    cfg = pulumi.Config(NAMESPACE)
    raw = {key: value for key in CONFIG_KEYS if (value := cfg.get(key)) is not None}
    return validate_config(raw, region=pulumi.Config("aws").get("region"))
