"""Loaded by the engine child as its program in tests/orchestration/test_engine_child_exit.py: a program's
print (which the child sends to its log: its process and parent) and a note, written at interpreter
finalization, that the child was finalized."""

import atexit
import os
from pathlib import Path

print(f"exit probe loaded in {os.getpid()} under {os.getppid()}")
atexit.register(lambda: Path(os.environ["EXIT_PROBE_FILE"]).write_text("finalized"))
