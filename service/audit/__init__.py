"""Append-only, hash-chained audit log: every change and every operation's start and end."""
