"""The custody report's containment timeline: each step of a containment and its release, who asked, and
the record it is undone from, in the HTML and the PDF."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from service.custody.report import render_html, render_pdf
from service.custody.report_model import CustodyReport
from tests.custody.test_report import _at, _poppler, build_report

INSTANCE = "i-0abc1234def567890"


def _with_containment() -> CustodyReport:
    base = build_report()
    steps = [
        ("contained", "recorded", {"record": f"containment/{INSTANCE}/ev-00000000c0de.json"}),
        ("contained", "isolated", {"isolation_group": "sg-0123456789abcdef0"}),
        ("restored", "verified", {"compared": ["attributes", "tags"]}),
    ]
    events = [
        {
            "seq": 100 + i,
            "time": _at(200 + i),
            "event": event,
            "artifact_id": "ev-00000000c0de",
            "actor": "rita@example.com" if event == "contained" else "ron@example.com",
            "role": None,
            "where": {"account": "210987654321", "region": "eu-west-1", "instance_id": INSTANCE},
            "hashes": {},
            "details": {"step": step, **details},
            "hash": "ab" * 32,
            "prev_hash": "cd" * 32,
        }
        for i, (event, step, details) in enumerate(steps)
    ]
    return dataclasses.replace(base, custody_events=[*base.custody_events, *events])


def test_the_html_report_has_the_containment_timeline() -> None:
    html = render_html(_with_containment())
    section = html.split('<h2 id="containment">', 1)[1].split("</section>", 1)[0]
    assert [step in section for step in ("recorded", "isolated", "verified")] == [True] * 3
    assert INSTANCE in section and "rita@example.com" in section and "ron@example.com" in section
    assert "ev-00000000c0de" in section and "sg-0123456789abcdef0" in section
    assert "No instance was contained" in render_html(build_report())


def test_the_pdf_report_has_the_containment_timeline(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(_with_containment()))
    text = _poppler("pdftotext", str(pdf), "-").stdout
    assert "Containment timeline" in text and "isolated" in text and "rita@example.com" in text
