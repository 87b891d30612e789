"""Scheduled teardown and drift checks: TTL warnings, destroying expired clean rooms, periodic refresh
previews whose drift raises an alert (never remediated). ``extend`` moves an investigation's expiry."""
