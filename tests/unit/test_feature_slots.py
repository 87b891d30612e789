"""The action table never imports a feature: features register their actions, and fill the work the
lifecycle's own actions leave for them, from their own steps modules; service.features loads them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service import features
from service.investigations import actions

ROOT = Path(__file__).resolve().parents[2]
FEATURES = (
    "service.custody",
    "service.access",
    "service.containment",
    "service.expiry",
    "service.audit.anchors",
)


def test_the_table_alone_imports_no_feature() -> None:
    probe = (
        "import sys, service.investigations.actions as a\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FEATURES!r})))\n"
        "print(sorted(str(name) for name in a.ACTIONS))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out[0] == "[]", f"the action table imports features: {out[0]}"
    # Only the lifecycle's own actions, until the features register theirs.
    assert out[1] == str(sorted(["open", "preview", "refresh", "freeze", "release", "destroy", "extend"]))


def test_loading_the_features_completes_the_table() -> None:
    assert actions.empty_slots() == []
    assert {"acquire", "register", "memory", "logs", "grant", "contain", "release-containment"} <= set(
        features.ACTIONS
    )
    assert features.ACTIONS is actions.ACTIONS


def test_a_slot_takes_only_its_kind_of_work() -> None:
    def work(*_args: object) -> None:
        return None

    with pytest.raises(ValueError, match="takes after-success work"):
        actions.provide_work(actions.Slot.SEAL_FREEZE, work)
    with pytest.raises(ValueError, match="takes a work step"):
        actions.provide_after_success(actions.Slot.CHECK_EVIDENCE_MOUNTS, lambda *_a: {})
