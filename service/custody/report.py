# ReportLab ships no type information (its imports are let through in pyproject.toml): its classes are Any.
# mypy: allow-subclassing-any
"""Render a CustodyReport for counsel: HTML (screen and browser print) and PDF (ReportLab).

Every string in the report may have come from inside the evidence (file names, tags, ticket titles), so both
renderers treat all of it as hostile: HTML through Jinja2 with autoescape, PDF with every value escaped
before it enters ReportLab's paragraph markup and cut to a size that cannot overflow a page. Characters a
reader could be fooled by (bidi overrides, zero-width and control characters) are shown as ``[U+XXXX]``
rather than applied, so a file name cannot disguise itself in the report.

Both renderers read the same prepared view (``_view``), so the HTML and the PDF cannot disagree about what a
value says.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from service.custody.report_model import CustodyReport

__all__ = ["render_html", "render_pdf"]

DASH = "—"
VERIFY_COMMAND = "forensics verify <file> --public-key <pem>"

STATEMENT_KINDS = {
    "freeze_manifest": "Freeze manifest",
    "teardown_certificate": "Teardown certificate",
    "audit_anchor": "Audit anchor",
}
INVESTIGATION_FIELDS = (
    ("id", "Investigation"),
    ("ticket", "Ticket"),
    ("title", "Title"),
    ("status", "Status"),
    ("account_id", "AWS account"),
    ("region", "Region"),
    ("stack_name", "Stack"),
    ("created_by", "Created by"),
    ("created_at", "Created"),
    ("expires_at", "Expires"),
    ("frozen", "Frozen"),
    ("legal_hold", "Legal hold"),
)
SOURCE_FIELDS = (
    ("account_id", "Account"),
    ("region", "Region"),
    ("instance_id", "Instance"),
    ("snapshot_id", "Snapshot"),
    ("bucket", "Bucket"),
    ("key", "Key"),
    # Collected logs (service/custody/log_collection.py): which source, how many records, for which window,
    # and the calls that produced them.
    ("log_source", "Log source"),
    ("record_count", "Records"),
    ("window", "Window"),
    ("query", "Query"),
)


# --------------------------------------------------------------------------------------------------------
# Values to text, shared by both renderers


def _clean(text: str) -> str:
    """Text safe to show: invisible or direction-changing characters made visible, lone surrogates gone."""
    # A lone surrogate (from a JSON "\ud800" escape) would make the page unencodable.
    text = text.encode("utf-8", "replace").decode("utf-8")
    out = []
    for char in text:
        if char in "\n\t":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


def _text(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, Mapping | list | tuple):
        return _dumps(value)
    return _clean(str(value))


def _dumps(value: Any, indent: int | None = None) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=indent is None, default=str)
    except (TypeError, ValueError):  # keys of mixed types, or a structure that contains itself
        text = str(value)
    return _clean(text)


def _when(value: Any, zone: bool = True) -> str:
    """A time in UTC; without the zone for table columns whose heading already says "(UTC)"."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return _clean(value)
    if not isinstance(value, datetime):
        return _text(value)
    # Stored times are UTC; a naive one is taken as UTC rather than the reader's zone.
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if zone else "%Y-%m-%d %H:%M:%S")


def _clock(value: Any) -> str:
    return _when(value, zone=False)


def _size(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        return _text(value)
    amount = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if amount < 1024 or unit == "PiB":
            break
        amount /= 1024
    if unit == "bytes":
        return f"{value:,} bytes"
    return f"{amount:.1f} {unit} ({value:,} bytes)"


def _rows(items: Any) -> list[Mapping[str, Any]]:
    """The dict rows of a list; anything else in it becomes a row of its text, so nothing is dropped."""
    if not isinstance(items, list | tuple):
        return []
    return [item if isinstance(item, Mapping) else {"_raw": item} for item in items]


def _pairs(value: Any, order: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """A dict as (label, text) pairs: known keys first, in their order and label, then any others."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [("", _text(value))]
    known = dict(order)
    pairs = [(label, _text(value[key])) for key, label in order if value.get(key) not in (None, "")]
    pairs += [(_text(key), _text(item)) for key, item in value.items() if key not in known]
    return pairs


def _humanize(kind: Any) -> str:
    if isinstance(kind, str) and kind in STATEMENT_KINDS:
        return STATEMENT_KINDS[kind]
    text = _text(kind)
    return text.replace("_", " ").capitalize() if text != DASH else "Statement"


def _pretty_json(value: Any) -> str:
    return _dumps(value, indent=2)


# --------------------------------------------------------------------------------------------------------
# The view: every value as display text


@dataclass(frozen=True)
class _Check:
    """A verification outcome in words, with a level the renderers colour ("ok", "bad", "unknown")."""

    label: str
    level: str


@dataclass(frozen=True)
class _Evidence:
    id: str
    kind: str
    status: str
    size: str
    source: list[tuple[str, str]]
    source_line: str
    sha256_source: str
    sha256_copy: str
    hash_check: _Check
    copy: list[tuple[str, str]]


@dataclass(frozen=True)
class _Event:
    seq: str
    time: str
    event: str
    artifact: str
    actor: str
    role: str
    where: list[tuple[str, str]]
    hashes: list[tuple[str, str]]
    hash: str
    prev_hash: str


@dataclass(frozen=True)
class _Statement:
    anchor: str
    title: str
    key: str
    format: str
    check: _Check
    problems: list[str]
    algorithm: str
    key_id: str
    digest: str
    fingerprint: str
    signature: str
    statement_json: str
    has_document: bool


@dataclass(frozen=True)
class _Policy:
    summary: list[tuple[str, str]]
    rows: list[tuple[str, str, str]]
    raw_json: str | None
    check: _Check


@dataclass(frozen=True)
class _View:
    investigation_id: str
    case_title: str
    generated_at: str
    generated_by: str
    summary: list[tuple[str, str]]
    glance: list[tuple[str, str]]
    operations: list[dict[str, str]]
    timeline: list[dict[str, str]]
    role_holders: list[dict[str, str]]
    evidence: list[_Evidence]
    events: list[_Event]
    policy: _Policy
    statements: list[_Statement]
    # Each step of an instance's containment and release (custody events contained / restored).
    containment: list[dict[str, str]] = field(default_factory=list)
    verify_command: str = VERIFY_COMMAND
    sections: list[tuple[str, str]] = field(
        default_factory=lambda: [
            ("summary", "Case summary"),
            ("operations", "Operations"),
            ("timeline", "Audit timeline"),
            ("roles", "Role holders"),
            ("evidence", "Evidence"),
            ("containment", "Containment timeline"),
            ("custody", "Custody events"),
            ("policy", "Policy results"),
            ("statements", "Signed statements"),
            ("verify", "Verifying the statements offline"),
        ]
    )


def _fields(row: Mapping[str, Any], names: Iterable[str], times: Iterable[str] = ()) -> dict[str, str]:
    time_names = set(times)
    shown = {name: (_clock if name in time_names else _text)(row.get(name)) for name in names}
    # A row that was not a dict keeps its text here, so nothing in the input goes unshown.
    shown["unrecognised"] = _text(row["_raw"]) if "_raw" in row else ""
    return shown


def _hash_check(source: Any, copy: Any, kind: Any = None) -> _Check:
    if kind == "object" and source and not copy:
        # An object found in the bucket is hashed once, at registration: there is no copy to compare.
        return _Check("hashed at registration", "ok")
    if not source or not copy:
        return _Check("not yet recorded", "unknown")
    if str(source).strip().lower() == str(copy).strip().lower():
        return _Check("match", "ok")
    return _Check("MISMATCH", "bad")


def _evidence(row: Mapping[str, Any]) -> _Evidence:
    source = _pairs(row.get("source"), SOURCE_FIELDS)
    copy = [
        ("Copy snapshot", _text(row.get("copy_snapshot_id"))),
        ("Volume", _text(row.get("volume_id"))),
        ("Device", _text(row.get("device"))),
    ]
    raw = [("Unrecognised entry", _text(row["_raw"]))] if "_raw" in row else []
    return _Evidence(
        id=_text(row.get("id")),
        kind=_text(row.get("kind")),
        status=_text(row.get("status")),
        size=_size(row.get("size_bytes")),
        source=source + raw,
        source_line=", ".join(f"{label} {text}" if label else text for label, text in source) or DASH,
        sha256_source=_text(row.get("sha256_source")),
        sha256_copy=_text(row.get("sha256_copy")),
        hash_check=_hash_check(row.get("sha256_source"), row.get("sha256_copy"), row.get("kind")),
        copy=copy,
    )


def _event(row: Mapping[str, Any]) -> _Event:
    return _Event(
        seq=_text(row.get("seq")),
        time=_clock(row.get("time")),
        event=_text(row.get("event", row.get("_raw"))),
        artifact=_text(row.get("artifact_id")),
        actor=_text(row.get("actor")),
        role=_text(row.get("role")),
        where=_pairs(row.get("where")),
        hashes=_pairs(row.get("hashes")),
        hash=_text(row.get("hash")),
        prev_hash=_text(row.get("prev_hash")),
    )


# Custody events that are steps of a containment or of its release (service/containment).
CONTAINMENT_EVENTS = ("contained", "restored")


def _containment(rows: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    steps = []
    for row in rows:
        if row.get("event") not in CONTAINMENT_EVENTS:
            continue
        where: Mapping[str, Any] = row["where"] if isinstance(row.get("where"), Mapping) else {}
        details: Mapping[str, Any] = row["details"] if isinstance(row.get("details"), Mapping) else {}
        done = {k: v for k, v in details.items() if k != "step"}
        steps.append(
            {
                "time": _clock(row.get("time")),
                "event": _text(row.get("event")),
                "step": _text(details.get("step")),
                "instance": _text(where.get("instance_id")),
                "account": _text(where.get("account")),
                "asked_by": _text(row.get("actor")),
                "record": _text(row.get("artifact_id")),
                "done": _dumps(done) if done else DASH,
            }
        )
    return steps


def _verification(verified: Any) -> _Check:
    if verified is True:
        return _Check("Verified", "ok")
    if verified is False:
        return _Check("FAILED verification", "bad")
    return _Check("Not checked", "unknown")


def _statement(index: int, row: Mapping[str, Any]) -> _Statement:
    document: Any = row.get("document")
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError:
            document = {"statement": _text(document)}
    if not isinstance(document, Mapping):
        document = {}
    signature = document.get("signature")
    signature = signature if isinstance(signature, Mapping) else {}
    problems = row.get("problems")
    if isinstance(problems, str):
        problems = [problems]
    return _Statement(
        anchor=f"statement-{index}",
        title=_humanize(row.get("kind") or document.get("kind")),
        key=_text(row.get("key")),
        format=_text(document.get("format")),
        check=_verification(row.get("verified")),
        problems=[_text(p) for p in problems] if isinstance(problems, list | tuple) else [],
        algorithm=_text(signature.get("algorithm")),
        key_id=_text(signature.get("keyId")),
        digest=_text(signature.get("digest")),
        fingerprint=_text(signature.get("publicKeyFingerprint")),
        signature=_text(signature.get("value")),
        statement_json=_pretty_json(document.get("statement")) if "statement" in document else DASH,
        has_document=bool(document),
    )


_POLICY_NAME_KEYS = ("policy_name", "name", "policy", "id")
_POLICY_RESULT_KEYS = ("result", "status", "outcome", "passed", "enforcement_level")
_POLICY_MESSAGE_KEYS = ("message", "reason", "detail", "details", "description")


def _first(row: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((row[k] for k in keys if row.get(k) not in (None, "")), None)


def _policy_row(name: Any, row: Any) -> tuple[str, str, str]:
    if not isinstance(row, Mapping):
        return (_text(name), _text(row), DASH)
    name = _first(row, _POLICY_NAME_KEYS) or name
    if row.get("policy_pack"):
        name = f"{_text(row['policy_pack'])} / {_text(name)}"
    result = _first(row, _POLICY_RESULT_KEYS)
    if isinstance(result, bool):
        result = "passed" if result else "failed"
    message = _text(_first(row, _POLICY_MESSAGE_KEYS))
    if row.get("urn"):
        message = f"{message} (resource {_text(row['urn'])})"
    return (_text(name), _text(result), message)


def _policy(results: Any) -> _Policy:
    """The policy gate's results as name / result / message rows where the shape allows, else raw JSON.

    Understood shapes: the service's own ``{"passed", "violations": [...]}``, a list of rows under
    "results" / "policies", or a mapping of policy name to a result or to a row.
    """
    if not isinstance(results, Mapping) or not results:
        return _Policy([], [], None, _Check("no policy results recorded", "unknown"))
    summary = [
        (label, (_when if key == "checked_at" else _text)(results[key]))
        for key, label in (("checked_at", "Checked"), ("operation_id", "Operation"), ("action", "Action"))
        if key in results
    ]
    passed = results.get("passed")
    check = _Check("no overall result", "unknown")
    if isinstance(passed, bool):
        check = _Check("all policies passed", "ok") if passed else _Check("policy violations", "bad")
    rows: list[tuple[str, str, str]] | None = None
    if isinstance(results.get("violations"), list):
        rows = []
        for violation in _rows(results["violations"]):
            name, level, message = _policy_row(DASH, violation)
            rows.append((name, f"violation ({level})" if level != DASH else "violation", message))
    for key in ("results", "policies"):
        if rows is None and isinstance(results.get(key), list):
            rows = [_policy_row(DASH, row) for row in _rows(results[key])]
    known = {"checked_at", "operation_id", "action", "passed", "violations", "results", "policies"}
    others = {k: v for k, v in results.items() if k not in known}
    if rows is None and others and all(isinstance(k, str) for k in others):
        rows = [_policy_row(name, row) for name, row in others.items()]
        others = {}
    if rows is None:
        return _Policy(summary, [], _pretty_json(results), check)
    # Keys the table does not show still reach the reader.
    raw = _pretty_json(others) if others else None
    return _Policy(summary, rows, raw, check)


def _glance(
    view_evidence: list[_Evidence], events: list[_Event], statements: list[_Statement]
) -> list[tuple[str, str]]:
    kinds: dict[str, int] = {}
    for item in view_evidence:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    kind_text = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    checks = [item.hash_check.level for item in view_evidence]
    if not checks:
        hashes = DASH
    elif all(level == "ok" for level in checks):
        hashes = f"all {len(checks)} copies match their source"
    else:
        parts = [
            f"{checks.count('ok')} match",
            f"{checks.count('bad')} MISMATCH" if "bad" in checks else "",
            f"{checks.count('unknown')} not yet recorded" if "unknown" in checks else "",
        ]
        hashes = ", ".join(p for p in parts if p)
    verdicts = [s.check.level for s in statements]
    if not verdicts:
        signed = "none recorded"
    else:
        signed = f"{verdicts.count('ok')} of {len(verdicts)} verified"
        if "bad" in verdicts:
            signed += f", {verdicts.count('bad')} FAILED"
        if "unknown" in verdicts:
            signed += f", {verdicts.count('unknown')} not checked"
    return [
        ("Evidence items", f"{len(view_evidence)}" + (f" ({kind_text})" if kind_text else "")),
        ("Source / copy SHA-256", hashes),
        ("Custody events", str(len(events))),
        ("Signed statements", signed),
    ]


def _view(report: CustodyReport) -> _View:
    investigation = report.investigation if isinstance(report.investigation, Mapping) else {}
    summary = [
        (label, (_when if key in ("created_at", "expires_at") else _text)(investigation.get(key)))
        for key, label in INVESTIGATION_FIELDS
    ]
    summary += [
        (_text(key), _text(value))
        for key, value in investigation.items()
        if key not in dict(INVESTIGATION_FIELDS)
    ]
    evidence = [_evidence(row) for row in _rows(report.evidence)]
    events = [_event(row) for row in _rows(report.custody_events)]
    statements = [_statement(i, row) for i, row in enumerate(_rows(report.statements), start=1)]
    policy = _policy(report.policy_results)
    glance = _glance(evidence, events, statements)
    glance.append(("Policy gate", policy.check.label))
    return _View(
        investigation_id=_text(investigation.get("id")),
        case_title=_text(investigation.get("title")),
        generated_at=_when(report.generated_at),
        generated_by=_text(report.generated_by),
        summary=summary,
        glance=glance,
        operations=[
            _fields(
                row,
                ("id", "action", "state", "requested_by", "created_at", "started_at", "finished_at", "error"),
                times=("created_at", "started_at", "finished_at"),
            )
            for row in _rows(report.operations)
        ],
        timeline=[
            _fields(row, ("id", "time", "actor", "role", "action", "target", "outcome"), times=("time",))
            for row in _rows(report.timeline)
        ],
        role_holders=[
            _fields(
                row, ("principal", "role", "granted_by", "from", "until", "source"), times=("from", "until")
            )
            for row in _rows(report.role_holders)
        ],
        evidence=evidence,
        events=events,
        policy=policy,
        statements=statements,
        containment=_containment(_rows(report.custody_events)),
    )


# --------------------------------------------------------------------------------------------------------
# HTML

_environment = Environment(
    loader=PackageLoader("service.custody", "templates"),
    # On for every template name, not only *.html: the report's data is attacker-controlled.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(report: CustodyReport) -> str:
    """The report as one self-contained HTML page: inline CSS, no scripts, no external assets."""
    return _environment.get_template("report.html.j2").render(view=_view(report))


# --------------------------------------------------------------------------------------------------------
# PDF

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 18 * mm
_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_INK = colors.HexColor("#1a1a1a")
_MUTED = colors.HexColor("#4a4f57")
_ACCENT = colors.HexColor("#1f3a5f")
_RULE = colors.HexColor("#b7c0cb")
_HEAD_FILL = colors.HexColor("#e4e9f0")
_ZEBRA = colors.HexColor("#f5f7fa")
_LEVEL_COLOURS = {"ok": "#0b6b2f", "bad": "#a11616", "unknown": "#5b5f66"}

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=13, textColor=_INK)
_STYLES = {
    "title": ParagraphStyle("title", parent=_BODY, fontName="Helvetica-Bold", fontSize=22, leading=27),
    "subtitle": ParagraphStyle("subtitle", parent=_BODY, fontSize=13, leading=17, textColor=_ACCENT),
    "meta": ParagraphStyle("meta", parent=_BODY, fontSize=9, textColor=_MUTED),
    "h1": ParagraphStyle(
        "h1",
        parent=_BODY,
        fontName="Helvetica-Bold",
        fontSize=14,
        leading=18,
        textColor=_ACCENT,
        spaceBefore=10,
        spaceAfter=6,
        keepWithNext=1,
    ),
    "h2": ParagraphStyle(
        "h2",
        parent=_BODY,
        fontName="Helvetica-Bold",
        fontSize=11,
        leading=14,
        textColor=_INK,
        spaceBefore=8,
        spaceAfter=4,
        keepWithNext=1,
    ),
    "body": _BODY,
    "note": ParagraphStyle("note", parent=_BODY, fontSize=8.5, leading=11.5, textColor=_MUTED, spaceAfter=4),
    "empty": ParagraphStyle("empty", parent=_BODY, fontSize=9, textColor=_MUTED, spaceBefore=4, spaceAfter=4),
    "label": ParagraphStyle(
        "label", parent=_BODY, fontSize=8.5, leading=11.5, textColor=_MUTED, spaceBefore=8, keepWithNext=1
    ),
    "cell": ParagraphStyle("cell", parent=_BODY, fontSize=8, leading=10),
    "cell_head": ParagraphStyle("cell_head", parent=_BODY, fontName="Helvetica-Bold", fontSize=8, leading=10),
    "mono": ParagraphStyle("mono", parent=_BODY, fontName="Courier", fontSize=7.5, leading=9.5),
    "code": ParagraphStyle("code", parent=_BODY, fontName="Courier", fontSize=7, leading=8.6),
    "signature": ParagraphStyle(
        "signature",
        parent=_BODY,
        fontName="Courier",
        fontSize=7.5,
        leading=9.5,
        backColor=_ZEBRA,
        borderColor=_RULE,
        borderWidth=0.5,
        borderPadding=5,
        # Indented by the padding, so the box lines up with the tables' edges.
        leftIndent=5,
        rightIndent=0,
        spaceBefore=6,
        spaceAfter=10,
    ),
    "bullet": ParagraphStyle("bullet", parent=_BODY, leftIndent=14, bulletIndent=3, spaceAfter=3),
}

# No table cell may be taller than this: ReportLab fails the whole build on a row it cannot place on a
# page, and hostile text (one endless word, thousands of lines) would otherwise make one. Two stacked rows
# of a custody event stay under a page too. Hashes and signatures are far below it.
_MAX_CELL_HEIGHT = 300.0
_CELL_PADDING = 8.0
# Beyond this many characters nothing is laid out at all; the HTML report has the full text.
_HARD_CAP = 20_000
# The first prefix the search for the longest that fits a cell lays out: a few lines of a narrow column.
_FIRST_PROBE = 256


def _pdf_text(text: str) -> str:
    """Text for the standard PDF fonts (Windows-1252 glyphs): others are shown as [U+XXXX], not as boxes."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            out.append(f"[U+{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


def _markup(text: str) -> str:
    """Paragraph markup for plain text: escaped, so "<" and "&" in evidence are text, not tags."""
    return _xml_escape(text).replace("\t", "    ").replace("\n", "<br/>")


def _shortened(text: str, keep: int) -> str:
    if keep >= len(text):
        return text
    return f"{text[:keep]}… [{len(text) - keep:,} more characters; the HTML report has them all]"


def _before_line_break(text: str, end: int, count: int) -> int:
    """Where the ``count``-th line break of ``text[:end]`` is (the longest prefix with fewer), or ``end``."""
    at = -1
    for _ in range(count):
        at = text.find("\n", at + 1, end)
        if at < 0:
            return end
    return at


def _para(
    text: str,
    style: str = "cell",
    *,
    width: float | None = None,
    limit: int = _HARD_CAP,
    colour: str | None = None,
    max_height: float = _MAX_CELL_HEIGHT,
) -> Paragraph:
    """A paragraph of plain text; given the column width, cut so that it is at most max_height tall."""
    full = _pdf_text(text)

    def build(keep: int) -> Paragraph:
        markup = _markup(_shortened(full, keep))
        if colour:
            markup = f'<font color="{colour}"><b>{markup}</b></font>'
        return Paragraph(markup, _STYLES[style])

    keep = min(len(full), limit)
    if width is None:
        return build(keep)
    room = width - _CELL_PADDING

    def fits(length: int) -> bool:
        return bool(build(length).wrap(room, 1e9)[1] <= max_height)

    # Every line break starts a line of the style's leading, so no prefix longer than this fits: the search
    # measures only prefixes that might, not thousands of lines that cannot.
    longest = _before_line_break(full, keep, int(max_height // _STYLES[style].leading) + 1)
    if longest == keep:
        paragraph = build(keep)
        if paragraph.wrap(room, 1e9)[1] <= max_height:
            return paragraph
    # The longest prefix that still fits, found by measuring rather than guessing at glyph widths. Laying
    # out a prefix costs in proportion to its length and what fits a cell is short, so the search first
    # doubles a short prefix until it no longer fits, then halves the last step.
    low, high = 0, min(keep - 1, longest)
    probe = _FIRST_PROBE
    while probe < high:
        if not fits(probe):
            high = probe - 1
            break
        low, probe = probe, 2 * probe
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return build(low)


def _label_value(
    pairs: Sequence[tuple[str, str]], widths: tuple[float, float], mono: bool = False
) -> list[list[Flowable]]:
    return [
        [
            _para(label, "cell_head", width=widths[0]),
            _para(value, "mono" if mono else "cell", width=widths[1]),
        ]
        for label, value in pairs
    ]


def _grid(
    data: list[list[Flowable]], widths: Sequence[float], header: bool = True, zebra: bool = True
) -> Table:
    table = Table(data, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), _HEAD_FILL))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), _HEAD_FILL))
    if zebra:
        start = 1 if header else 0
        commands += [("BACKGROUND", (1 - start, r), (-1, r), _ZEBRA) for r in range(start + 1, len(data), 2)]
    table.setStyle(TableStyle(commands))
    return table


def _columns(
    header: Sequence[str],
    rows: Sequence[Sequence[str | Flowable]],
    widths: Sequence[float],
    mono: Iterable[int] = (),
) -> Table:
    mono_columns = set(mono)
    data: list[list[Flowable]] = [[_para(h, "cell_head") for h in header]]
    for row in rows:
        data.append(
            [
                _para(value, "mono" if i in mono_columns else "cell", width=widths[i])
                if isinstance(value, str)
                else value
                for i, value in enumerate(row)
            ]
        )
    return _grid(data, widths)


def _verdict(check: _Check, width: float) -> Paragraph:
    """A verification outcome in its colour; the words carry the meaning, the colour only helps."""
    return _para(check.label, width=width, colour=_LEVEL_COLOURS[check.level])


def _scaled(fractions: Sequence[float]) -> list[float]:
    total = sum(fractions)
    return [_WIDTH * f / total for f in fractions]


def _heading(text: str, key: str, room: float = 120) -> list[Flowable]:
    """A section heading, moved to the next page unless `room` points are left below it for the content."""
    heading = Paragraph(_markup(text), _STYLES["h1"])
    heading.outline_key = key  # read back in afterFlowable, for the PDF's bookmarks
    return [CondPageBreak(room), heading]


def _empty(text: str) -> Paragraph:
    return Paragraph(f"<i>{_markup(text)}</i>", _STYLES["empty"])


def _section_summary(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [
        Paragraph("Custody report", _STYLES["title"]),
        Spacer(1, 4),
        _para(f"Investigation {view.investigation_id}", "subtitle", limit=300),
        _para(view.case_title, "subtitle", limit=1000),
        Spacer(1, 4),
        _para(f"Generated {view.generated_at} by {view.generated_by}", "meta", limit=400),
        Spacer(1, 10),
        *_heading("Case summary", "summary"),
        _grid(_label_value(view.summary, (120, _WIDTH - 120)), (120, _WIDTH - 120), header=False),
        Spacer(1, 8),
        Paragraph("At a glance", _STYLES["h2"]),
    ]
    glance = _label_value(view.glance, (120, _WIDTH - 120))
    flow.append(_grid(glance, (120, _WIDTH - 120), header=False))
    flow.append(Spacer(1, 8))
    flow.append(Paragraph("Contents", _STYLES["h2"]))
    flow += [
        Paragraph(_markup(title), _STYLES["bullet"], bulletText="•") for _key, title in view.sections[1:]
    ]
    return flow


def _joined(value: str, unrecognised: str) -> str:
    return f"{value}\n{unrecognised}" if unrecognised else value


def _section_operations(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [*_heading("Operations", "operations")]
    if not view.operations:
        return [*flow, _empty("No operations recorded.")]
    rows = [
        [
            op["id"],
            op["action"],
            op["state"],
            op["requested_by"],
            f"created {op['created_at']}\nstarted {op['started_at']}\nfinished {op['finished_at']}",
            _joined(op["error"], op["unrecognised"]),
        ]
        for op in view.operations
    ]
    header = ("Operation", "Action", "State", "Requested by", "Times (UTC)", "Error")
    flow.append(_columns(header, rows, _scaled((55, 48, 55, 92, 128, 115)), mono=(0,)))
    return flow


def _section_timeline(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [
        *_heading("Audit timeline", "timeline"),
        Paragraph("Every audited action on the investigation, oldest first.", _STYLES["note"]),
    ]
    if not view.timeline:
        return [*flow, _empty("No audit entries recorded.")]
    rows = [
        [
            e["time"],
            e["actor"],
            e["role"],
            e["action"],
            _joined(e["target"], e["unrecognised"]),
            e["outcome"],
            e["id"],
        ]
        for e in view.timeline
    ]
    header = ("Time (UTC)", "Actor", "Role", "Action", "Target", "Outcome", "Entry")
    flow.append(_columns(header, rows, _scaled((84, 88, 52, 80, 112, 45, 32)), mono=(6,)))
    return flow


def _section_roles(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [*_heading("Role holders", "roles")]
    if not view.role_holders:
        return [*flow, _empty("No grants recorded.")]
    rows = [
        [
            _joined(r["principal"], r["unrecognised"]),
            r["role"],
            r["granted_by"],
            r["from"],
            r["until"],
            r["source"],
        ]
        for r in view.role_holders
    ]
    header = ("Principal", "Role", "Granted by", "From (UTC)", "Until (UTC)", "Source")
    flow.append(_columns(header, rows, _scaled((100, 62, 95, 84, 84, 68))))
    return flow


def _section_evidence(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [*_heading("Evidence", "evidence")]
    if not view.evidence:
        return [*flow, _empty("No evidence acquired.")]
    widths = _scaled((66, 45, 142, 84, 50, 76))
    rows = [
        [e.id, e.kind, e.source_line, e.size, e.status, _verdict(e.hash_check, widths[-1])]
        for e in view.evidence
    ]
    header = ("Evidence", "Kind", "Source", "Size", "Status", "SHA-256 source vs copy")
    flow.append(_columns(header, rows, widths, mono=(0,)))
    label_width = 110.0
    value_width = _WIDTH - label_width
    for item in view.evidence:
        title = f"{item.id} — {item.kind}"
        data: list[list[Flowable]] = [
            [_para(title, "cell_head", width=_WIDTH), ""],
            *_label_value(item.source, (label_width, value_width)),
            *_label_value(
                [("SHA-256 of source", item.sha256_source), ("SHA-256 of copy", item.sha256_copy)],
                (label_width, value_width),
                mono=True,
            ),
            [
                _para("Hashes", "cell_head"),
                _verdict(item.hash_check, value_width),
            ],
            *_label_value(
                [("Size", item.size), ("Status", item.status), *item.copy], (label_width, value_width)
            ),
        ]
        table = _grid(data, (label_width, value_width), header=True, zebra=False)
        table.setStyle(TableStyle([("SPAN", (0, 0), (-1, 0)), ("BACKGROUND", (0, 1), (0, -1), _ZEBRA)]))
        flow += [Spacer(1, 8), KeepTogether([table])]
    return flow


def _section_containment(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [
        *_heading("Containment timeline", "containment"),
        Paragraph(
            "Each step of an affected instance's containment and release, who asked for it, and the record "
            "(an evidence artifact, hashed) it is undone from.",
            _STYLES["note"],
        ),
    ]
    if not view.containment:
        return [*flow, _empty("No instance was contained.")]
    rows = [
        [e["time"], e["instance"], e["event"], e["step"], e["asked_by"], e["record"], e["done"]]
        for e in view.containment
    ]
    header = ("Time (UTC)", "Instance", "Event", "Step", "Asked by", "Record", "Done")
    flow.append(_columns(header, rows, _scaled((70, 70, 45, 60, 80, 60, 108)), mono=(1, 5)))
    return flow


def _section_custody(view: _View) -> list[Flowable]:
    flow: list[Flowable] = [
        *_heading("Custody events", "custody"),
        Paragraph(
            "The custody ledger in order. Each event records the hash of the one before it (prev), so an "
            "event removed or altered afterwards breaks the chain.",
            _STYLES["note"],
        ),
    ]
    if not view.events:
        return [*flow, _empty("No custody events recorded.")]
    widths = _scaled((24, 84, 90, 66, 100, 129))
    header = ("Seq", "Time (UTC)", "Event", "Artifact", "Actor (role)", "Where")
    data: list[list[Flowable]] = [[_para(h, "cell_head") for h in header]]
    commands: list[tuple[Any, ...]] = []
    chain_width = sum(widths[1:])
    for event in view.events:
        top = len(data)
        where = "\n".join(f"{k}: {v}" if k else v for k, v in event.where) or DASH
        values = [event.seq, event.time, event.event, event.artifact, f"{event.actor} ({event.role})", where]
        data.append([_para(v, width=w) for v, w in zip(values, widths, strict=True)])
        lines = [f"{k or 'hash'}: {v}" for k, v in event.hashes]
        lines += [f"event hash: {event.hash}", f"prev hash:  {event.prev_hash}"]
        data.append(["", _para("\n".join(lines), "mono", width=chain_width)])
        commands += [
            ("SPAN", (1, top + 1), (-1, top + 1)),
            ("NOSPLIT", (0, top), (-1, top + 1)),
            ("LINEABOVE", (1, top + 1), (-1, top + 1), 0.25, _RULE),
        ]
        if (top // 2) % 2 == 1:
            commands.append(("BACKGROUND", (0, top), (-1, top + 1), _ZEBRA))
    table = _grid(data, widths, zebra=False)
    table.setStyle(TableStyle(commands))
    flow.append(table)
    return flow


def _section_policy(view: _View) -> list[Flowable]:
    policy = view.policy
    flow: list[Flowable] = [*_heading("Policy results", "policy")]
    widths = (110.0, _WIDTH - 110)
    rows = _label_value(policy.summary, widths)
    rows.append([_para("Result", "cell_head"), _verdict(policy.check, widths[1])])
    flow.append(_grid(rows, widths, header=False))
    if policy.rows:
        flow.append(Spacer(1, 6))
        header = ("Policy", "Result", "Message")
        flow.append(_columns(header, policy.rows, _scaled((140, 90, 263))))
    elif policy.raw_json is None and policy.summary:
        flow.append(_empty("No violations reported."))
    if policy.raw_json is not None:
        flow.append(Paragraph("Policy gate output as recorded:", _STYLES["label"]))
        flow += _code(policy.raw_json)
    return flow


def _code(text: str) -> list[Flowable]:
    """Pretty JSON, one paragraph per line so it flows across pages; wrapped lines keep their indent."""
    base = _STYLES["code"]
    styles: dict[int, ParagraphStyle] = {}
    flow: list[Flowable] = []
    for line in text.splitlines() or [""]:
        stripped = line.lstrip(" ")
        depth = min(len(line) - len(stripped), 40)
        style = styles.setdefault(
            depth,
            ParagraphStyle(
                f"code{depth}", parent=base, leftIndent=8 + depth * stringWidth(" ", "Courier", 7)
            ),
        )
        flow.append(Paragraph(_markup(_shortened(_pdf_text(stripped), _HARD_CAP)) or "&nbsp;", style))
    return flow


def _section_statements(view: _View) -> list[Flowable]:
    # Room for the heading, the first statement's title and its table.
    flow: list[Flowable] = [*_heading("Signed statements", "statements", room=260)]
    if not view.statements:
        return [*flow, _empty("No signed statements recorded.")]
    label_width = 120.0
    widths = (label_width, _WIDTH - label_width)
    for index, statement in enumerate(view.statements):
        problems = "\n".join(statement.problems) if statement.problems else "none"
        rows = _label_value([("Stored at", statement.key), ("Format", statement.format)], widths)
        rows.append([_para("Verification", "cell_head"), _verdict(statement.check, widths[1])])
        rows += _label_value([("Problems", problems)], widths)
        rows += _label_value(
            [
                ("Algorithm", statement.algorithm),
                ("Key ID", statement.key_id),
                ("Digest", statement.digest),
                ("Public key fingerprint", statement.fingerprint),
            ],
            widths,
            mono=True,
        )
        if index:
            flow.append(CondPageBreak(220))
        flow += [_para(statement.title, "h2", limit=300), _grid(rows, widths, header=False)]
        if not statement.has_document:
            flow += [_empty("No signed document recorded for this statement."), Spacer(1, 10)]
            continue
        flow += [
            Paragraph("<b>Signature</b> (base64, in full)", _STYLES["label"]),
            # Outside any table: a Paragraph splits across pages, so a signature of any length fits.
            _para(statement.signature, "signature"),
            Paragraph(
                "<b>Signed statement</b> (reformatted for reading; verify the stored file, not this copy)",
                _STYLES["label"],
            ),
            *_code(statement.statement_json),
            Spacer(1, 10),
        ]
    return flow


def _section_verify(view: _View) -> list[Flowable]:
    body = _STYLES["body"]
    steps = [
        "Fetch each statement exactly as stored, from the location under <i>Stored at</i>. The copies "
        "printed in this report are reformatted for reading and are not byte-for-byte what was signed.",
        "Obtain the service's public signing key (PEM) through a channel you trust, independently of this "
        "report, and check that its fingerprint equals the <i>Public key fingerprint</i> shown for the "
        "statement.",
        f"Run <font name='Courier'>{_xml_escape(view.verify_command)}</font>. The check needs no network "
        "access and no account with the service; it recomputes the digest of the statement and checks the "
        "signature against the public key.",
        "A statement that fails, or whose key fingerprint differs from the one you obtained, must not be "
        "relied on.",
    ]
    return [
        *_heading("Verifying the statements offline", "verify", room=200),
        *[Paragraph(step, _STYLES["bullet"], bulletText=f"{n}.") for n, step in enumerate(steps, start=1)],
        Spacer(1, 4),
        Paragraph(
            "The verification results in this report were computed by the service when the report was "
            "generated; the offline check above does not depend on the service.",
            body,
        ),
    ]


def _canvas_class(investigation_id: str, generated_at: str) -> type[Canvas]:
    """A canvas that holds pages back until the end, so each footer can say "page N of M"."""

    class _FooterCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            self.saveState()
            self.setStrokeColor(_RULE)
            self.setLineWidth(0.5)
            self.line(_MARGIN, 14 * mm, _PAGE_WIDTH - _MARGIN, 14 * mm)
            self.setFont("Helvetica", 7.5)
            self.setFillColor(_MUTED)
            page = f"Page {number} of {total}"
            room = _WIDTH - stringWidth(page, "Helvetica", 7.5) - 12
            rest = f" — custody report — generated {generated_at}"
            prefix = "Investigation "
            id_room = room - stringWidth(prefix + rest, "Helvetica", 7.5)
            # An overlong id is shortened, never the date: the footer must still say when this was made.
            footer = prefix + _fit(investigation_id, "Helvetica", 7.5, id_room) + rest
            self.drawString(_MARGIN, 10 * mm, footer)
            self.drawRightString(_PAGE_WIDTH - _MARGIN, 10 * mm, page)
            self.restoreState()

    return _FooterCanvas


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Text cut at the end (with "…") to at most width points."""
    if stringWidth(text, font, size) <= width:
        return text
    low, high = 0, min(len(text), 1000)
    while low < high:
        middle = (low + high + 1) // 2
        if stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


class _ReportDocument(SimpleDocTemplate):
    def afterFlowable(self, flowable: Flowable) -> None:
        # PDF bookmarks for the sections, so a reader can jump straight to the evidence or the signatures.
        key = getattr(flowable, "outline_key", None)
        if isinstance(flowable, Paragraph) and key:
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.getPlainText(), key, level=0, closed=False)


_SECTIONS: tuple[Callable[[_View], list[Flowable]], ...] = (
    _section_operations,
    _section_timeline,
    _section_roles,
    _section_evidence,
    _section_containment,
    _section_custody,
    _section_policy,
    _section_statements,
    _section_verify,
)


def render_pdf(report: CustodyReport) -> bytes:
    """The report as a PDF: a title page with the case summary, then the sections, signatures in full."""
    view = _view(report)
    buffer = io.BytesIO()
    document = _ReportDocument(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=20 * mm,
        title=_pdf_text(f"Custody report — investigation {view.investigation_id}"),
        author=_pdf_text(view.generated_by),
        subject=_pdf_text(view.case_title),
        creator="forensic-cleanroom",
        # Same report, same bytes: no creation timestamp or random document id in the file.
        invariant=True,
    )
    story = _section_summary(view)
    story.append(PageBreak())
    for section in _SECTIONS:
        story += section(view)
        story.append(Spacer(1, 6))
    document.build(story, canvasmaker=_canvas_class(_pdf_text(view.investigation_id), view.generated_at))
    return buffer.getvalue()
