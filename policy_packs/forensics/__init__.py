"""The `forensic-cleanroom` policy pack: rules under `rules/`, wiring in `pack.py` and `__main__.py`."""
