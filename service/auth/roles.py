"""Roles and what each may do. Endpoints ask for a permission, never for a role."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESPONDER = "responder"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    DATA_CUSTODIAN = "data_custodian"
    ADMIN = "admin"


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
    # Deciding another person's request for just-in-time access to a clean-room role (never one's own).
    APPROVE_ACCESS = "approve_access"
    CANCEL = "cancel"
    AUDIT_READ = "audit_read"
    TOKENS = "tokens"


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
    Role.ADMIN: frozenset(Permission),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
