"""The custody report for counsel, as HTML and as PDF (service.custody.report).

The PDF is checked the way a reader meets it: rendered to PNG pages with poppler's pdftoppm and its text
extracted with pdftotext. Both come from poppler-utils, which `make setup` installs
(tools/system_packages.py); without them these tests fail naming what to install, they do not skip.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.custody.report import render_html, render_pdf
from service.custody.report_model import CustodyReport
from tools import system_packages
from tools.system_packages import REQUIRED, install_hint, missing

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_FILENAME = "loot<b>&\"'.tar.gz"
# Where a reviewer can look at the pages of the last run.
PAGES_DIR = Path("/tmp/report_pages")
T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _signature() -> str:
    # The length of an RSA-4096 signature in base64: long enough that it must wrap on the page.
    return base64.b64encode(hashlib.shake_256(b"freeze-manifest").digest(512)).decode()


def _custody_events(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    steps = [
        ("acquisition.requested", 0, None, "analyst@example.org", "investigator", {"region": "eu-west-1"}),
        ("snapshot.shared", 0, None, "forensics-service", "service", {"account_id": "111122223333"}),
        (
            "snapshot.copied",
            0,
            "sha256_source",
            "forensics-service",
            "service",
            {"account_id": "444455556666"},
        ),
        ("volume.created", 0, None, "forensics-service", "service", {"availability_zone": "eu-west-1a"}),
        ("volume.attached", 0, None, "forensics-service", "service", {"device": "/dev/sdf"}),
        ("hash.verified", 0, "sha256_copy", "forensics-service", "service", {"instance": "i-0f00ba5"}),
        ("object.copied", 1, "sha256_source", "forensics-service", "service", {"bucket": "evidence-vault"}),
        ("hash.verified", 1, "sha256_copy", "forensics-service", "service", {"bucket": "evidence-vault"}),
        ("access.granted", 1, None, "lead@example.org", "lead", {"principal": "analyst@example.org"}),
        ("analysis.opened", 0, None, "analyst@example.org", "investigator", {"workstation": "ws-1"}),
        ("freeze.requested", 0, None, "lead@example.org", "lead", {"stack": "inv-7f3a"}),
        ("freeze.signed", 0, None, "forensics-service", "service", {"key": "manifests/inv-7f3a.json"}),
    ]
    events: list[dict[str, Any]] = []
    prev = "0" * 64
    for seq, (event, item, hash_field, actor, role, where) in enumerate(steps, start=1):
        artifact = evidence[item]
        hashes = {"sha256": artifact[hash_field]} if hash_field else {}
        digest = _sha(f"{seq}{event}{prev}")
        events.append(
            {
                "seq": seq,
                "time": _at(5 + seq * 3).isoformat(),
                "event": event,
                "artifact_id": artifact["id"],
                "actor": actor,
                "role": role,
                "where": where,
                "hashes": hashes,
                "hash": digest,
                "prev_hash": prev,
            }
        )
        prev = digest
    return events


def build_report() -> CustodyReport:
    """A frozen investigation's report: two evidence items (one copy hash differs), a dozen custody events."""
    evidence: list[dict[str, Any]] = [
        {
            "id": "ev-snap-01",
            "kind": "snapshot",
            "source": {
                "account_id": "111122223333",
                "region": "eu-west-1",
                "snapshot_id": "snap-0a1b2c3d4e5f60718",
                "instance_id": "i-0123456789abcdef0",
            },
            "sha256_source": _sha("disk image source"),
            "sha256_copy": _sha("disk image source"),
            "size_bytes": 8 * 1024**3,
            "status": "verified",
            "copy_snapshot_id": "snap-0ffeeddccbbaa9988",
            "volume_id": "vol-0abc1234def567890",
            "device": "/dev/sdf",
        },
        {
            "id": "ev-obj-02",
            "kind": "object",
            "source": {
                "account_id": "111122223333",
                "region": "eu-west-1",
                "bucket": "prod-uploads",
                "key": f"incoming/{HOSTILE_FILENAME}",
            },
            "sha256_source": _sha("object source"),
            "sha256_copy": _sha("object copy (differs)"),
            "size_bytes": 734_003,
            "status": "copied",
            "copy_snapshot_id": None,
        },
    ]
    signature = _signature()
    statement = {
        "format": "forensics.signed-statement/v1",
        "kind": "freeze_manifest",
        "statement": {
            "investigation": "inv-7f3a",
            "frozen_at": _at(50).isoformat(),
            "artifacts": [{"id": e["id"], "sha256": e["sha256_copy"]} for e in evidence],
            "ledger_head": _sha("ledger head"),
        },
        "signature": {
            "algorithm": "RSASSA-PSS-SHA256",
            "keyId": "arn:aws:kms:eu-west-1:444455556666:key/1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718",
            "digest": _sha("canonical statement"),
            "value": signature,
            "publicKeyFingerprint": "SHA256:" + _sha("public key"),
        },
    }
    return CustodyReport(
        investigation={
            "id": "inv-7f3a",
            "ticket": "SEC-4711",
            "title": HOSTILE_TITLE,
            "region": "eu-west-1",
            "account_id": "444455556666",
            "status": "frozen",
            "created_by": "lead@example.org",
            "created_at": T0,
            "expires_at": None,
            "frozen": True,
            "legal_hold": False,
            "stack_name": "inv-7f3a",
        },
        operations=[
            {
                "id": "op-1",
                "action": "create",
                "state": "succeeded",
                "requested_by": "lead@example.org",
                "created_at": _at(0),
                "started_at": _at(1),
                "finished_at": _at(4),
                "error": None,
            },
            {
                "id": "op-2",
                "action": "acquire",
                "state": "failed",
                "requested_by": "analyst@example.org",
                "created_at": _at(20),
                "started_at": _at(21),
                "finished_at": _at(22),
                "error": "AccessDenied: kms:CreateGrant on key/1f2e3d4c <b>not permitted</b>",
            },
            {
                "id": "op-3",
                "action": "freeze",
                "state": "succeeded",
                "requested_by": "lead@example.org",
                "created_at": _at(48),
            },
        ],
        timeline=[
            {
                "id": i,
                "time": _at(i * 4),
                "actor": actor,
                "role": role,
                "action": action,
                "target": target,
                "outcome": outcome,
            }
            for i, (actor, role, action, target, outcome) in enumerate(
                [
                    ("lead@example.org", "lead", "investigation.create", "inv-7f3a", "ok"),
                    ("lead@example.org", "lead", "role.grant", "analyst@example.org", "ok"),
                    (
                        "analyst@example.org",
                        "investigator",
                        "evidence.acquire",
                        "snap-0a1b2c3d4e5f60718",
                        "ok",
                    ),
                    ("analyst@example.org", "investigator", "evidence.acquire", HOSTILE_FILENAME, "denied"),
                    ("lead@example.org", "lead", "investigation.freeze", "inv-7f3a", "ok"),
                ],
                start=1,
            )
        ],
        evidence=evidence,
        custody_events=_custody_events(evidence),
        policy_results={
            "operation_id": "op-1",
            "action": "create",
            "checked_at": _at(3).isoformat(),
            "passed": False,
            "violations": [
                {
                    "policy_pack": "forensics",
                    "policy_name": "no-public-ingress",
                    "enforcement_level": "advisory",
                    "message": "security group allows 0.0.0.0/0 on 22",
                    "urn": "urn:pulumi:inv::sg",
                },
            ],
        },
        role_holders=[
            {
                "principal": "lead@example.org",
                "role": "lead",
                "granted_by": "admin@example.org",
                "from": _at(0),
                "until": None,
                "source": "ticket",
            },
            {
                "principal": "analyst@example.org",
                "role": "investigator",
                "granted_by": "lead@example.org",
                "from": _at(4),
                "until": _at(60 * 24),
                "source": "slack",
            },
        ],
        statements=[
            {
                "kind": "freeze_manifest",
                "key": "manifests/inv-7f3a/freeze.json",
                "document": statement,
                "verified": True,
                "problems": [],
            },
            {
                "kind": "teardown_certificate",
                "key": "certificates/inv-7f3a/teardown.json",
                "document": None,
                "verified": None,
                "problems": ["not yet issued"],
            },
        ],
        generated_at=_at(55),
        generated_by="counsel-export@example.org",
    )


@pytest.fixture
def report() -> CustodyReport:
    return build_report()


def _hashes(report: CustodyReport) -> list[str]:
    return [item[field] for item in report.evidence for field in ("sha256_source", "sha256_copy")]


def _signature_values(report: CustodyReport) -> list[str]:
    return [s["document"]["signature"]["value"] for s in report.statements if s["document"]]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _poppler(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert tool in REQUIRED
    if missing([tool]):
        pytest.fail(f"{tool} is needed to check the PDF: {install_hint([tool])}")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True, timeout=120)


# ---------------------------------------------------------------------------------------------------- HTML


def test_html_escapes_hostile_strings(report: CustodyReport, tmp_path: Path) -> None:
    html = render_html(report)
    (tmp_path / "report.html").write_text(html, encoding="utf-8")

    assert HOSTILE_TITLE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
    assert "loot&lt;b&gt;&amp;&#34;&#39;.tar.gz" in html
    assert "<script" not in html.lower()


def test_html_shows_every_hash_and_signature(report: CustodyReport) -> None:
    html = render_html(report)
    for digest in _hashes(report):
        assert digest in html
    for signature in _signature_values(report):
        assert signature in html
    assert "MISMATCH" in html  # the object's copy hash differs from its source's
    assert "forensics verify &lt;file&gt; --public-key &lt;pem&gt;" in html


def test_html_is_self_contained_and_accessible(report: CustodyReport) -> None:
    html = render_html(report)
    assert not re.search(r"https?://", html)
    targets = re.findall(r"\b(?:src|href)\s*=\s*[\"']?([^\"'\s>]*)", html)
    assert targets and all(target.startswith("#") for target in targets), targets
    assert '<html lang="en">' in html
    assert '<th scope="col">' in html and '<th scope="row">' in html
    assert html.count("<h1") == 1


def test_html_renders_missing_values_as_a_dash() -> None:
    empty = CustodyReport(
        investigation={"id": None},
        operations=[{}],
        timeline=[],
        evidence=[{"id": "ev-1", "source": {"tags": {1: "mixed", "key": "types"}}}, "not a dict"],
        custody_events=[{"seq": 1}],
        policy_results={},
        role_holders=[],
        statements=[{"kind": "freeze_manifest", "document": {"signature": None}}],
        generated_at=T0,
        generated_by="",
    )
    html = render_html(empty)
    assert "No grants recorded." in html
    assert "Not checked" in html
    assert "—" in html
    assert "None" not in html
    assert render_pdf(empty).startswith(b"%PDF")


def test_a_collected_log_shows_its_source_count_window_query_and_hash() -> None:
    sha = _sha("cloudtrail records")
    query = [{"operation": "cloudtrail:LookupEvents", "params": {"LookupAttributes": "i-0123456789abcdef0"}}]
    log = CustodyReport(
        investigation={"id": "inv-1"},
        operations=[],
        timeline=[],
        evidence=[
            {
                "id": "ev-log-01",
                "kind": "log",
                "source": {
                    "account_id": "111122223333",
                    "instance_id": "i-0123456789abcdef0",
                    "log_source": "cloudtrail",
                    "record_count": 2,
                    "window": {"since": "2026-12-01T10:00:00+00:00", "until": "2026-12-01T12:00:00+00:00"},
                    "query": query,
                    "key": "incoming/evidence-artifacts/logs/ev-log-01/cloudtrail.jsonl",
                },
                "sha256_source": sha,
                "sha256_copy": sha,
                "status": "verified",
            }
        ],
        custody_events=[],
        policy_results={},
        role_holders=[],
        statements=[],
        generated_at=T0,
        generated_by="rita@example.com",
    )
    html = render_html(log)
    for shown in (
        "Log source",
        "cloudtrail",
        "Records",
        "Window",
        "2026-12-01T10:00:00",
        "LookupEvents",
        sha,
    ):
        assert shown in html, shown
    assert "match" in html


# ----------------------------------------------------------------------------------------------------- PDF


def test_pdf_pages_and_text(report: CustodyReport, tmp_path: Path) -> None:
    pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    (tmp_path / "report.html").write_text(render_html(report), encoding="utf-8")

    _poppler("pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    assert all(page.read_bytes().startswith(b"\x89PNG") for page in pages)
    shutil.rmtree(PAGES_DIR, ignore_errors=True)
    PAGES_DIR.mkdir(parents=True)
    for page in pages:
        shutil.copy(page, PAGES_DIR / page.name)
    shutil.copy(path, PAGES_DIR / "report.pdf")

    text = _poppler("pdftotext", "-layout", str(path), "-").stdout
    squashed = _squash(text)
    for digest in _hashes(report):
        assert digest in squashed
    for signature in _signature_values(report):
        assert signature in squashed
    assert HOSTILE_TITLE in text
    assert _squash(HOSTILE_FILENAME) in squashed
    assert "Investigation inv-7f3a — custody report — generated 2025-03-04 10:25:00 UTC" in text
    page_count = len(pages)
    assert f"Page {page_count} of {page_count}" in text
    assert "forensics verify <file> --public-key <pem>" in text


def test_pdf_is_deterministic(report: CustodyReport) -> None:
    assert render_pdf(report) == render_pdf(report)


@pytest.mark.parametrize(
    "hostile",
    [
        "</para><para>&amp;<font name='x'>",
        "a" * 30_000,  # one unbreakable word, far taller than a page once wrapped in a narrow column
        "line\n" * 3_000,
        "\x00\x07\x1b[31m\ud800 nul, bell, escape, a lone surrogate",
        "invoice\u202egpj.exe \u200b zero width, 漢字, emoji 🙂",
    ],
    ids=["markup", "long-word", "many-lines", "control-characters", "unicode-tricks"],
)
def test_hostile_strings_cannot_break_the_pdf(report: CustodyReport, hostile: str) -> None:
    evil = dict(report.evidence[1], id=hostile, source={"key": hostile, hostile: hostile}, status=hostile)
    event = dict(
        report.custody_events[0], event=hostile, where={hostile: hostile}, hashes={"sha256": hostile}
    )
    statement = dict(report.statements[0], key=hostile, problems=[hostile])
    hostile_report = CustodyReport(
        investigation=dict(report.investigation, id=hostile, title=hostile, ticket=hostile),
        operations=[dict(report.operations[1], error=hostile)],
        timeline=[dict(report.timeline[0], target=hostile)],
        evidence=[evil],
        custody_events=[event],
        policy_results={hostile: {"result": hostile, "message": hostile}},
        role_holders=[dict(report.role_holders[0], principal=hostile)],
        statements=[statement],
        generated_at=report.generated_at,
        generated_by=hostile,
    )
    assert render_pdf(hostile_report).startswith(b"%PDF")
    html = render_html(hostile_report)
    html.encode("utf-8")  # no lone surrogate left to make the page unencodable
    if "\u202e" in hostile:
        assert "\u202e" not in html and "[U+202E]" in html, "a bidi override must be shown, not applied"


# ------------------------------------------------------------- the set-up step that installs poppler-utils


def _absent(*names: str) -> Callable[[str], str | None]:
    return lambda name, *args, **kwargs: None if name in names else f"/usr/bin/{name}"


def test_system_packages_not_root_prints_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(system_packages.shutil, "which", _absent("pdftoppm"))
    monkeypatch.setattr(system_packages.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(system_packages, "_apt_get", lambda *a: pytest.fail("must not run apt-get"))

    assert system_packages.ensure() == 0
    out = capsys.readouterr().out
    assert "pdftoppm" in out
    assert "apt-get install -y --no-install-recommends poppler-utils" in out


def test_system_packages_as_root_updates_lists_only_when_the_install_needs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed: list[str] = []
    calls: list[tuple[str, ...]] = []

    def apt_get(*args: str) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        if args[0] == "install" and ("update",) not in calls:
            return subprocess.CompletedProcess(args, 100, "", "E: Unable to locate package poppler-utils")
        if args[0] == "install":
            installed.extend(REQUIRED)
        return subprocess.CompletedProcess(args, 0, "", "")

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return f"/usr/bin/{name}" if name == "apt-get" or name in installed else None

    monkeypatch.setattr(system_packages.shutil, "which", which)
    monkeypatch.setattr(system_packages.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system_packages, "_apt_get", apt_get)

    assert system_packages.ensure() == 0
    install = ("install", "-y", "--no-install-recommends", *system_packages.packages_for(list(REQUIRED)))
    assert "poppler-utils" in install and "postgresql" in install and "redis-server" in install
    assert "chromium" in install and "chromium-driver" in install
    assert calls == [install, ("update",), install]


def test_system_packages_as_root_does_not_update_for_other_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []

    def apt_get(*args: str) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 100, "", "E: Could not get lock /var/lib/dpkg/lock-frontend")

    monkeypatch.setattr(system_packages.shutil, "which", _absent(*REQUIRED))
    monkeypatch.setattr(system_packages.os, "geteuid", lambda: 0)
    monkeypatch.setattr(system_packages, "_apt_get", apt_get)

    assert system_packages.ensure() == 1
    assert [call[0] for call in calls] == ["install"]
