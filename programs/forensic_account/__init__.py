"""Day-zero program of a forensic account: what must exist before the service opens its first clean room."""
