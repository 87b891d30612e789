"""Roles and what each may do. Endpoints ask for a permission, never for a role."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESPONDER = "responder"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    DATA_CUSTODIAN = "data_custodian"
    ADMIN = "admin"
    # Acts alone, loudly, when nobody else can be reached: a token of its own, never an everyday role's.
    BREAK_GLASS_OFFICER = "break_glass_officer"


class Permission(StrEnum):
    READ = "read"
    OPEN = "open"
    PREVIEW = "preview"
    REFRESH = "refresh"
    FREEZE = "freeze"
    RELEASE = "release"
    DESTROY = "destroy"
    # Pushing the expiry back: whoever may open or destroy a clean room.
    EXTEND = "extend"
    # Deciding what happens to evidence: deleting the bucket on destroy, lifting legal holds.
    RETENTION = "retention"
    # Acquiring evidence from an affected account into a clean room (snapshot, share, copy, hash, attach).
    ACQUIRE = "acquire"
    # Containing an affected instance in a source account (isolating it, protecting it) and asking for its
    # release; a release is done only once a second person holding this permission approves it.
    CONTAIN = "contain"
    # Deciding another person's request for just-in-time access to a clean-room role (never one's own).
    APPROVE_ACCESS = "approve_access"
    CANCEL = "cancel"
    AUDIT_READ = "audit_read"
    TOKENS = "tokens"
    # Acting alone on a request the two-person rule holds (POST /v1/investigations/{id}/break-glass). Only
    # the break-glass officer holds it: a custodian, responder or admin token that leaks, or one person in a
    # hurry, cannot skip the second person. Deleting evidence or lifting legal holds is never possible
    # through break-glass, whoever holds it (service/approvals/service.py).
    BREAK_GLASS = "break_glass"


_READ = {Permission.READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.RESPONDER: frozenset(
        _READ
        | {
            Permission.OPEN,
            Permission.PREVIEW,
            Permission.FREEZE,
            Permission.REFRESH,
            Permission.CANCEL,
            Permission.EXTEND,
            Permission.ACQUIRE,
            Permission.CONTAIN,
        }
    ),
    Role.INVESTIGATOR: frozenset(_READ),
    Role.ANALYST: frozenset(_READ),
    Role.DATA_CUSTODIAN: frozenset(
        _READ
        | {
            Permission.FREEZE,
            Permission.RELEASE,
            Permission.DESTROY,
            Permission.EXTEND,
            Permission.RETENTION,
            Permission.APPROVE_ACCESS,
            Permission.CANCEL,
            Permission.AUDIT_READ,
        }
    ),
    # Everything but break-glass: administering tokens and roles is not acting alone on evidence.
    Role.ADMIN: frozenset(set(Permission) - {Permission.BREAK_GLASS}),
    # What break-glass may act on (a release that keeps the legal holds, a long extension), and nothing that
    # deletes evidence or lifts holds (no retention), nor anything done without break-glass's alert.
    Role.BREAK_GLASS_OFFICER: frozenset(
        _READ | {Permission.BREAK_GLASS, Permission.RELEASE, Permission.EXTEND}
    ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
