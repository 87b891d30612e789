"""Shared test doubles: the fake engine executor, a test clock, a recording HTTP server."""
