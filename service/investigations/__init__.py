"""Investigations: one Pulumi stack each; states, rules, and what each operation means."""
