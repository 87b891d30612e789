"""`pulumi up` in programs/forensic_account (or the bootstrap's Automation API) runs this."""

from __future__ import annotations

import os
import sys

# Run as a directory program, the repo root is not on sys.path; the package imports itself absolutely.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from programs.forensic_account.program import forensic_account

forensic_account()
