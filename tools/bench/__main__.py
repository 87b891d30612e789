"""``python -m tools.bench``: the benchmark lives in the package so the wheel can leave it out (dev only)."""

from . import main

main()
