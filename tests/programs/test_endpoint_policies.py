"""Every VPC endpoint of the clean room has a policy fenced to the investigation's account and resources.

Without one an endpoint allows everything: from the workstation, anything could be put to any bucket of any
account through the S3 gateway endpoint. The documents are read from what the program registers and judged
by IAM's evaluation logic (moto's evaluator), then by the pack's vpc-endpoint-policy rule.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from programs.forensic_env.config import validate_config
from programs.forensic_env.evidence import bucket_name
from programs.forensic_env.network import (
    GATEWAY_ENDPOINTS,
    INTERFACE_ENDPOINTS,
    SSM_AGENT_BUCKETS,
    endpoint_policy,
)
from tests.policy.harness import Res, run_stack
from tests.programs.harness import ACCOUNT, BASE_CONFIG, REGION, ProgramRun, run_program

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
OTHER_ACCOUNT = "999999999999"
INVESTIGATION = BASE_CONFIG["investigationId"]


@pytest.fixture(scope="module")
def env() -> ProgramRun:
    return run_program()


def _policies(run: ProgramRun) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for endpoint in run.of_type(ENDPOINT):
        policy = endpoint.inputs.get("policy")
        assert isinstance(policy, str), f"{endpoint.name} has no policy document known before deployment"
        found[endpoint.inputs["serviceName"].rsplit(".", 1)[-1]] = json.loads(policy)
    return found


def _decide(policy: dict[str, Any], action: str, resource: str, account: str = ACCOUNT) -> str:
    """PERMITTED, or not (NEUTRAL/DENIED), for a request by a principal of `account` through the endpoint."""
    from moto.iam.access_control import IAMPolicy

    result = IAMPolicy(json.dumps(policy)).is_action_permitted(
        action, resource, incoming_condition_values={"aws:PrincipalAccount": account}
    )
    return str(result.name)


def test_every_endpoint_has_a_policy_for_the_account_only(env: ProgramRun) -> None:
    policies = _policies(env)
    assert set(policies) == {*GATEWAY_ENDPOINTS, *INTERFACE_ENDPOINTS}
    for service, policy in policies.items():
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow", service
            assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, service
            assert "*" not in statement["Action"] and not any(a.endswith(":*") for a in statement["Action"])
            assert all(a.split(":")[0] == service for a in statement["Action"]), service


def test_s3_endpoint_reaches_the_evidence_bucket_and_the_ssm_agent_buckets_only(env: ProgramRun) -> None:
    s3 = _policies(env)["s3"]
    bucket = env.one("aws:s3/bucket:Bucket").inputs["bucket"]
    assert bucket == bucket_name(validate_config(BASE_CONFIG, region=REGION))
    evidence = f"arn:aws:s3:::{bucket}"
    resources = {r for s in s3["Statement"] for r in s["Resource"]}
    ssm_buckets = {f"arn:aws:s3:::{b.format(region=REGION)}/*" for b in SSM_AGENT_BUCKETS}
    assert resources == {evidence, f"{evidence}/*", *ssm_buckets}
    assert f"arn:aws:s3:::{REGION}-birdwatcher-prod/*" in resources

    assert _decide(s3, "s3:GetObject", f"{evidence}/incoming/evidence-artifacts/disk.img") == "PERMITTED"
    assert _decide(s3, "s3:PutObject", f"{evidence}/active-investigation/notes/n.md") == "PERMITTED"
    assert _decide(s3, "s3:ListBucket", evidence) == "PERMITTED"
    assert _decide(s3, "s3:GetObject", f"arn:aws:s3:::amazon-ssm-{REGION}/agent.tar.gz") == "PERMITTED"
    # The exfiltration the endpoint used to allow: any bucket, any account.
    assert _decide(s3, "s3:PutObject", "arn:aws:s3:::attacker-bucket/loot.tar") != "PERMITTED"
    assert _decide(s3, "s3:PutObject", f"arn:aws:s3:::amazon-ssm-{REGION}/loot.tar") != "PERMITTED"
    assert _decide(s3, "s3:PutObject", f"{evidence}/x", account=OTHER_ACCOUNT) != "PERMITTED"
    assert (
        _decide(s3, "s3:GetObject", f"arn:aws:s3:::amazon-ssm-{REGION}/a", account=OTHER_ACCOUNT)
        != "PERMITTED"
    )
    assert _decide(s3, "s3:DeleteObject", f"{evidence}/incoming/evidence-artifacts/disk.img") != "PERMITTED"


def test_interface_endpoints_reach_the_investigations_resources_only(env: ProgramRun) -> None:
    policies = _policies(env)
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _decide(policies["kms"], "kms:Decrypt", key) == "PERMITTED"
    assert (
        _decide(policies["kms"], "kms:Decrypt", f"arn:aws:kms:{REGION}:{OTHER_ACCOUNT}:key/x") != "PERMITTED"
    )
    assert _decide(policies["kms"], "kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/x") != "PERMITTED"
    assert _decide(policies["kms"], "kms:ScheduleKeyDeletion", key) != "PERMITTED"
    assert _decide(policies["kms"], "kms:Decrypt", key, account=OTHER_ACCOUNT) != "PERMITTED"

    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/forensics/{INVESTIGATION}/ssm-sessions"
    logs = policies["logs"]
    assert _decide(logs, "logs:PutLogEvents", f"{group}:log-stream:s-1") == "PERMITTED"
    other_group = (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/forensics/another-case/ssm-sessions:log-stream:s"
    )
    assert _decide(logs, "logs:PutLogEvents", other_group) != "PERMITTED"
    assert _decide(logs, "logs:PutLogEvents", f"{group}:log-stream:s-1", account=OTHER_ACCOUNT) != "PERMITTED"
    assert _decide(logs, "logs:DeleteLogGroup", group) != "PERMITTED"

    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123"
    assert _decide(policies["ssm"], "ssm:UpdateInstanceInformation", instance) == "PERMITTED"
    assert _decide(policies["ssm"], "ssm:UpdateInstanceInformation", instance, OTHER_ACCOUNT) != "PERMITTED"
    assert _decide(policies["ssm"], "ssm:SendCommand", instance) != "PERMITTED"
    assert _decide(policies["ssmmessages"], "ssmmessages:OpenDataChannel", "*") == "PERMITTED"
    assert _decide(policies["ssmmessages"], "ssmmessages:OpenDataChannel", "*", OTHER_ACCOUNT) != "PERMITTED"
    assert _decide(policies["ec2messages"], "ec2messages:GetMessages", "*") == "PERMITTED"
    assert _decide(policies["ec2messages"], "ec2messages:GetMessages", "*", OTHER_ACCOUNT) != "PERMITTED"


def test_policies_follow_the_configured_account_region_and_investigation() -> None:
    cfg = validate_config({**BASE_CONFIG, "accountId": OTHER_ACCOUNT}, region="eu-west-1")
    s3 = json.loads(endpoint_policy(cfg, "s3", bucket_name(cfg)))
    assert all(
        s["Condition"]["StringEquals"]["aws:PrincipalAccount"] == OTHER_ACCOUNT for s in s3["Statement"]
    )
    assert "arn:aws:s3:::eu-west-1-birdwatcher-prod/*" in s3["Statement"][1]["Resource"]
    kms = json.loads(endpoint_policy(cfg, "kms", bucket_name(cfg)))
    assert kms["Statement"][0]["Resource"] == [f"arn:aws:kms:eu-west-1:{OTHER_ACCOUNT}:key/*"]
    logs = json.loads(endpoint_policy(cfg, "logs", bucket_name(cfg)))
    prefix = f"arn:aws:logs:eu-west-1:{OTHER_ACCOUNT}:log-group:/forensics/{INVESTIGATION}/*"
    assert logs["Statement"][0]["Resource"] == [prefix]
    with pytest.raises(ValueError, match="no endpoint policy"):
        endpoint_policy(cfg, "ec2", bucket_name(cfg))


def test_frozen_clean_room_keeps_its_endpoint_policies(env: ProgramRun) -> None:
    assert _policies(run_program(frozen=True)) == _policies(env)


def test_the_endpoints_pass_the_pack_rule_and_the_rule_notices_a_missing_policy(env: ProgramRun) -> None:
    endpoints = [Res(r.type, r.name, copy.deepcopy(r.inputs)) for r in env.of_type(ENDPOINT)]
    assert run_stack("vpc-endpoint-policy", endpoints) == []
    endpoints[0].props.pop("policy")
    (found,) = run_stack("vpc-endpoint-policy", endpoints)
    assert "no endpoint policy" in found.message
