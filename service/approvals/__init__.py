"""The two-person rule: requests that wait for a second, different person, and break-glass."""
