"""The pack as a whole: names, descriptions, remediation hints, wiring, and a compliant clean room passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy_packs.forensics import pack
from policy_packs.forensics.rules import ALL_POLICIES, REGISTRY, RULES

from .harness import Res, clean_room, run_everything, run_resource

EXPECTED = {
    "no-internet-gateway",
    "no-default-route",
    "no-public-ip",
    "no-open-ingress",
    "imdsv2-required",
    "instance-type-allowed",
    "ebs-encrypted-with-cmk",
    "evidence-bucket-hardened",
    "flow-logs-for-every-vpc",
    "dns-firewall-for-every-vpc",
    "kms-rotation",
    "iam-no-wildcards",
    "no-aws-managed-admin",
    "separation-of-duties",
    "required-tags",
    "golden-ami-fresh",
    "vpc-endpoint-policy",
    "launch-templates-in-stack",
    "logs-encrypted-with-cmk",
    "scps-attached",
    "no-full-access-allow",
    "evidence-role-trust",
    "roles-bounded",
    "role-carries-boundary",
    "trail-validated",
}
STACK_LEVEL = {
    "evidence-bucket-hardened",
    "flow-logs-for-every-vpc",
    "dns-firewall-for-every-vpc",
    "separation-of-duties",
    "no-default-route",
    "no-open-ingress",
    "vpc-endpoint-policy",
    "launch-templates-in-stack",
    "scps-attached",
}


def test_all_expected_policies_are_registered() -> None:
    assert set(REGISTRY) == EXPECTED
    assert {p.name for p in ALL_POLICIES} == EXPECTED


def test_policy_names_unique_kebab_and_described() -> None:
    names = [p.name for p in ALL_POLICIES]
    assert len(names) == len(set(names))
    for policy in ALL_POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
        assert policy.description and len(policy.description) > 20
        assert policy.enforcement_level == EnforcementLevel.MANDATORY
        assert policy.remediation_steps
        expected_kind = StackValidationPolicy if policy.name in STACK_LEVEL else ResourceValidationPolicy
        assert isinstance(policy, expected_kind)


def test_every_rule_has_a_remediation_and_a_check() -> None:
    for rule in RULES:
        assert rule.remediation and callable(rule.check)
        assert rule.kind in ("resource", "stack")


def test_violation_messages_carry_the_remediation_hint() -> None:
    found = run_resource("no-internet-gateway", "aws:ec2/internetGateway:InternetGateway", {}, "igw")
    assert found and all("Remediation: " in v.message for v in found)
    assert REGISTRY["no-internet-gateway"].remediation in found[0].message


def test_build_pack_uses_all_policies_mandatory() -> None:
    captured: dict[str, object] = {}

    def fake_pack(**kwargs: object) -> str:
        captured.update(kwargs)
        return "built"

    assert pack.build_pack(factory=fake_pack) == "built"
    assert captured["name"] == "forensic-cleanroom"
    assert captured["enforcement_level"] == EnforcementLevel.MANDATORY
    assert captured["policies"] == ALL_POLICIES


def test_pack_files_and_entry_point() -> None:
    root = Path(pack.__file__).parent
    yaml_text = (root / "PulumiPolicy.yaml").read_text()
    assert "runtime: python" in yaml_text
    assert "name: forensic-cleanroom" in yaml_text
    main = (root / "__main__.py").read_text()
    assert "build_pack()" in main and "sys.path.insert" in main


def test_main_runs_from_the_pack_folder() -> None:
    """Run __main__.py as the engine does (runpy on '.', cwd = the pack folder), PolicyPack stubbed out."""
    root = Path(pack.__file__).parent
    script = (
        "import runpy, pulumi_policy\n"
        "calls = []\n"
        "class Fake:\n"
        "    def __init__(self, **kw): calls.append(kw)\n"
        "pulumi_policy.PolicyPack = Fake\n"
        "runpy.run_path('.', run_name='__main__')\n"
        "print(calls[0]['name'], len(calls[0]['policies']), calls[0]['enforcement_level'].value)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["forensic-cleanroom", str(len(ALL_POLICIES)), "mandatory"]


def test_compliant_clean_room_passes_every_policy() -> None:
    assert run_everything(clean_room()) == {}


def test_unrelated_resource_types_are_ignored() -> None:
    res = Res("aws:ec2/routeTableAssociation:RouteTableAssociation", "rta", {"subnetId": "s"})
    assert run_everything([res]) == {}
