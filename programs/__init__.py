"""Pulumi programs run by the service through the Automation API."""
