"""The job layer drives the real engine: a preview through the API runs the forensic program under the
policy packs in a child process and reports back. (Full lifecycle tests live with the lead's e2e suite.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.api import ADMIN, open_body, wait_operation

pytestmark = pytest.mark.engine


def test_preview_runs_through_the_real_engine(engine_client: TestClient) -> None:
    opened = engine_client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    # Queued behind the open: operations of one investigation run one at a time, in order.
    preview = engine_client.post(f"/v1/investigations/{inv_id}/preview", headers=ADMIN)
    assert preview.status_code == 202, preview.text
    op = wait_operation(engine_client, preview.json()["operation"]["id"], timeout=600)
    first = wait_operation(engine_client, opened["operation"]["id"], timeout=600)
    assert first["finished_at"] <= op["started_at"]
    assert op["pid"] is not None and op["pid"] != first["pid"]
    assert op["progress"]["planned"] > 0, op
    assert op["state"] == "succeeded", op["error"]
    assert op["result"]["policy_violations"] == []
