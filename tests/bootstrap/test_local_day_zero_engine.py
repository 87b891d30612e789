"""`make run`'s day zero, on the real engine, in a local AWS that enforces IAM from its first call: the
session's day zero (``local_day_zero``, tests/conftest.py: ``tools.local_aws.run.run_day_zero``, what
`make run` and `make local-aws` call, as the local AWS's administrator). The bootstrap's programs build the
forensic account, the source account (through the organization's member-account role) and the
organization; a second bootstrap changes nothing. The service then runs with its own identity
(``forensics-service``, only allowed to assume the bootstrap's roles): a clean room opens with evidence
acquired from the source account through the evidence role, deployed through the bootstrap's scoped deploy
role (no wildcard action; every role the room makes carries the clean-room boundary), freezes, is released
and destroyed. Finally no role or customer policy in any account holds administrator rights, AWS's own
OrganizationAccountAccessRole excepted (the operator's way into a member account, which the service cannot
assume)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from programs.forensic_env.tags import TAG_INVESTIGATION
from service.bootstrap.run import bootstrap
from service.bootstrap.service_identity import POLICY_NAME, service_policy
from service.main import create_app
from tests.support.api import ADMIN, issue, open_body, wait_operation
from tests.support.iam_audit import administrator_grants, in_account
from tests.support.local_day_zero import DAY_ZERO_GROUP, DayZero
from tests.support.root import require_root
from tools.local_aws.day_zero import SERVICE_USER
from tools.local_aws.organization_accounts import ADMINISTRATOR_ACCESS, MEMBER_ROLE_NAME

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(DAY_ZERO_GROUP)]

TIMEOUT = 900
DEPLOY_POLICY = "forensics-deploy"


@pytest.fixture
def day_zero(local_day_zero: DayZero) -> DayZero:
    """The session's day zero (tests/conftest.py)."""
    return local_day_zero


def test_day_zero_bootstraps_every_account_and_a_second_run_changes_nothing(day_zero: DayZero) -> None:
    done = day_zero.done
    assert [s.program for s in done.result.stacks] == ["forensic_account", "source_account", "organization"]
    assert done.result.changed
    # make run shows where it is while the bootstrap runs.
    assert any("forensic_account stack" in line for line in day_zero.progress), day_zero.progress
    assert day_zero.progress[-1].startswith("day zero: done in")

    again = bootstrap(done.operator, done.options)
    assert not again.changed, [(s.stack_name, s.changes) for s in again.stacks]
    assert again.settings == done.result.settings

    # The settings the service runs with are the bootstrap's, and its deploy and evidence roles exist.
    settings = day_zero.settings
    home = settings.accounts[settings.aws_region]
    iam = day_zero.aws.client("iam")
    assert home.deploy_role_arn == iam.get_role(RoleName="forensics-deploy")["Role"]["Arn"]
    (source,) = settings.sources.items()
    assert source[0] == done.source_account_id
    evidence = in_account(day_zero.aws, done.source_account_id, "iam").get_role(
        RoleName=source[1].snapshot_role_arn.rsplit("/", 1)[1]
    )["Role"]
    assert evidence["Arn"] == source[1].snapshot_role_arn and source[1].external_id
    organizations = day_zero.aws.client("organizations")
    ou = done.result.stacks[-1].outputs["forensicsOuId"]
    assert [p["Id"] for p in organizations.list_parents(ChildId=home.account_id)["Parents"]] == [ou]
    # What the world had before day zero, seeded by hand: the golden image, a compromised host.
    ssm = day_zero.aws.client("ssm")
    assert ssm.get_parameter(Name=settings.golden_ami_ssm_parameter)["Parameter"]["Value"] == done.ami_id
    source_ec2 = in_account(day_zero.aws, done.source_account_id, "ec2")
    (volume,) = source_ec2.describe_volumes(VolumeIds=[done.sample["volumeId"]])["Volumes"]
    assert [a["InstanceId"] for a in volume["Attachments"]] == [done.sample["instanceId"]]
    assert source_ec2.describe_snapshots(SnapshotIds=[done.sample["snapshotId"]])["Snapshots"]


def test_the_service_runs_as_its_own_identity_that_can_only_assume_the_bootstrap_s_roles(
    day_zero: DayZero,
) -> None:
    settings = day_zero.settings
    assert settings.aws_access_key_id != day_zero.aws.access_key_id
    caller = day_zero.as_service("sts").get_caller_identity()["Arn"]
    assert caller == day_zero.done.service_arn and caller.endswith(f":user/{SERVICE_USER}")
    assert settings.service_principal_arns == [caller]
    iam = day_zero.aws.client("iam")
    assert iam.list_attached_user_policies(UserName=SERVICE_USER)["AttachedPolicies"] == []
    assert iam.list_user_policies(UserName=SERVICE_USER)["PolicyNames"] == [POLICY_NAME]
    held = iam.get_user_policy(UserName=SERVICE_USER, PolicyName=POLICY_NAME)["PolicyDocument"]
    held = json.loads(held) if isinstance(held, str) else held
    assert held == service_policy(settings)

    sts = day_zero.as_service("sts")
    home = settings.accounts[settings.aws_region]
    assert home.deploy_role_arn
    sts.assume_role(RoleArn=home.deploy_role_arn, RoleSessionName="allowed")
    (source,) = settings.sources.values()
    sts.assume_role(
        RoleArn=source.snapshot_role_arn, RoleSessionName="allowed", ExternalId=source.external_id
    )
    # Not AWS's member-account role (administrator of the affected account), not IAM, not EC2 as itself.
    refused = {
        "member-account role": lambda: sts.assume_role(
            RoleArn=f"arn:aws:iam::{day_zero.done.source_account_id}:role/{MEMBER_ROLE_NAME}",
            RoleSessionName="refused",
        ),
        "evidence role without its external id": lambda: sts.assume_role(
            RoleArn=source.snapshot_role_arn, RoleSessionName="refused"
        ),
        "iam": lambda: day_zero.as_service("iam").list_roles(),
        "ec2": lambda: day_zero.as_service("ec2").describe_instances(),
    }
    for what, call in refused.items():
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] in ("AccessDenied", "UnauthorizedOperation"), what


def test_a_clean_room_opens_with_evidence_freezes_is_released_and_destroyed_as_the_service(
    day_zero: DayZero,
) -> None:
    require_root()  # the acquired evidence is mounted, on loop devices in the local AWS
    done, aws = day_zero.done, day_zero.aws
    ec2 = aws.client("ec2")
    evidence = {"source_account_id": done.source_account_id, "snapshot_id": done.sample["snapshotId"]}
    with TestClient(create_app(day_zero.settings)) as client:
        opened = client.post(
            "/v1/investigations", json=open_body("SEC-2100", evidence=[evidence]), headers=ADMIN
        )
        assert opened.status_code == 202, opened.text
        inv_id = opened.json()["investigation"]["id"]
        op = wait_operation(client, opened.json()["operation"]["id"], timeout=TIMEOUT)
        assert op["state"] == "succeeded", op
        timeline = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["timeline"]
        (acquire,) = [o for o in timeline if o["action"] == "acquire"]
        acquired = wait_operation(client, acquire["id"], timeout=TIMEOUT)
        assert acquired["state"] == "succeeded", acquired["error"]
        (artifact,) = client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
        assert artifact["status"] == "verified"
        assert artifact["sha256_source"] == artifact["sha256_copy"]
        assert artifact["source"]["snapshot_id"] == done.sample["snapshotId"]
        inv = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
        home = day_zero.settings.accounts[inv["region"]]
        assert home.deploy_role_arn and inv["assume_role_arn"] == home.deploy_role_arn
        # The role the room was deployed through holds no administrator and no wildcard action, and every
        # role the room made carries the clean-room boundary (the deploy role could not make it otherwise).
        iam = aws.client("iam")
        deploy_role = home.deploy_role_arn.rsplit("/", 1)[1]
        assert iam.list_attached_role_policies(RoleName=deploy_role)["AttachedPolicies"] == []
        deploy_policy = iam.get_role_policy(RoleName=deploy_role, PolicyName=DEPLOY_POLICY)["PolicyDocument"]
        deploy_policy = json.loads(deploy_policy) if isinstance(deploy_policy, str) else deploy_policy
        for statement in deploy_policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert statement["Effect"] == "Deny" or not [a for a in actions if "*" in a], statement
        boundary_arn = f"arn:aws:iam::{home.account_id}:policy/forensics-cleanroom-boundary"
        made = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"forensics-{inv_id}")]
        assert made
        for cleanroom_role in made:
            got = iam.get_role(RoleName=cleanroom_role["RoleName"])["Role"]
            assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary_arn, got
        # AWS-side: the verified copy is the forensic account's, attached to the room's workstation.
        (copy,) = ec2.describe_snapshots(SnapshotIds=[artifact["copy_snapshot_id"]])["Snapshots"]
        assert copy["OwnerId"] == home.account_id and copy["Encrypted"]
        (volume,) = ec2.describe_volumes(VolumeIds=[artifact["volume_id"]])["Volumes"]
        assert [a["InstanceId"] for a in volume["Attachments"]] == [inv["outputs"]["instanceId"]]
        vpc_id = inv["outputs"]["vpcId"]
        (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        assert {"Key": TAG_INVESTIGATION, "Value": inv_id} in vpc.get("Tags", []), vpc

        frozen = client.post(f"/v1/investigations/{inv_id}/freeze", json={}, headers=ADMIN)
        assert frozen.status_code == 202, frozen.text
        assert (
            wait_operation(client, frozen.json()["operation"]["id"], timeout=TIMEOUT)["state"] == "succeeded"
        )
        tagged = [{"Name": f"tag:{TAG_INVESTIGATION}", "Values": [inv_id]}]
        frozen_snapshots = {
            s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"], Filters=tagged)["Snapshots"]
        }
        assert frozen_snapshots
        assert client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["status"] == "frozen"

        custodian = issue(client, "data_custodian", "custodian@example.com")
        second = issue(client, "data_custodian", "second@example.com")
        release = client.post(
            f"/v1/investigations/{inv_id}/release",
            json={"reason": "counsel cleared the hold"},
            headers=custodian,
        )
        assert release.status_code == 202, release.text
        approved = client.post(f"/v1/approvals/{release.json()['approval']['id']}/approve", headers=second)
        assert approved.status_code == 200, approved.text
        released = wait_operation(client, approved.json()["operation"]["id"], timeout=TIMEOUT)
        assert released["state"] == "succeeded", released
        after = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
        assert after["status"] == "ready" and after["frozen"] is False

        destroy = client.post(
            f"/v1/investigations/{inv_id}/destroy", json={"reason": "closed"}, headers=ADMIN
        )
        assert destroy.status_code == 202, destroy.text
        destroyed = wait_operation(client, destroy.json()["operation"]["id"], timeout=TIMEOUT)
        assert destroyed["state"] == "succeeded", destroyed
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []
    assert ec2.describe_vpcs(Filters=tagged)["Vpcs"] == []
    assert [
        i
        for r in ec2.describe_instances(Filters=tagged)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ] == []
    # The frozen state's snapshots are evidence: they outlive the release and the destroy.
    kept = {
        s["SnapshotId"] for s in ec2.describe_snapshots(SnapshotIds=sorted(frozen_snapshots))["Snapshots"]
    }
    assert kept == frozen_snapshots


def test_no_role_or_policy_in_any_account_holds_administrator_rights(day_zero: DayZero) -> None:
    done, aws = day_zero.done, day_zero.aws
    # The management account is also the forensic account and the service's account locally.
    assert administrator_grants(aws.client("iam")) == []
    # The affected account: only AWS's member-account role, which Organizations made for the operator.
    source_iam = in_account(aws, done.source_account_id, "iam")
    assert administrator_grants(source_iam) == [f"{MEMBER_ROLE_NAME} attaches"]
    attached = source_iam.list_attached_role_policies(RoleName=MEMBER_ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMINISTRATOR_ACCESS]
    # ... and the service's identity holds nothing of the kind either.
    iam = aws.client("iam")
    assert iam.list_attached_user_policies(UserName=SERVICE_USER)["AttachedPolicies"] == []
    for statement in service_policy(day_zero.settings)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not [a for a in actions if "*" in a], statement


@pytest.fixture(autouse=True)
def _no_leftover_environment() -> Iterator[None]:
    """The setup switches the environment only inside itself (make run's process keeps it)."""
    yield
    assert "FORENSICS_FORENSIC_ACCOUNTS" not in os.environ
