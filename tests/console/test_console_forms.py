"""The console's forms are the API's request models: fields shown, and a submitted form read back (checkbox
semantics, optional blanks, the API's 422 wording); and the time to live as the pages show it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from service.console import forms
from service.console.pages import remaining
from service.errors import InvalidInput
from service.investigation_states import Status
from service.investigations.schemas import DestroyRequest, ExtendRequest, ReleaseRequest


def test_fields_follow_the_request_model() -> None:
    fields = {f.name: f for f in forms.fields_of(ReleaseRequest)}
    assert (fields["reason"].kind, fields["reason"].required) == ("textarea", True)
    assert (fields["remove_legal_holds"].kind, fields["remove_legal_holds"].default) == ("checkbox", False)
    hours = next(f for f in forms.fields_of(ExtendRequest) if f.name == "hours")
    assert (hours.kind, hours.minimum, hours.maximum, hours.required) == ("number", 1, 24 * 90, True)


def test_an_unchecked_box_is_false_and_a_blank_optional_field_is_the_default() -> None:
    # Browsers send nothing for an unchecked box: keeping the evidence bucket must be ticked to stay True.
    unticked = forms.parse(DestroyRequest, {"csrf_token": "x", "reason": ""})
    assert (unticked.retain_evidence_bucket, unticked.reason) == (False, None)
    ticked = forms.parse(DestroyRequest, {"retain_evidence_bucket": "on", "reason": "closed"})
    assert (ticked.retain_evidence_bucket, ticked.reason) == (True, "closed")


def test_bad_or_unknown_fields_are_the_apis_422() -> None:
    with pytest.raises(InvalidInput, match=r"^invalid request: body\.hours: Input should be greater than"):
        forms.parse(ExtendRequest, {"hours": "0"})
    with pytest.raises(InvalidInput, match=r"body\.retain_everything: Extra inputs are not permitted"):
        forms.parse(ExtendRequest, {"hours": "2", "retain_everything": "on"})


def test_time_to_live_as_a_person_reads_it() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def room(status: Status, **delta: float) -> object:
        return SimpleNamespace(status=status, expires_at=now + timedelta(**delta))

    assert remaining(room(Status.READY, days=2, hours=4, minutes=5), now) == "2d 4h"
    assert remaining(room(Status.READY, hours=3, minutes=20), now) == "3h 20m"
    assert remaining(room(Status.READY, seconds=30), now) == "1m"
    assert remaining(room(Status.FROZEN, hours=-1), now) == "expired"
    assert remaining(room(Status.DESTROYED, days=2), now) == "—"
