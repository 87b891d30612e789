"""Forensic clean-room service: one isolated AWS environment per investigation, built with Pulumi."""
