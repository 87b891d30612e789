"""One module owns what the Pulumi engine sees from its environment (the foundation issue): no other
project module sets a PULUMI_* variable, so the offline settings can't be undone by accident."""

from __future__ import annotations

import re
from pathlib import Path

from service.config import PROJECT_ROOT

OWNER = PROJECT_ROOT / "service" / "orchestration" / "engine_environment.py"
# A PULUMI_* name as a string literal (an env key, an os.environ look-up); PULUMI_PROJECT is a constant.
_LITERAL = re.compile(r"""["']PULUMI_[A-Z_]+["']""")


def test_only_the_environment_module_names_pulumi_variables() -> None:
    offenders: list[str] = []
    for folder in ("service", "programs", "policy_packs", "tools"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path == OWNER:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if _LITERAL.search(line):
                    offenders.append(f"{Path(path).relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == [], (
        "set Pulumi variables in service/orchestration/engine_environment.py only:\n" + "\n".join(offenders)
    )
