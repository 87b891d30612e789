"""Preview never touches AWS; types the stand-in does not serve still check and preview; config handling."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pulumi.provider.experimental import provider as p

from tests.support.standin import Driver, provider_config
from tools.aws_standin.clients import AwsConfig
from tools.aws_standin.provider import StandinProvider
from tools.aws_standin.values import UNKNOWN, props_from_plain, props_to_plain


@pytest.fixture
def offline() -> Driver:
    """A provider whose every endpoint is a closed port: any AWS call would fail."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    driver = Driver(StandinProvider())
    driver.configure(provider_config(f"http://127.0.0.1:{port}"))
    return driver


def test_preview_create_returns_unknowns_without_aws(offline: Driver) -> None:
    resource_id, vpc = offline.create(
        "aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"a": "b"}}, preview=True
    )
    assert resource_id == ""
    assert vpc["cidrBlock"] == "10.0.0.0/16" and vpc["tagsAll"] == {"a": "b"}
    assert (
        vpc["arn"] is UNKNOWN
        and vpc["defaultSecurityGroupId"] is UNKNOWN
        and vpc["mainRouteTableId"] is UNKNOWN
    )
    _, inst = offline.create(
        "aws:ec2/instance:Instance",
        "ws",
        {
            "ami": "ami-1",
            "instanceType": "t3.large",
            "subnetId": UNKNOWN,
            "rootBlockDevice": {"encrypted": True},
        },
        preview=True,
    )
    assert inst["privateIp"] is UNKNOWN and inst["instanceState"] is UNKNOWN and inst["subnetId"] is UNKNOWN
    _, bucket = offline.create(
        "aws:s3/bucket:Bucket", "evidence-bucket", {"objectLockEnabled": True}, preview=True
    )
    assert bucket["bucket"].startswith("evidence-bucket-") and bucket["arn"] is UNKNOWN


def test_preview_update_keeps_outputs_without_aws(offline: Driver) -> None:
    state = {
        "cidrBlock": "10.0.0.0/16",
        "tags": {"a": "b"},
        "tagsAll": {"a": "b"},
        "arn": "arn:x",
        "defaultSecurityGroupId": "sg-1",
    }
    out = offline.update(
        "aws:ec2/vpc:Vpc",
        "vpc",
        "vpc-1",
        state,
        {"cidrBlock": "10.0.0.0/16", "tags": {"c": "d"}},
        preview=True,
    )
    assert out["tagsAll"] == {"c": "d"} and out["arn"] == "arn:x"


def test_unknown_new_input_is_a_change_and_may_replace(offline: Driver) -> None:
    state = {"vpcId": "vpc-1", "cidrBlock": "10.0.0.0/24", "availabilityZone": "us-east-1a"}
    diff = offline.diff("aws:ec2/subnet:Subnet", "s", "subnet-1", state, {**state, "vpcId": UNKNOWN})
    assert diff.changes and diff.replaces == ["vpcId"]


def test_autoname_is_deterministic_and_kept(offline: Driver) -> None:
    first = offline.check("aws:iam/role:Role", "responder", {"assumeRolePolicy": "{}"})
    again = offline.check("aws:iam/role:Role", "responder", {"assumeRolePolicy": "{}"})
    assert first["name"] == again["name"] and first["name"].startswith("responder-")
    kept = offline.check(
        "aws:iam/role:Role", "responder", {"assumeRolePolicy": "{}"}, olds={"name": "responder-abc"}
    )
    assert kept["name"] == "responder-abc"
    assert "name" not in offline.check(
        "aws:iam/role:Role", "r", {"namePrefix": "x-", "assumeRolePolicy": "{}"}
    )


UNSERVED = "aws:lambda/function:Function"


def test_unserved_type_checks_and_previews_but_does_not_create(offline: Driver, driver: Driver) -> None:
    inputs = {"role": "arn:aws:iam::123456789012:role/x", "runtime": "python3.12"}
    assert offline.check(UNSERVED, "fn", inputs) == inputs
    _, previewed = offline.create(UNSERVED, "fn", inputs, preview=True)
    assert previewed == inputs
    assert offline.diff(UNSERVED, "fn", "", {}, inputs).changes
    with pytest.raises(Exception, match=f"does not serve {UNSERVED}; use the real pulumi-aws provider"):
        driver.create(UNSERVED, "fn", inputs)
    with pytest.raises(Exception, match="does not serve aws:index/getRegion:getRegion"):
        driver.invoke("aws:index/getRegion:getRegion", {})


def test_provider_config_forms() -> None:
    """Stack config may arrive structured or as JSON strings; `variables` are the fallback."""
    cfg = AwsConfig.from_provider_config(
        {
            "region": "eu-west-1",
            "endpoints": '[{"ec2": "http://e", "cloudwatchlogs": "http://l"}]',
            "s3UsePathStyle": "true",
            "defaultTags": {"tags": {"team": "ir"}},
        }
    )
    assert cfg.region == "eu-west-1" and cfg.s3_use_path_style and cfg.default_tags == {"team": "ir"}
    assert cfg.endpoint_for("ec2") == "http://e" and cfg.endpoint_for("logs") == "http://l"
    from_vars = AwsConfig.from_provider_config({}, {"aws:config:region": "us-west-2"})
    assert from_vars.region == "us-west-2"


def test_diff_config_never_replaces() -> None:
    provider = StandinProvider()
    olds = props_from_plain({"region": "us-east-1", "endpoints": '[{"ec2": "http://127.0.0.1:1"}]'})
    news = props_from_plain({"region": "us-east-1", "endpoints": '[{"ec2": "http://127.0.0.1:2"}]'})
    resp = asyncio.run(provider.diff_config(p.DiffRequest("urn:x", "id", olds, news, [])))
    assert resp.changes and resp.replaces == [] and resp.diffs == ["endpoints"]


def test_secret_inputs_stay_secret(offline: Driver) -> None:
    req = p.CreateRequest(
        "urn:pulumi:t::p::aws:ec2/vpc:Vpc::v",
        {**props_from_plain({"cidrBlock": "10.0.0.0/16"}, {"cidrBlock"})},
        60.0,
        True,
    )
    resp = asyncio.run(offline.provider.create(req))
    assert resp.properties["cidrBlock"].is_secret
    assert props_to_plain(resp.properties)[0]["cidrBlock"] == "10.0.0.0/16"
