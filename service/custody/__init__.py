"""Chain of custody: evidence acquisition and hashing, the custody ledger, signed statements (freeze manifest,
teardown certificate, audit anchors) and the custody report."""
