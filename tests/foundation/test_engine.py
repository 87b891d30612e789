"""The real Pulumi engine, offline, deploying into moto through the stand-in aws provider."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from service.config import Settings
from service.orchestration import engine_environment
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest, OperationResult
from service.orchestration.stacks import run_operation
from tools.build_pulumi_cli import pinned_sdk_version
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import operator_settings

pytestmark = pytest.mark.engine

PROGRAM = "tests.foundation.programs:network_and_bucket"
TEST_PACK = str(Path(__file__).parent / "policy_pack")


def _run(
    settings: Settings,
    kind: OperationKind,
    stack: str,
    name: str,
    events: list[dict[str, Any]] | None = None,
    **config: Any,
) -> OperationResult:
    request = OperationRequest(
        kind=kind,
        stack_name=stack,
        config={"name": ConfigValue(name), **{k: ConfigValue(v) for k, v in config.items()}},
        policy_packs=[TEST_PACK],
    )
    # The engine's plumbing, with a program of the tests' own and no role to assume: deployed as the
    # operator (the service deploys only through a forensic account's deploy role, nothing as itself).
    operator = operator_settings(settings)
    return run_operation(operator, request, events.append if events is not None else None, program=PROGRAM)


def _vpcs_tagged(aws: LocalAws, name: str) -> list[dict[str, Any]]:
    return aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag:forensics:test", "Values": [name]}])["Vpcs"]


def test_cli_reports_the_pinned_version(pulumi_cli: Path) -> None:
    out = subprocess.run([str(pulumi_cli), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{pinned_sdk_version()}"


def test_engine_environment_is_offline(engine_settings: Settings) -> None:
    env = engine_environment.pulumi_env(engine_settings)
    assert env["PULUMI_BACKEND_URL"].startswith("file://")
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert str(engine_environment.STANDIN_PROVIDER_DIR) in env["PATH"]
    aws_mode = engine_settings.model_copy(update={"target": "aws"})
    standin = str(engine_environment.STANDIN_PROVIDER_DIR)
    assert standin not in engine_environment.pulumi_env(aws_mode)["PATH"]


def test_up_refresh_destroy_against_local_aws(engine_settings: Settings, local_aws: LocalAws) -> None:
    events: list[dict[str, Any]] = []
    up = _run(engine_settings, OperationKind.UP, "basic", "basic", events)
    assert up.succeeded, up.error
    assert up.changes.get("create", 0) >= 5
    # Every plain output, and no secret one (its value would only be the mask).
    assert set(up.outputs) == {"vpcId", "subnetId", "securityGroupId", "bucket"}

    ec2 = local_aws.client("ec2")
    (vpc,) = _vpcs_tagged(local_aws, "basic")
    assert vpc["VpcId"] == up.outputs["vpcId"]
    assert vpc["CidrBlock"] == "10.42.0.0/16"
    (subnet,) = ec2.describe_subnets(SubnetIds=[up.outputs["subnetId"]])["Subnets"]
    assert (subnet["VpcId"], subnet["CidrBlock"], subnet["AvailabilityZone"]) == (
        vpc["VpcId"],
        "10.42.1.0/24",
        "us-east-1a",
    )
    (sg,) = ec2.describe_security_groups(GroupIds=[up.outputs["securityGroupId"]])["SecurityGroups"]
    assert sg["IpPermissions"] == []
    assert [(p["FromPort"], p["ToPort"]) for p in sg["IpPermissionsEgress"]] == [(443, 443)]
    s3 = local_aws.client("s3")
    sse = s3.get_bucket_encryption(Bucket="foundation-basic")["ServerSideEncryptionConfiguration"]
    assert sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # progress events streamed while the engine worked
    assert any(e["type"] == "step_done" for e in events)
    assert events[-1]["progress"]["done"] == events[-1]["progress"]["planned"] > 0

    # out-of-band change: someone removes a tag behind Pulumi's back
    ec2.delete_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "owner"}])
    refresh = _run(engine_settings, OperationKind.REFRESH, "basic", "basic")
    assert refresh.succeeded, refresh.error
    drifted = {d["resource_type"] for d in refresh.drift}
    assert "aws:ec2/vpc:Vpc" in drifted
    # a refresh preview reports, never repairs
    assert {t["Key"] for t in ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Tags"]} == {
        "forensics:test"
    }

    destroy = _run(engine_settings, OperationKind.DESTROY, "basic", "basic")
    assert destroy.succeeded, destroy.error
    assert _vpcs_tagged(local_aws, "basic") == []
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"] == []
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "foundation-basic" not in buckets


def test_policy_pack_blocks_a_violating_up(engine_settings: Settings, local_aws: LocalAws) -> None:
    result = _run(engine_settings, OperationKind.UP, "unencrypted", "unencrypted", encrypt=False)
    assert not result.succeeded
    assert result.error_code == "policy_violation"
    (violation,) = result.policy_violations
    assert violation.policy_name == "s3-bucket-encrypted"
    assert violation.urn is not None and violation.urn.endswith("aws:s3/bucket:Bucket::bucket")
    assert "s3-bucket-encrypted" in (result.error or "")
    # nothing reached AWS
    assert _vpcs_tagged(local_aws, "unencrypted") == []
    assert "foundation-unencrypted" not in {
        b["Name"] for b in local_aws.client("s3").list_buckets()["Buckets"]
    }


def test_two_stacks_deploy_at_the_same_time(engine_settings: Settings, local_aws: LocalAws) -> None:
    results: dict[str, OperationResult] = {}

    def deploy(name: str) -> None:
        results[name] = _run(engine_settings, OperationKind.UP, f"par-{name}", f"par-{name}")

    threads = [threading.Thread(target=deploy, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.succeeded for r in results.values()), {n: r.error for n, r in results.items()}
    assert results["one"].outputs["vpcId"] != results["two"].outputs["vpcId"]
    for name in ("one", "two"):
        assert len(_vpcs_tagged(local_aws, f"par-{name}")) == 1
        assert _run(engine_settings, OperationKind.DESTROY, f"par-{name}", f"par-{name}").succeeded
