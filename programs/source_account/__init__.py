"""Day-zero program: the evidence role of a source account (one stack per account; see rollout.py)."""
