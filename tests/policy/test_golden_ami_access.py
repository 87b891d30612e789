"""How golden-ami-fresh reaches EC2: the identity and place the service hands the analyzer, and nothing else.

The service side (``engine_environment.policy_pack_aws_env``) turns the operation's provider config into the
analyzer's environment; the pack side (``aws_access``) turns that environment into an EC2 client, assuming
the same roles as the provider and proving the account it ends in. Against moto in process here; the engine
test in tests/program_deploy runs the same path through the real engine and the local AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from policy_packs.forensics.rules import aws_access
from service.config import Settings
from service.orchestration import engine_environment
from service.orchestration.messages import ConfigValue
from tests.support.aws import clients_with
from tests.support.settings import make_settings

from .harness import TAGS, run_resource

# Taken before conftest's autouse fixture swaps in the stub.
REAL_CONNECT = aws_access.connect
FORENSIC_ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{FORENSIC_ACCOUNT}:role/forensics-deploy"
REGION = "eu-west-1"


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """moto in process with ambient keys only (no profile, no instance metadata), and the real connect."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # The tests ask EC2 about the golden image they register. moto would otherwise build its catalogue of
    # Amazon's public images in every region backend a test touches (half a CPU-second a test), images no
    # test here names and the rule never sees.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr(aws_access, "connect", REAL_CONNECT)
    monkeypatch.setattr(aws_access, "_connections", {})
    with mock_aws():
        yield


def _golden_image() -> str:
    """An image registered in the forensic account's region, as the deploy role."""
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=ROLE, RoleSessionName="seed")["Credentials"]
    ec2 = clients_with(creds, endpoint_url=None, region=REGION, verify=True)("ec2")
    return str(ec2.register_image(Name="golden", RootDeviceName="/dev/xvda")["ImageId"])


def _service_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The analyzer's environment as the service builds it for a stack in REGION deployed through ROLE."""
    provider = {
        "aws:region": ConfigValue(REGION),
        "aws:assumeRoles": ConfigValue([{"roleArn": ROLE, "sessionName": "forensics-case-1"}]),
    }
    env = engine_environment.policy_pack_aws_env(Settings(target="aws"), provider)
    for name in engine_environment.POLICY_PACK_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_the_rule_asks_ec2_in_the_stacks_account_as_its_deploy_role(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _golden_image()
    _service_env(monkeypatch)
    instance = {"ami": image, "instanceType": "t3.large", "tags": TAGS}
    assert run_resource("golden-ami-fresh", "aws:ec2/instance:Instance", instance) == []
    (connection,) = aws_access._connections.values()
    assert (connection.region, connection.account_id) == (REGION, FORENSIC_ACCOUNT)

    monkeypatch.setenv("FORENSICS_MAX_AMI_AGE_DAYS", "0")
    (found,) = run_resource("golden-ami-fresh", "aws:ec2/instance:Instance", instance, "ws")
    assert f"instance 'ws' launches image {image}, created " in found.message
    assert "the limit is 0 days" in found.message


def test_the_same_image_id_is_unknown_in_another_account(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    image = _golden_image()
    env = _service_env(monkeypatch)
    monkeypatch.delenv(aws_access.ENV_ASSUME_ROLES)
    monkeypatch.setenv(aws_access.ENV_ACCOUNT_ID, "123456789012")  # the base keys' own account in moto
    (found,) = run_resource("golden-ami-fresh", "aws:ec2/instance:Instance", {"ami": image}, "ws")
    assert f"which EC2 does not know in {REGION} (account 123456789012)" in found.message
    assert env[aws_access.ENV_ACCOUNT_ID] == FORENSIC_ACCOUNT


def test_credentials_acting_in_another_account_are_refused(moto: None) -> None:
    expected = "act in account 123456789012, not in the stack's forensic account 111111111111"
    with pytest.raises(aws_access.AwsAccessError, match=expected):
        aws_access.connect(aws_access.Target(region=REGION, account_id=FORENSIC_ACCOUNT))


def test_without_credentials_the_pack_cannot_connect(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(aws_access.AwsAccessError, match="no AWS credentials"):
        aws_access.connect(aws_access.Target(region=REGION))


def test_locally_the_keys_are_the_providers_own_from_the_stack_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = aws_access.Target(region=REGION, endpoint_url="https://127.0.0.1:1", verify_tls=False)
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    with pytest.raises(aws_access.AwsAccessError, match="no aws:accessKey/aws:secretKey"):
        aws_access._base_credentials(target)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"aws:accessKey": "local", "aws:secretKey": "s3cret"}))
    assert aws_access._base_credentials(target) == {
        "aws_access_key_id": "local",
        "aws_secret_access_key": "s3cret",
    }
    # For real AWS the ambient chain, never keys from the stack config.
    assert aws_access._base_credentials(aws_access.Target(region=REGION)) == {}


def test_the_target_is_read_from_the_environment_only() -> None:
    with pytest.raises(aws_access.AwsAccessError, match=aws_access.ENV_REGION):
        aws_access.Target.from_environment({})
    roles = [{"roleArn": ROLE, "sessionName": "forensics-case-1", "externalId": "x"}]
    target = aws_access.Target.from_environment(
        {
            aws_access.ENV_REGION: REGION,
            aws_access.ENV_ACCOUNT_ID: FORENSIC_ACCOUNT,
            aws_access.ENV_ASSUME_ROLES: json.dumps(roles),
            aws_access.ENV_ENDPOINT_URL: "https://127.0.0.1:4566",
            aws_access.ENV_VERIFY_TLS: "false",
        }
    )
    assert target == aws_access.Target(
        region=REGION,
        account_id=FORENSIC_ACCOUNT,
        assume_roles=(aws_access.AssumedRole(ROLE, "forensics-case-1", external_id="x"),),
        endpoint_url="https://127.0.0.1:4566",
        verify_tls=False,
    )
    with pytest.raises(aws_access.AwsAccessError, match="without a roleArn"):
        aws_access.Target.from_environment(
            {aws_access.ENV_REGION: REGION, aws_access.ENV_ASSUME_ROLES: "[{}]"}
        )


def test_the_service_passes_the_operations_region_role_and_account(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        aws_endpoint_url="https://127.0.0.1:4566",
        aws_verify_tls=False,
        golden_ami_owner_accounts=["self", "222222222222"],
    )
    provider = {
        "aws:region": ConfigValue(REGION),
        "aws:assumeRoles": ConfigValue([{"roleArn": ROLE, "sessionName": "forensics-case-1"}]),
    }
    env = engine_environment.engine_process_env(settings, provider)
    assert {k: env[k] for k in engine_environment.POLICY_PACK_AWS_VARIABLES} == {
        aws_access.ENV_REGION: REGION,
        aws_access.ENV_ACCOUNT_ID: FORENSIC_ACCOUNT,
        aws_access.ENV_ASSUME_ROLES: json.dumps([{"roleArn": ROLE, "sessionName": "forensics-case-1"}]),
        aws_access.ENV_ENDPOINT_URL: "https://127.0.0.1:4566",
        aws_access.ENV_VERIFY_TLS: "false",
        "FORENSICS_POLICY_AMI_OWNERS": '["self", "222222222222"]',
    }
    # No provider config of the operation: the provider gets the settings' region and the service's own
    # credentials (build_request), and so does the pack, in the account the settings give that region.
    env = engine_environment.engine_process_env(settings)
    assert env[aws_access.ENV_REGION] == settings.aws_region
    assert env[aws_access.ENV_ACCOUNT_ID] == settings.aws_account_id
    assert aws_access.ENV_ASSUME_ROLES not in env
    # Real AWS: no endpoint, the ambient credentials.
    env = engine_environment.policy_pack_aws_env(Settings(target="aws", data_dir=tmp_path), provider)
    assert aws_access.ENV_ENDPOINT_URL not in env and env[aws_access.ENV_VERIFY_TLS] == "true"


def test_sessions_share_parsed_models_and_each_reads_its_own_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pack's sessions share botocore's parsed data (a zygote parses it once for every analyzer it
    forks), never their configuration or credentials: each reads the environment it is used in."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first-key")
    first = aws_access.new_session()
    assert first.get_credentials().access_key == "first-key"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "second-key")
    second = aws_access.new_session()
    assert second.get_credentials().access_key == "second-key"
    loader = first._session.get_component("data_loader")
    assert second._session.get_component("data_loader") is loader
    assert loader.search_paths == list(dict.fromkeys(loader.search_paths))
