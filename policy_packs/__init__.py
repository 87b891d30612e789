"""Pulumi policy packs that every preview and up of the forensic clean room must pass."""
