"""EventCollector: what the engine child reads from a run's own events instead of asking the CLI again."""

from __future__ import annotations

from typing import Any

from pulumi.automation import EngineEvent

from service.orchestration.engine_events import EventCollector

STACK_URN = "urn:pulumi:inv-1::forensics::pulumi:pulumi:Stack::forensics-inv-1"
BUCKET_URN = "urn:pulumi:inv-1::forensics::aws:s3/bucket:Bucket::evidence"
ADVISORY = {
    "message": "advisory note",
    "color": "never",
    "policyName": "tags-present",
    "policyPackName": "forensics",
    "policyPackVersion": "1",
    "policyPackVersionTag": "1",
    "enforcementLevel": "advisory",
}


def _event(sequence: int, **body: Any) -> EngineEvent:
    return EngineEvent.from_json({"sequence": sequence, "timestamp": 0, **body})


def _step(kind: str, urn: str, resource_type: str, op: str, *, planning: bool, outputs: Any = None) -> dict:
    metadata: dict[str, Any] = {"op": op, "urn": urn, "type": resource_type, "provider": ""}
    if outputs is not None:
        metadata["new"] = {"urn": urn, "type": resource_type, "outputs": outputs}
    return {kind: {"metadata": metadata, "planning": planning}}


def _run(plan_first: bool) -> tuple[EventCollector, list[dict[str, Any]]]:
    emitted: list[dict[str, Any]] = []
    collector = EventCollector(emitted.append, plan_first=plan_first)
    events = [
        # The preview part of the run.
        _step("resourcePreEvent", BUCKET_URN, "aws:s3/bucket:Bucket", "create", planning=True),
        _step("resOutputsEvent", BUCKET_URN, "aws:s3/bucket:Bucket", "create", planning=True, outputs={}),
        {"diagnosticEvent": {"message": "a program warning\n", "severity": "warning", "color": "never"}},
        {"policyEvent": ADVISORY},
        _step(
            "resOutputsEvent",
            STACK_URN,
            "pulumi:pulumi:Stack",
            "create",
            planning=True,
            outputs={"bucket": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"},
        ),
        {"summaryEvent": {"resourceChanges": {"create": 2}}},
        # The update.
        _step("resourcePreEvent", BUCKET_URN, "aws:s3/bucket:Bucket", "create", planning=False),
        # The update judges again what the preview judged.
        {"policyEvent": ADVISORY},
        _step("resOutputsEvent", BUCKET_URN, "aws:s3/bucket:Bucket", "create", planning=False, outputs={}),
        {"diagnosticEvent": {"message": "a program warning\n", "severity": "warning", "color": "never"}},
        _step(
            "resOutputsEvent",
            STACK_URN,
            "pulumi:pulumi:Stack",
            "create",
            planning=False,
            outputs={"bucket": "evidence-1", "token": "[secret]"},
        ),
        {"summaryEvent": {"resourceChanges": {"create": 2}}},
    ]
    for sequence, body in enumerate(events):
        collector(_event(sequence, **body))
    return collector, emitted


def test_an_up_that_previews_first_forwards_only_the_update_and_the_previews_violations() -> None:
    collector, emitted = _run(plan_first=True)

    assert [e["type"] for e in emitted] == [
        "policy_violation",
        "step_started",
        "step_done",
        "diagnostic",
        "summary",
    ]
    # The total is known from the preview's summary before the update's first step.
    assert emitted[1]["progress"] == {"done": 0, "planned": 2}
    # Judged twice (preview, update), reported once.
    assert [v.policy_name for v in collector.violations] == ["tags-present"]
    assert collector.changes == {"create": 2}
    # The update's outputs, secrets left out (never the preview's unknowns).
    assert collector.stack_outputs == {"bucket": "evidence-1"}


def test_a_preview_alone_reports_its_steps() -> None:
    collector, emitted = _run(plan_first=False)

    types = [e["type"] for e in emitted]
    assert types[:2] == ["step_started", "step_done"]
    assert types.count("summary") == 2
    assert collector.stack_outputs == {"bucket": "evidence-1"}


def test_outputs_are_unknown_when_the_run_showed_none() -> None:
    collector = EventCollector(lambda _event: None)
    collector(_event(0, summaryEvent={"resourceChanges": {"same": 3}}))

    assert collector.stack_outputs is None
    assert collector.changes == {"same": 3}
