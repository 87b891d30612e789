"""`pulumi up` in this directory (its own Pulumi.yaml) runs the organization program."""

from __future__ import annotations

import os
import sys

# Run as a directory program, the repo root is not on sys.path; the package imports itself absolutely.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from programs.organization.program import organization

organization()
