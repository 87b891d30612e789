"""The error tree (service/errors.py) is exactly what domain code raises, and the API answers each of its
classes with its own status and code, never a bare 500."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.api import error_handlers
from service.custody.disk_image import BlockChecksumMismatch
from service.errors import MountFailed, RateLimited, ServiceError, StepFailed

SERVICE = Path(__file__).resolve().parents[2] / "service"

# Not domain code: the migrations are alembic scripts, run only by alembic.
NOT_DOMAIN = ("service/db/migrations/",)


def _domain_modules() -> list[Path]:
    """Every module of service/ but the migrations and ``__main__`` entry points (importing one runs it)."""
    return [
        path
        for path in sorted(SERVICE.rglob("*.py"))
        if not path.relative_to(SERVICE.parent).as_posix().startswith(NOT_DOMAIN)
        and path.name != "__main__.py"
    ]


# Raises outside the tree that are kept on purpose, by module and class, with why. Adding one is a decision.
BOUNDARY: dict[str, dict[str, str]] = {
    # pydantic validators signal a bad field by ValueError; pydantic turns it into a 422 (InvalidInput).
    "service/config.py": {"ValueError": "pydantic validator"},
    "service/custody/schemas.py": {"ValueError": "pydantic validator"},
    "service/investigations/schemas.py": {"ValueError": "pydantic validator"},
    "service/custody/trusted_keys.py": {"ValueError": "pydantic validator"},
    "service/custody/log_sources.py": {"ValueError": "pydantic validator"},
    # Offline tooling shared with the verify CLI (no service around it): the CLI turns ValueError into its
    # refusal message and exit code.
    "service/statement_signing.py": {"ValueError": "read by the verify CLI and by the signer's callers"},
    "service/custody/verify.py": {
        "ValueError": "read by the verify CLI",
        "StatementFileError": "the verify CLI's refusal of a file",
    },
    "service/cli/verify.py": {
        "ValueError": "the verify CLI's own refusal, caught in the same function",
        "Exit": "the CLI's exit code",
    },
    # The command line ends a command with typer's Exit and its exit code.
    "service/cli/audit.py": {"Exit": "the CLI's exit code"},
    "service/cli/bootstrap.py": {"Exit": "the CLI's exit code"},
    "service/cli/client.py": {"Exit": "the CLI's exit code"},
    "service/cli/investigations.py": {"Exit": "the CLI's exit code"},
    "service/api/middleware.py": {"_TooLarge": "caught in the same module (answered 413 there)"},
    "service/custody/teardown.py": {
        "ValueError": "a file that is not a stack export, refused by the CLI that reads it",
        "_Unanswered": "caught in the same module",
    },
    "service/custody/disk_image.py": {"ValueError": "a programming error in the caller's arguments"},
    "service/investigations/actions.py": {"ValueError": "registering one action twice: a programming error"},
    # Private control flow, caught in the same module.
    "service/custody/uploads.py": {"_Unreadable": "caught in the same module"},
    "service/containment/isolation.py": {"NotDenyAll": "caught in the same module"},
    "service/integrations/login_alerts.py": {"Malformed": "caught in the same module (alerted as malformed)"},
    "service/jobs/queue.py": {"RefusedPayload": "huey's refusal of a payload, caught by the consumer"},
}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SERVICE.parent).with_suffix("").parts).removesuffix(".__init__")


def _raised(node: ast.Raise) -> list[str] | None:
    """The dotted name of the class raised (``raise X(...)`` / ``raise m.X``), None for a re-raise."""
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    parts: list[str] = []
    while isinstance(exc, ast.Attribute):
        parts.insert(0, exc.attr)
        exc = exc.value
    if not isinstance(exc, ast.Name):
        return None
    parts.insert(0, exc.id)
    return parts


def _resolve(module: Any, parts: list[str]) -> Any:
    value: Any = module
    for part in parts:
        value = getattr(value, part, None)
    return value


def _raises_outside_the_tree() -> list[str]:
    found = []
    for path in _domain_modules():
        relative = path.relative_to(SERVICE.parent).as_posix()
        module = importlib.import_module(_module_name(path))
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            parts = _raised(node)
            if parts is None:
                continue
            raised = _resolve(module, parts)
            if not isinstance(raised, type):
                continue  # raising an exception object held in a variable: a re-raise
            if issubclass(raised, ServiceError) or raised.__name__ in BOUNDARY.get(relative, {}):
                continue
            found.append(f"{relative}:{node.lineno}: raise {'.'.join(parts)}")
    return found


def test_domain_code_raises_only_the_error_tree() -> None:
    outside = _raises_outside_the_tree()
    assert not outside, (
        "raise a class of service/errors.py (or name the boundary in BOUNDARY):\n" + "\n".join(outside)
    )


def test_every_boundary_entry_is_still_needed() -> None:
    """An exception to the rule that is no longer used is removed, so the list stays the truth."""
    for relative, names in BOUNDARY.items():
        tree = ast.parse((SERVICE.parent / relative).read_text())
        raised = {
            parts[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.Raise) and node.exc is not None and (parts := _raised(node))
        }
        assert set(names) <= raised, f"{relative}: {set(names) - raised} is no longer raised there"


def _tree() -> list[type[ServiceError]]:
    for path in _domain_modules():
        importlib.import_module(_module_name(path))
    classes: list[type[ServiceError]] = []
    pending = [ServiceError]
    while pending:
        cls = pending.pop()
        classes.extend(cls.__subclasses__())
        pending.extend(cls.__subclasses__())
    return classes


def _instance(cls: type[ServiceError]) -> ServiceError:
    if issubclass(cls, StepFailed):
        return cls("disk_mismatch", "the copy's hash differs")
    if issubclass(cls, MountFailed):
        return cls("/dev/sdf", "no filesystem found")
    if issubclass(cls, RateLimited):
        return cls("slow down", retry_after=3)
    if issubclass(cls, BlockChecksumMismatch):
        return cls("snap-0123", 7, "expected", "actual")
    return cls("refused for a reason")


@pytest.mark.parametrize("cls", _tree(), ids=lambda cls: cls.__name__)
def test_the_api_answers_every_error_with_its_own_status(cls: type[ServiceError]) -> None:
    error = _instance(cls)
    assert error.status_code != 500, f"{cls.__name__} would answer as an unexplained 500"
    app = FastAPI()
    error_handlers.install(app)

    @app.get("/refuse")
    def refuse() -> None:
        raise error

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/refuse")
    assert response.status_code == error.status_code
    assert response.json()["error"]["code"] == error.code
    assert response.json()["error"]["message"] == error.message
