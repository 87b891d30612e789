"""Who really used a clean room's roles: CloudTrail's AssumeRole events, judged against the grants.

Grants make role use attributable (each session carries its person as ``sts:SourceIdentity``); this reads
what AWS recorded and alerts on every use of an investigation's role that no live grant covered at that
moment: a session nobody granted, one by a standing principal from settings, one with another person's
source identity (or, for a grant to a shared role, another session of it), and every attempt STS refused.
On real AWS the scheduler reads the trail of each forensic account (``LookupEvents`` in every region enabled
there and us-east-1, through the deploy role) every ``cloudtrail_scan_minutes``, looking back
``cloudtrail_lookback_minutes`` (CloudTrail delivers events up to about 15 minutes late). The local AWS
records no CloudTrail events, so this module also reads records handed to it in CloudTrail's own JSON (a
``LookupEvents`` item, or a record of a log file delivered to S3), which is how it is tested.

Each event is alerted once (``RoleUseAlert`` keyed by the event id): to the ticket, chat and the audit log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from programs.forensic_env.config import BREAK_GLASS_ROLE_NAME
from programs.forensic_env.trust import PERSON_ROLES
from service import aws_clients
from service.access.models import AccessRequest, AccessStatus, RoleUseAlert
from service.audit import service as audit
from service.clock import as_utc
from service.config import Settings
from service.domain_events import RoleUsedWithoutGrant
from service.investigation_states import Status
from service.investigations.actions import StepContext
from service.investigations.models import Investigation

logger = logging.getLogger(__name__)

# Every way into a role STS logs; people come in with AssumeRole, but an attempt by any path is worth a look.
ASSUME_EVENTS = ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")
# The stack output naming each person's role (programs/forensic_env/environment.py).
ROLE_OUTPUTS = {role: f"{role}RoleArn" for role in PERSON_ROLES}
# Grants that were in force for some time (a lapsed or denied request never was).
_ONCE_LIVE = (AccessStatus.APPROVED, AccessStatus.ACTIVE, AccessStatus.EXPIRED, AccessStatus.REVOKED)

REFUSED, NO_GRANT, STANDING = "refused", "no_grant", "standing"


@dataclass(frozen=True)
class RoleUse:
    """One AssumeRole* event, as CloudTrail recorded it."""

    event_id: str
    at: datetime
    event_name: str
    role_arn: str
    caller: str
    source_identity: str | None
    error: str | None
    # The caller's own session of its role (the role session name, after the colon of aws:userid); None for
    # a caller that is no role session.
    caller_session: str | None = None


@dataclass(frozen=True)
class Finding:
    use: RoleUse
    investigation_id: str
    role: str
    finding: str
    detail: str


@dataclass
class ScanReport:
    read: int = 0
    alerts: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


# Reading CloudTrail's records


def role_uses(records: Iterable[Mapping[str, Any]]) -> Iterator[RoleUse]:
    """The AssumeRole* events among ``records``: ``LookupEvents`` items (their ``CloudTrailEvent`` JSON) or
    records of a trail's log files. Anything else is skipped; a record that is not CloudTrail's shape is
    logged and skipped, never guessed at."""
    for item in records:
        record: Any = item
        if "CloudTrailEvent" in item:
            try:
                record = json.loads(str(item["CloudTrailEvent"]))
            except ValueError:
                logger.warning("CloudTrail event %s is not JSON; skipped", item.get("EventId"))
                continue
        if not isinstance(record, dict) or record.get("eventSource") != "sts.amazonaws.com":
            continue
        if record.get("eventName") not in ASSUME_EVENTS:
            continue
        use = _role_use(record)
        if use is None:
            logger.warning("CloudTrail event %s has no role or time; skipped", record.get("eventID"))
            continue
        yield use


def _role_use(record: dict[str, Any]) -> RoleUse | None:
    request = record.get("requestParameters") or {}
    role_arn, event_id, when = request.get("roleArn"), record.get("eventID"), record.get("eventTime")
    if not (isinstance(role_arn, str) and isinstance(event_id, str) and isinstance(when, str)):
        return None
    try:
        at = as_utc(datetime.fromisoformat(when.replace("Z", "+00:00")))
    except ValueError:
        return None
    source_identity = request.get("sourceIdentity") or (record.get("responseElements") or {}).get(
        "sourceIdentity"
    )
    return RoleUse(
        event_id=event_id,
        at=at,
        event_name=str(record["eventName"]),
        role_arn=role_arn,
        caller=caller_of(record.get("userIdentity") or {}),
        source_identity=str(source_identity) if source_identity else None,
        error=str(record["errorCode"]) if record.get("errorCode") else None,
        caller_session=session_of(record.get("userIdentity") or {}),
    )


def caller_of(identity: Mapping[str, Any]) -> str:
    """The principal that asked: for a role session, the role itself (its sessions are the role's, as IAM
    trust sees them); otherwise the identity's ARN, or what names it."""
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    if identity.get("type") == "AssumedRole" and issuer:
        return str(issuer)
    return str(identity.get("arn") or identity.get("principalId") or identity.get("invokedBy") or "unknown")


def session_of(identity: Mapping[str, Any]) -> str | None:
    """The role session name of an AssumedRole caller: its ``principalId`` is ``aws:userid``,
    ``<role id>:<session name>`` (a session name holds no colon)."""
    if identity.get("type") != "AssumedRole":
        return None
    user_id = str(identity.get("principalId") or "")
    return user_id.rsplit(":", 1)[1] if ":" in user_id else None


def principal_key(arn: str) -> tuple[str, str, str] | None:
    """(account, kind, name) of an IAM role or user ARN, or of a role session's ARN: the same role whatever
    its path and whichever session (role and user names are unique in their account)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
        return None
    account, resource = parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if kind == "assumed-role":
        return (account, "role", rest.split("/", 1)[0])
    if kind in ("role", "user"):
        return (account, kind, rest.rsplit("/", 1)[-1])
    return (account, kind, rest)


# Judging


def judge(session: Session, settings: Settings, uses: Iterable[RoleUse]) -> list[Finding]:
    """Every use of an investigation's person role that no live grant covered. A use is covered when a grant
    of that role to that principal (and, for a grant bound to a session of a shared role, by that session),
    for that person as source identity, was in force at the event's time."""
    roles = _investigation_roles(session)
    standing = {principal_key(arn) for arn in _standing_principals(settings)}
    findings: list[Finding] = []
    for use in uses:
        target = roles.get(principal_key(use.role_arn))
        if target is None:
            continue  # not a clean room's role
        investigation_id, role = target
        if use.error:
            detail = f"and STS refused it ({use.error})"
            findings.append(Finding(use, investigation_id, role, REFUSED, detail))
            continue
        if _covered(session, investigation_id, role, use):
            continue
        if principal_key(use.caller) in standing:
            detail = "as a standing principal from settings, without a grant"
            findings.append(Finding(use, investigation_id, role, STANDING, detail))
            continue
        who = f"source identity {use.source_identity}" if use.source_identity else "no source identity"
        findings.append(Finding(use, investigation_id, role, NO_GRANT, f"with {who} and no live grant"))
    return findings


def _investigation_roles(session: Session) -> dict[tuple[str, str, str] | None, tuple[str, str]]:
    rows = session.execute(
        select(Investigation.id, Investigation.outputs).where(Investigation.status != Status.DESTROYED)
    )
    roles: dict[tuple[str, str, str] | None, tuple[str, str]] = {}
    for investigation_id, outputs in rows:
        for role, output in ROLE_OUTPUTS.items():
            arn = (outputs or {}).get(output)
            if isinstance(arn, str) and principal_key(arn) is not None:
                roles[principal_key(arn)] = (investigation_id, role)
    return roles


def _standing_principals(settings: Settings) -> list[str]:
    """Who the trust policies admit without a grant: the principals from settings, and break-glass (as
    configured, or its default name in each forensic account)."""
    break_glass = (
        [settings.break_glass_role_arn]
        if settings.break_glass_role_arn
        else [f"arn:aws:iam::{a.account_id}:role/{BREAK_GLASS_ROLE_NAME}" for a in settings.accounts.values()]
    )
    return [*settings.human_principal_arns, *break_glass]


def _covered(session: Session, investigation_id: str, role: str, use: RoleUse) -> bool:
    grants = session.execute(
        select(AccessRequest).where(
            AccessRequest.investigation_id == investigation_id,
            AccessRequest.role == role,
            AccessRequest.status.in_(_ONCE_LIVE),
        )
    ).scalars()
    caller = principal_key(use.caller)
    for grant in grants:
        if grant.decided_at is None or grant.expires_at is None:
            continue
        end = as_utc(grant.expires_at)
        if grant.status == AccessStatus.REVOKED:
            end = min(end, as_utc(grant.updated_at))
        if (
            principal_key(grant.principal_arn) == caller
            and (grant.session_name is None or grant.session_name == use.caller_session)
            and grant.person == use.source_identity
            and as_utc(grant.decided_at) <= use.at < end
        ):
            return True
    return False


# Alerting, once per event


def record_findings(ctx: StepContext, findings: Iterable[Finding]) -> list[str]:
    """Keeps, audits and announces each finding not seen before; returns the event ids newly alerted."""
    alerted: list[str] = []
    with ctx.unit_of_work() as uow:
        now = uow.clock()
        for finding in findings:
            use = finding.use
            if uow.session.get(RoleUseAlert, use.event_id) is not None:
                continue
            uow.session.add(
                RoleUseAlert(
                    event_id=use.event_id[:64],
                    investigation_id=finding.investigation_id,
                    role_arn=use.role_arn[:2048],
                    caller=use.caller[:2048],
                    source_identity=(use.source_identity or None) and use.source_identity[:64],
                    event_time=use.at,
                    finding=finding.finding,
                    detail=finding.detail[:2000],
                    found_at=now,
                )
            )
            uow.session.flush()
            audit.record(
                uow.session,
                uow.clock,
                actor=audit.SYSTEM,
                action="access.role_use_alert",
                target=f"investigation/{finding.investigation_id}",
                outcome=finding.finding,
                details={
                    "event_id": use.event_id,
                    "event_name": use.event_name,
                    "event_time": use.at.isoformat(),
                    "role": finding.role,
                    "role_arn": use.role_arn,
                    "caller": use.caller,
                    "source_identity": use.source_identity,
                    "error": use.error,
                },
            )
            uow.emit(
                RoleUsedWithoutGrant(
                    finding.investigation_id,
                    use.event_id,
                    use.role_arn,
                    use.caller,
                    use.source_identity,
                    use.at,
                    finding.detail,
                )
            )
            alerted.append(use.event_id)
    return alerted


def check_records(ctx: StepContext, records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Judge CloudTrail records (LookupEvents items or log file records) and alert on what is new."""
    with ctx.unit_of_work() as uow:
        findings = judge(uow.session, ctx.settings, role_uses(records))
    return record_findings(ctx, findings)


# Reading the trail (real AWS)

# STS's global endpoint (sts.amazonaws.com) logs its calls in this region's trail only.
GLOBAL_ENDPOINT_REGION = "us-east-1"

ClientFor = Callable[[str, str, str | None], Any]


def _trail_accounts(settings: Settings) -> dict[str, tuple[list[str], str | None]]:
    """Each forensic account once: its forensic regions (sorted) and the deploy role the service reads it
    through (the first region's)."""
    accounts: dict[str, tuple[list[str], str | None]] = {}
    for region, account in sorted(settings.accounts.items()):
        regions, role = accounts.get(account.account_id, ([], account.deploy_role_arn))
        accounts[account.account_id] = ([*regions, region], role)
    return accounts


def trail_regions(ec2: Any, forensic_regions: Iterable[str]) -> list[str]:
    """Where an account's AssumeRole calls can be logged: every region enabled in it (a caller may use any
    regional STS endpoint), us-east-1 (the global endpoint) and its forensic regions, each once."""
    enabled = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    return sorted({*enabled, GLOBAL_ENDPOINT_REGION, *forensic_regions})


def scan(ctx: StepContext, now: datetime, client_for: ClientFor | None = None) -> ScanReport:
    """Reads every forensic account's AssumeRole* events of the last ``cloudtrail_lookback_minutes`` in every
    region enabled in it and us-east-1 (``trail_regions``), and alerts on what no grant covered; an event
    seen in several regions is judged once. One region's failure (throttling, a missing permission, a
    disabled region) is reported and does not stop the others; when the enabled regions cannot be listed,
    the forensic regions and us-east-1 are still read."""
    settings = ctx.settings
    make = client_for or (
        lambda service, region, role_arn: aws_clients.client(settings, service, region, role_arn=role_arn)
    )
    start = now - timedelta(minutes=settings.cloudtrail_lookback_minutes)
    report = ScanReport()
    for account_id, (forensic_regions, role_arn) in _trail_accounts(settings).items():
        try:
            regions = trail_regions(make("ec2", forensic_regions[0], role_arn), forensic_regions)
        except Exception as exc:
            logger.exception("listing the enabled regions of %s", account_id)
            report.errors[f"{account_id}/regions"] = f"{type(exc).__name__}: {exc}"
            regions = sorted({GLOBAL_ENDPOINT_REGION, *forensic_regions})
        records: dict[str, Mapping[str, Any]] = {}
        for region in regions:
            try:
                for record in _lookup(make("cloudtrail", region, role_arn), start, now):
                    records.setdefault(_event_id(record), record)
            except Exception as exc:
                logger.exception("reading CloudTrail in %s (%s)", region, account_id)
                report.errors[f"{account_id}/{region}"] = f"{type(exc).__name__}: {exc}"
        report.read += len(records)
        report.alerts.extend(check_records(ctx, records.values()))
    return report


def _event_id(record: Mapping[str, Any]) -> str:
    """A LookupEvents item's EventId (a log file record's eventID); CloudTrail gives one event the same id in
    every region's trail that shows it."""
    return str(record.get("EventId") or record.get("eventID") or id(record))


def _lookup(client: Any, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    for name in ASSUME_EVENTS:
        yield from lookup_events(client, "EventName", name, start, end)


def lookup_events(
    client: Any, attribute: str, value: str, start: datetime, end: datetime
) -> Iterator[Mapping[str, Any]]:
    """LookupEvents items whose ``attribute`` (EventName, ResourceName, Username, AccessKeyId, ...) equals
    ``value``, between ``start`` and ``end``, every page. LookupEvents takes one attribute per call."""
    pages = client.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": attribute, "AttributeValue": value}],
        StartTime=start,
        EndTime=end,
    )
    for page in pages:
        yield from page.get("Events", [])
