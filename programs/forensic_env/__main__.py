"""`pulumi preview` / `pulumi up` with the repo's Pulumi.yaml (main: programs/forensic_env) run this."""

from __future__ import annotations

import os
import sys

# Run as a directory program, the repo root is not on sys.path; the package imports itself absolutely.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from programs.forensic_env.program import forensic_environment

forensic_environment()
