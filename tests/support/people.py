"""The people the test suite's principals belong to. The service refuses tokens for, and two-person
decisions by, principals that map to no configured person (service/auth/persons.py); the test settings
map each principal the tests use to a person of its own, so that every test still compares distinct people
unless it maps two principals to one person itself."""

from __future__ import annotations

from service.auth.roles import Role
from service.auth.service import BOOTSTRAP_PRINCIPAL

_NAMES = (
    BOOTSTRAP_PRINCIPAL,
    *(f"{role.value}@example.com" for role in Role),
    "alice@example.com",
    "alice-laptop@example.com",
    "bob@example.com",
    "carol@example.com",
    "carl@example.com",
    "dana@example.com",
    "erin@example.com",
    "ivan@example.com",
    "ivy@example.com",
    "dave@example.com",
    "custodian@example.com",
    "rita@example.com",
    "ron@example.com",
    "ana@example.com",
    "ann@example.com",
    "second@example.com",
    "oncall-officer@example.com",
    "lead@example.org",
    "analyst@example.org",
    "alice",
    "bob",
    "carol",
    "erin",
    "eve",
    "officer",
    "r2",
    "x",
)
# Chat users keep the person id an unmapped chat user used to have (slack:<user id>).
_CHAT_USERS = ("URESP", "UCUST", "UANA", "UINV", "UALICE", "UBOB")

TEST_PEOPLE: dict[str, str] = {
    **{name: name for name in _NAMES},
    **{user: f"slack:{user}" for user in _CHAT_USERS},
}
