"""One source for the contract values: the program's constants (programs/forensic_env/config.py).

Pulumi.yaml's config schema, the service's settings, docs/contracts.md and the README restate some of them;
these tests hold every restatement to the program, and every key the program reads to the schema.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from programs.forensic_env import config as program
from service.config import PROJECT_ROOT, Settings

PULUMI_YAML = PROJECT_ROOT / "Pulumi.yaml"
CONTRACTS_MD = PROJECT_ROOT / "docs" / "contracts.md"
README_MD = PROJECT_ROOT / "README.md"

# Keys the program reads that Pulumi.yaml cannot declare, and why.
UNDECLARED = {
    "tags": "the project config schema has no object (map) type",
    "evidence": "a list of objects: the project config schema has no object type for its items",
    "grants": "a list of objects: the project config schema has no object type for its items",
}
# The pattern each key's value must match, where Pulumi.yaml and the docs spell it out.
KEY_PATTERNS = {"investigationId": program.INVESTIGATION_ID_PATTERN, "ticket": program.TICKET_PATTERN}
# Settings whose defaults are the program's.
SETTING_DEFAULTS = {
    "default_ttl_hours": program.DEFAULT_TTL_HOURS,
    "golden_ami_ssm_parameter": program.DEFAULT_AMI_SSM_PARAMETER,
    "max_ami_age_days": program.DEFAULT_MAX_AMI_AGE_DAYS,
    "aws_region": program.DEFAULT_REGION,
    "aws_account_id": program.DEFAULT_ACCOUNT_ID,
}
# Literals that must be spelled only in the program. Files listed here still hold a copy, with the reason.
SINGLE_SOURCE_LITERALS = {
    "TICKET_PATTERN": program.TICKET_PATTERN,
    "INVESTIGATION_ID_PATTERN": program.INVESTIGATION_ID_PATTERN,
    "DEFAULT_AMI_SSM_PARAMETER": program.DEFAULT_AMI_SSM_PARAMETER,
}
# Copies still waiting for the refactor that makes them import the program's constant.
KNOWN_COPIES: set[tuple[str, str]] = set()
VALID = {"investigationId": "case-42", "ticket": "SEC-1"}
_YAML_TYPES: dict[str, type] = {"string": str, "integer": int, "boolean": bool, "array": list}


def _schema() -> dict[str, dict[str, Any]]:
    schema: dict[str, dict[str, Any]] = yaml.safe_load(PULUMI_YAML.read_text())["config"]
    return schema


def _is_empty(value: Any) -> bool:
    return value in ("", [], {})


def test_every_key_the_program_reads_is_declared_and_nothing_else() -> None:
    declared = set(_schema())
    assert declared - set(program.CONFIG_KEYS) == set(), "Pulumi.yaml declares keys the program never reads"
    assert set(program.CONFIG_KEYS) - declared == set(UNDECLARED), (
        "keys the program reads but Pulumi.yaml lacks"
    )


@pytest.mark.parametrize("key", sorted(_schema()))
def test_declared_type_and_default_are_the_programs(key: str) -> None:
    declared = _schema()[key]
    ours = program.DEFAULTS[key]
    if ours is not None:
        assert type(ours) is _YAML_TYPES[declared["type"]], (
            f"{key}: declared {declared['type']}, reads {ours!r}"
        )
    if "default" not in declared:
        # Required by the engine, so the program must require it too.
        assert ours is None
        with pytest.raises(program.ConfigError, match=f"forensics:{key}: is required"):
            program.validate_config({k: v for k, v in VALID.items() if k != key})
    elif _is_empty(declared["default"]):
        # An optional key; the program treats the empty value as "not set" (its default is None or empty).
        assert ours is None or ours == declared["default"], f"{key}: {declared['default']!r} vs {ours!r}"
    else:
        assert declared["default"] == ours, (
            f"{key}: Pulumi.yaml says {declared['default']!r}, program {ours!r}"
        )


def test_declared_patterns_are_the_programs() -> None:
    for key, declared in _schema().items():
        spelled = re.findall(r"\^\S+\$", declared.get("description", ""))
        assert spelled == ([KEY_PATTERNS[key]] if key in KEY_PATTERNS else []), key


def test_the_program_validates_with_its_exported_patterns() -> None:
    assert program.validate_config(VALID).ticket == "SEC-1"
    for key, bad in (("ticket", "no spaces allowed"), ("ticket", "S"), ("investigationId", "Case-42")):
        assert not re.fullmatch(KEY_PATTERNS[key], bad)
        with pytest.raises(program.ConfigError, match=f"forensics:{key}"):
            program.validate_config({**VALID, key: bad})


def test_the_service_settings_default_to_the_programs_values() -> None:
    for name, value in SETTING_DEFAULTS.items():
        assert Settings.model_fields[name].default == value, name


def test_contract_literals_are_spelled_only_in_the_program() -> None:
    source = PROJECT_ROOT / "programs" / "forensic_env" / "config.py"
    copies: list[str] = []
    for folder in ("service", "programs", "policy_packs", "tools"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(PROJECT_ROOT))
            text = path.read_text()
            for name, value in SINGLE_SOURCE_LITERALS.items():
                if path != source and value in text and (relative, name) not in KNOWN_COPIES:
                    copies.append(f"{relative}: {name}")
    assert copies == [], "import these from programs.forensic_env.config instead:\n" + "\n".join(copies)


def _contracts_table() -> dict[str, list[str]]:
    """docs/contracts.md's config table: key -> its cells (type, default, meaning), backticks kept."""
    rows: dict[str, list[str]] = {}
    for line in CONTRACTS_MD.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in program.DEFAULTS:
            rows[cells[0]] = cells[1:]
    return rows


def _as_doc_literal(value: Any) -> str | None:
    """How the docs spell a default literally; None for defaults the docs describe in words."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int):
        return str(value)
    if _is_empty(value):
        return "[]" if isinstance(value, list) else "{}"
    return None


def test_contracts_doc_restates_every_key_with_the_programs_default_and_pattern() -> None:
    rows = _contracts_table()
    assert set(rows) == set(program.DEFAULTS), "docs/contracts.md's config table must list every key"
    for key, (_, default, meaning) in rows.items():
        literal = _as_doc_literal(program.DEFAULTS[key])
        if literal is not None:
            assert default.strip("`") == literal, f"docs/contracts.md {key}: {default!r}, program {literal!r}"
        patterns = re.findall(r"`(\^[^`]+\$)`", f"{default} {meaning}")
        assert patterns == ([KEY_PATTERNS[key]] if key in KEY_PATTERNS else []), key


# "`FORENSICS_X`=72", "`FORENSICS_X`, default 300", "`FORENSICS_X` (12)", "`FORENSICS_X`, 24)": a number
# the README gives as a setting's default (not "5-minute window", not "every 5 minutes").
_README_SETTING_DEFAULT = re.compile(
    r"`FORENSICS_([A-Z0-9_]+)`(?:=|, default | \(|, )(\d+(?:\.\d+)?)(?![-\w.])"
)


def test_readme_numbers_for_setting_defaults_are_the_settings() -> None:
    found = _README_SETTING_DEFAULT.findall(README_MD.read_text())
    assert ("DEFAULT_TTL_HOURS", str(program.DEFAULT_TTL_HOURS)) in found
    for variable, number in found:
        default = Settings.model_fields[variable.lower()].default
        assert float(number) == default, f"README: FORENSICS_{variable} default {number}, settings {default}"


def test_readme_object_lock_mode_is_the_programs() -> None:
    (mode,) = re.findall(r"Object Lock \((\w+) by default\)", README_MD.read_text())
    assert mode == program.DEFAULT_OBJECT_LOCK_MODE
