"""Entry point the engine runs (`python -m pulumi.policy <engine> .` with this folder as cwd)."""

import os
import sys

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from policy_packs.forensics.pack import build_pack  # noqa: E402

build_pack()
