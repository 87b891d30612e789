"""What a notification says: one ``Notice`` rendered as ticket text and as a Slack Block Kit message."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.clock import as_utc
from service.investigations.models import Investigation

# Outputs worth showing first; other scalar outputs follow.
KEY_OUTPUTS = ("instanceId", "workstationPrivateIp", "vpcId", "evidenceBucket", "analystRoleArn", "kmsKeyArn")
_MAX_OUTPUTS = 12

HEADLINES = {
    "opened": "Forensic clean room requested: opening",
    "ready": "Forensic clean room is ready",
    "released": "Legal hold released: clean room is ready again",
    "frozen": "Clean room frozen under legal hold",
    "destroyed": "Clean room destroyed",
    "failed": "Clean room operation failed",
    "needs_attention": "Clean room needs attention",
    "status": "Clean room status changed",
    "ttl_warning": "Clean room expires soon",
    "freezing": "Clean room is being frozen for legal hold",
    "releasing": "Legal hold is being released",
    "destroying": "Clean room is being destroyed",
    "drift": "DRIFT detected in clean room (not remediated)",
    "extended": "Clean room expiry extended",
    "refused": "Request refused",
    "accepted": "Request accepted",
    "info": "Clean room",
    "progress": "Building the clean room",
    "approval_requested": "Second person needed: a request waits for approval",
    "approval_granted": "Request approved by a second person",
    "approval_denied": "Request denied",
    "approval_expired": "Request expired without a second person",
    "break_glass": "BREAK-GLASS: acted alone without a second person",
    "access_requested": "Access to a clean-room role requested",
    "access_approved": "Access approved",
    "access_denied": "Access denied",
    "access_granted": "Access granted: the role's trust policy admits the person",
    "access_expired": "Access expired",
    "access_lapsed": "Access request lapsed without a decision",
    "access_revoked": "Access revoked",
    "role_use_alert": "ALERT: a clean-room role was used without a live grant",
    "login_alert": "ALERT: someone signed in to a forensic account",
    "login_alert_malformed": "ALERT: a log-in alert could not be read",
    "action_done": "Done in the affected account",
    "action_failed": "FAILED in the affected account",
}
# Also sent to the notification channel: someone has to act (or look) now.
ALERTS = frozenset(
    {
        "failed",
        "needs_attention",
        "ttl_warning",
        "drift",
        "approval_requested",
        "approval_granted",
        "approval_denied",
        "approval_expired",
        "break_glass",
        "access_requested",
        "access_approved",
        "access_denied",
        "access_granted",
        "access_expired",
        "access_lapsed",
        "access_revoked",
        "role_use_alert",
        "login_alert",
        "login_alert_malformed",
        "action_failed",
    }
)
# The requests a chat message offers Approve / Deny buttons for: notice event -> the kind of request
# (service/integrations/slack_actions.py decides them).
DECIDABLE = {"approval_requested": "approval", "access_requested": "access"}
# Chatter for whoever is watching in chat; the ticket keeps only the state changes.
CHAT_ONLY = frozenset({"progress"})


def _when(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def snapshot(inv: Investigation) -> dict[str, Any]:
    """The plain data a message needs (stored in the outbox row, so rendering never reads the DB again)."""
    return {
        "id": inv.id,
        "ticket": inv.ticket,
        "title": inv.title,
        "status": inv.status,
        "region": inv.region,
        "expires_at": as_utc(inv.expires_at).isoformat() if inv.expires_at else None,
        "frozen": bool(inv.frozen),
        "attention_reason": inv.attention_reason,
        "outputs": key_outputs(inv.outputs or {}),
    }


def key_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    ordered = [k for k in KEY_OUTPUTS if k in outputs] + sorted(k for k in outputs if k not in KEY_OUTPUTS)
    shown = {k: outputs[k] for k in ordered if isinstance(outputs[k], str | int | float | bool)}
    return dict(list(shown.items())[:_MAX_OUTPUTS])


@dataclass
class Notice:
    event: str
    investigation: dict[str, Any]
    detail: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    # The id of the request to decide, for notices in DECIDABLE (chat shows Approve / Deny buttons).
    request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "investigation": self.investigation,
            "detail": self.detail,
            "facts": self.facts,
            "request_id": self.request_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notice:
        return cls(
            data["event"],
            data.get("investigation") or {},
            data.get("detail"),
            data.get("facts") or {},
            data.get("request_id"),
        )

    @property
    def headline(self) -> str:
        return HEADLINES.get(self.event, self.event)


def ticket_text(notice: Notice) -> str:
    inv = notice.investigation
    lines = [f"[forensics] {notice.headline}: {inv.get('id', '-')}"]
    if notice.detail:
        lines.append(notice.detail)
    lines.append(f"Status: {inv.get('status', '-')} | Region: {inv.get('region', '-')}")
    if inv.get("expires_at"):
        lines.append(f"Expires: {_when(datetime.fromisoformat(inv['expires_at']))}")
    for key, value in notice.facts.items():
        lines.append(f"{key}: {value}")
    outputs = inv.get("outputs") or {}
    if outputs and notice.event in ("ready", "released", "frozen", "status", "info"):
        lines.append("Outputs:")
        lines.extend(f"  {k}: {v}" for k, v in outputs.items())
    if inv.get("attention_reason") and notice.event == "needs_attention":
        lines.append(f"Reason: {inv['attention_reason']}")
    return "\n".join(lines)


def slack_message(notice: Notice, *, response_type: str = "ephemeral") -> dict[str, Any]:
    """A Block Kit message (with ``text`` as the notification fallback)."""
    inv = notice.investigation
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Investigation*\n`{inv.get('id', '-')}`"},
                {"type": "mrkdwn", "text": f"*Ticket*\n{inv.get('ticket', '-')}"},
                {"type": "mrkdwn", "text": f"*Status*\n{inv.get('status', '-')}"},
                {"type": "mrkdwn", "text": f"*Region*\n{inv.get('region', '-')}"},
            ],
        },
    ]
    if notice.detail:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": notice.detail[:2900]}})
    context = []
    if inv.get("expires_at"):
        context.append(f"Expires {_when(datetime.fromisoformat(inv['expires_at']))}")
    context.extend(f"{k}: {v}" for k, v in notice.facts.items())
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " | ".join(context)[:2900]}]}
        )
    outputs = inv.get("outputs") or {}
    if outputs and notice.event in ("ready", "released", "frozen", "status", "info"):
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n`{v}`"} for k, v in list(outputs.items())[:10]]
        blocks.append({"type": "section", "fields": fields})
    kind = DECIDABLE.get(notice.event)
    if kind is not None and notice.request_id:
        blocks.append(decision_buttons(kind, notice.request_id))
    return {
        "response_type": response_type,
        "replace_original": False,
        "text": f"{notice.headline}: {inv.get('id', '-')} ({inv.get('status', '-')})",
        "blocks": blocks,
    }


def decision_buttons(kind: str, request_id: str) -> dict[str, Any]:
    """Approve / Deny for a waiting request. The button says only what to decide; who decides comes from the
    signed interaction (the presser's mapped identity), and the same rules as the API apply."""
    return {
        "type": "actions",
        "block_id": f"decide:{kind}",
        "elements": [
            {
                "type": "button",
                "action_id": f"{kind}.approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "value": request_id,
            },
            {
                "type": "button",
                "action_id": f"{kind}.deny",
                "text": {"type": "plain_text", "text": "Deny"},
                "style": "danger",
                "value": request_id,
            },
        ],
    }


def text_message(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}
