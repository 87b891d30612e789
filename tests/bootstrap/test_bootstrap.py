"""`forensics bootstrap` through its executor seam (a runner standing in for the engine child): which stacks
it runs with which config, the settings their outputs imply, a second run reporting no change, failures."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from programs.forensic_account.config import validate_config
from programs.organization.config import validate_config as validate_organization_config
from programs.source_account.config import validate_config as validate_source_config
from service.bootstrap import programs as day_zero
from service.bootstrap.run import BootstrapFailed, bootstrap, env_file_text
from service.config import ForensicAccount, Settings, SourceAccount
from service.errors import InvalidInput
from service.orchestration.messages import OperationRequest, OperationResult

NAMESPACE = "forensics-forensic-account"


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "target": "aws",
        "aws_region": "eu-west-1",
        "service_principal_arns": ["arn:aws:iam::999999999999:role/forensics-service"],
        "forensic_accounts": {
            "eu-west-1": ForensicAccount(account_id="111111111111", external_id="ext-eu"),
            "us-east-1": ForensicAccount(account_id="222222222222"),
        },
        **overrides,
    }
    return Settings(**values)


class FakeEngine:
    """Answers each `up` as the program would: its outputs from its config; unchanged the second time."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.requests: list[tuple[OperationRequest, str]] = []
        self.deployed: set[str] = set()
        self.fail_on = fail_on

    def __call__(
        self, settings: Settings, request: OperationRequest, on_event: Any, *, program: str
    ) -> OperationResult:
        self.requests.append((request, program))
        if request.stack_name == self.fail_on:
            return OperationResult(
                request.kind,
                request.stack_name,
                False,
                error_code="access_denied",
                error="AccessDenied: iam:CreateRole",
            )
        raw = {k.split(":", 1)[1]: v.value for k, v in request.config.items()}
        changes = {"same": 30} if request.stack_name in self.deployed else {"create": 30}
        self.deployed.add(request.stack_name)
        if program.startswith("programs.organization"):
            validate_organization_config(raw)
            return OperationResult(
                request.kind,
                request.stack_name,
                True,
                changes=changes,
                outputs={
                    "forensicsOuId": "ou-ab12-forensic1",
                    "policyIds": {"forensics-region-lock": "p-region"},
                    "attachedTargets": {"forensics-region-lock": "ou-ab12-forensic1"},
                },
            )
        if program.startswith("programs.source_account"):
            source = validate_source_config(raw)
            return OperationResult(
                request.kind,
                request.stack_name,
                True,
                changes=changes,
                outputs={
                    "accountId": source.account_id,
                    "evidenceRoleArn": f"arn:aws:iam::{source.account_id}:role/forensics-evidence-reader",
                    "externalId": source.external_id,
                },
            )
        cfg = validate_config(raw)
        outputs = {
            "accountId": cfg.account_id,
            "region": cfg.region,
            "deployRoleArn": cfg.deploy_role_arn,
            "permissionsBoundaryArn": cfg.boundary_policy_arn,
            "signingKeyArn": f"arn:aws:kms:{cfg.region}:{cfg.account_id}:key/k",
            "signingKeyAlias": cfg.signing_key_alias,
            "anchorBucket": cfg.anchor_bucket_name,
            "trailName": cfg.trail_name,
            "trailBucket": cfg.trail_bucket_name,
            "alertTopicArn": cfg.alert_topic_arn,
            "alertQueueUrl": f"https://sqs.{cfg.region}.amazonaws.com/{cfg.account_id}/forensics-login-alerts",
        }
        return OperationResult(request.kind, request.stack_name, True, changes=changes, outputs=outputs)


def test_one_stack_per_forensic_account_and_region_with_the_settings_config() -> None:
    engine = FakeEngine()
    bootstrap(_settings(), day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0"), runner=engine)
    assert [(r.stack_name, p) for r, p in engine.requests] == [
        ("account-111111111111-eu-west-1", "programs.forensic_account.program:forensic_account"),
        ("account-222222222222-us-east-1", "programs.forensic_account.program:forensic_account"),
    ]
    eu = engine.requests[0][0]
    assert eu.config[f"{NAMESPACE}:externalId"].value == "ext-eu"
    assert eu.config[f"{NAMESPACE}:servicePrincipalArns"].value == [
        "arn:aws:iam::999999999999:role/forensics-service"
    ]
    assert eu.provider_config["aws:region"].value == "eu-west-1"
    assert engine.requests[1][0].config[f"{NAMESPACE}:externalId"].value == ""
    # The service, not the program, tells the pack these are day-zero stacks.
    assert eu.policy_env == {"FORENSICS_POLICY_STACK_KIND": "day-zero"}


def test_the_outputs_become_settings_the_service_reads_back() -> None:
    result = bootstrap(
        _settings(), day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0"), runner=FakeEngine()
    )
    accounts = json.loads(result.settings["FORENSICS_FORENSIC_ACCOUNTS"])
    assert accounts["eu-west-1"] == {
        "account_id": "111111111111",
        "deploy_role_arn": "arn:aws:iam::111111111111:role/forensics-deploy",
        "external_id": "ext-eu",
        "permissions_boundary_arn": "arn:aws:iam::111111111111:policy/forensics-cleanroom-boundary",
        "trail_name": "forensics-audit",
        "alert_topic_arn": "arn:aws:sns:eu-west-1:111111111111:forensics-login-alerts",
        "alert_queue_url": "https://sqs.eu-west-1.amazonaws.com/111111111111/forensics-login-alerts",
    }
    assert result.settings["FORENSICS_SIGNING_KEY_ID"] == "alias/forensics-signing"
    # The anchor bucket is the default region's account's.
    assert result.settings["FORENSICS_AUDIT_ANCHOR_BUCKET"] == "forensics-audit-anchors-111111111111"
    reread = Settings(target="aws", forensic_accounts=accounts)
    assert (
        reread.account_for("us-east-1").deploy_role_arn == "arn:aws:iam::222222222222:role/forensics-deploy"
    )  # type: ignore[union-attr]
    assert reread.external_id_for("arn:aws:iam::111111111111:role/forensics-deploy") == "ext-eu"


def test_a_second_run_changes_nothing() -> None:
    engine = FakeEngine()
    options = day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0")
    first = bootstrap(_settings(), options, runner=engine)
    second = bootstrap(_settings(), options, runner=engine)
    assert first.changed and not second.changed
    assert first.settings == second.settings


def test_a_failed_stack_stops_the_bootstrap_naming_it() -> None:
    engine = FakeEngine(fail_on="account-111111111111-eu-west-1")
    with pytest.raises(BootstrapFailed, match=r"account-111111111111-eu-west-1.*AccessDenied"):
        bootstrap(
            _settings(), day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0"), runner=engine
        )
    assert len(engine.requests) == 1


def test_without_service_principals_nothing_runs() -> None:
    engine = FakeEngine()
    with pytest.raises(InvalidInput, match="FORENSICS_SERVICE_PRINCIPAL_ARNS"):
        bootstrap(_settings(service_principal_arns=[]), runner=engine)
    assert engine.requests == []


ONE_ACCOUNT_TWO_REGIONS = {
    "eu-west-1": ForensicAccount(account_id="111111111111"),
    "us-east-1": ForensicAccount(account_id="111111111111"),
    "eu-central-1": ForensicAccount(account_id="333333333333"),
}


def test_one_forensic_account_for_two_regions_is_refused_before_any_stack_runs() -> None:
    """The program's IAM names are global and its trail multi-region: a second region's stack in the same
    account would fail half-way in AWS. Refused, with or without an organization, naming the account, its
    regions and the guidance."""
    for organization_id in ("", ORGANIZATION):
        engine = FakeEngine()
        with pytest.raises(InvalidInput) as refused:
            bootstrap(
                _settings(forensic_accounts=ONE_ACCOUNT_TWO_REGIONS),
                day_zero.BootstrapOptions(
                    base_image_id="ami-0123456789abcdef0", organization_id=organization_id
                ),
                runner=engine,
            )
        assert engine.requests == []
        message = refused.value.message
        assert "111111111111" in message and "eu-west-1" in message and "us-east-1" in message
        assert "333333333333" not in message
        assert "one forensic account per region" in message


def test_the_cli_refuses_one_forensic_account_for_two_regions_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.cli import bootstrap as cli_bootstrap
    from service.cli.main import app

    engine = FakeEngine()

    def through_the_fake_engine(settings: Settings, options: Any, **kwargs: Any) -> Any:
        return bootstrap(settings, options, **kwargs, runner=engine)

    monkeypatch.setattr(
        cli_bootstrap, "get_settings", lambda: _settings(forensic_accounts=ONE_ACCOUNT_TWO_REGIONS)
    )
    monkeypatch.setattr(cli_bootstrap, "run_bootstrap", through_the_fake_engine)
    outcome = CliRunner().invoke(app, ["bootstrap", "--base-image-id", "ami-0123456789abcdef0"])
    assert outcome.exit_code == 1, outcome.output
    assert "bootstrap failed" in outcome.output
    printed = " ".join(outcome.output.split())  # as read, whatever the terminal's width
    assert "forensic account 111111111111 is mapped to eu-west-1 and us-east-1" in printed
    assert "one forensic account per region" in printed
    assert "Traceback" not in outcome.output
    assert engine.requests == []


def test_bad_options_are_refused_before_any_stack_runs() -> None:
    engine = FakeEngine()
    with pytest.raises(InvalidInput, match="baseImageId"):
        bootstrap(_settings(), day_zero.BootstrapOptions(base_image_id=""), runner=engine)
    assert engine.requests == []


def test_locally_one_stack_for_the_default_account_and_never_a_root_trust() -> None:
    local = Settings(target="local", aws_account_id="123456789012", aws_region="us-east-1")
    with pytest.raises(InvalidInput, match="FORENSICS_SERVICE_PRINCIPAL_ARNS"):
        day_zero.forensic_account_plans(local, day_zero.BootstrapOptions(golden_image_pipeline=False))
    service = "arn:aws:iam::123456789012:role/forensics-service"
    local = local.model_copy(update={"service_principal_arns": [service]})
    plans = day_zero.forensic_account_plans(local, day_zero.BootstrapOptions(golden_image_pipeline=False))
    assert [p.stack_name for p in plans] == ["account-123456789012-us-east-1"]
    assert plans[0].config["servicePrincipalArns"] == [service]
    assert plans[0].config["anchorBucketName"] == "forensics-audit-anchors-123456789012"


def test_the_cli_writes_the_env_file_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli import bootstrap as cli_bootstrap
    from service.cli.main import app

    monkeypatch.setattr(cli_bootstrap, "get_settings", _settings)
    engine = FakeEngine()

    def fake(settings: Settings, options: Any, **kwargs: Any) -> Any:
        return bootstrap(
            settings, options, on_stack=kwargs["on_stack"], on_event=kwargs["on_event"], runner=engine
        )

    monkeypatch.setattr(cli_bootstrap, "run_bootstrap", fake)
    target = tmp_path / "forensics.env"
    args = ["bootstrap", "--env-file", str(target), "--base-image-id", "ami-0123456789abcdef0"]
    outcome = CliRunner().invoke(app, args)
    assert outcome.exit_code == 0, outcome.output
    assert "account-111111111111-eu-west-1" in outcome.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "FORENSICS_FORENSIC_ACCOUNTS='" in target.read_text()
    again = CliRunner().invoke(app, args)
    assert again.output.count("no changes") == 2


def test_env_file_lines_are_shell_quoted() -> None:
    text = env_file_text({"FORENSICS_A": '{"x": 1}', "FORENSICS_B": "it's"})
    assert "FORENSICS_A='{\"x\": 1}'" in text
    assert 'FORENSICS_B="it\'s"' in text


def test_the_cli_reports_a_refusal_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.cli import bootstrap as cli_bootstrap
    from service.cli.main import app

    monkeypatch.setattr(cli_bootstrap, "get_settings", lambda: _settings(service_principal_arns=[]))
    outcome = CliRunner().invoke(app, ["bootstrap", "--base-image-id", "ami-0123456789abcdef0"])
    assert outcome.exit_code == 1
    assert "bootstrap failed" in outcome.output and "FORENSICS_SERVICE_PRINCIPAL_ARNS" in outcome.output
    assert "Traceback" not in outcome.output


SOURCE_EXTERNAL_ID = "source-external-id-0123456789"


def _with_sources() -> Settings:
    return _settings(
        source_accounts={
            account: SourceAccount(
                snapshot_role_arn=f"arn:aws:iam::{account}:role/forensics-evidence-reader",
                external_id=SOURCE_EXTERNAL_ID,
            )
            for account in ("333333333333", "444444444444")
        }
    )


def test_each_source_account_gets_its_evidence_role_through_the_member_role_after_the_forensic_accounts() -> (
    None
):
    engine = FakeEngine()
    options = day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0", member_role_name="OrgAccess")
    result = bootstrap(_with_sources(), options, runner=engine)
    names = [r.stack_name for r, _ in engine.requests]
    assert names[:2] == ["account-111111111111-eu-west-1", "account-222222222222-us-east-1"]
    assert sorted(names[2:]) == ["source-333333333333", "source-444444444444"]
    source = next(r for r, _ in engine.requests if r.stack_name == "source-333333333333")
    assert source.provider_config["aws:assumeRoles"].value == [
        {"roleArn": "arn:aws:iam::333333333333:role/OrgAccess", "sessionName": "forensics-bootstrap"}
    ]
    config = {k.split(":", 1)[1]: v.value for k, v in source.config.items()}
    assert config["forensicAccountIds"] == ["111111111111", "222222222222"]
    assert config["externalId"] == SOURCE_EXTERNAL_ID
    sources = json.loads(result.settings["FORENSICS_SOURCE_ACCOUNTS"])
    assert sources["444444444444"] == {
        "snapshot_role_arn": "arn:aws:iam::444444444444:role/forensics-evidence-reader",
        "external_id": SOURCE_EXTERNAL_ID,
    }
    assert Settings(target="aws", source_accounts=sources).sources["333333333333"].external_id


def test_a_source_account_without_an_external_id_is_refused_before_any_stack_runs() -> None:
    engine = FakeEngine()
    settings = _settings(
        source_accounts={
            "333333333333": SourceAccount(
                snapshot_role_arn="arn:aws:iam::333333333333:role/forensics-evidence-reader"
            )
        }
    )
    with pytest.raises(InvalidInput, match=r"333333333333.*externalId"):
        bootstrap(settings, day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0"), runner=engine)
    assert engine.requests == []


ORGANIZATION = "o-abcdefghij"


def test_the_organization_runs_last_with_the_forensic_accounts_and_their_regions() -> None:
    """The guidance's order: every account's baseline (forensic accounts, then sources) before the OU's
    SCPs and the move under it; the OU holds the forensic accounts only, each kept to its region."""
    engine = FakeEngine()
    options = day_zero.BootstrapOptions(
        base_image_id="ami-0123456789abcdef0",
        organization_id=ORGANIZATION,
        organization_parent_id="ou-ab12-security1",
    )
    settings = _with_sources().model_copy(
        update={"break_glass_role_arn": "arn:aws:iam::111111111111:role/forensics-break-glass"}
    )
    result = bootstrap(settings, options, runner=engine)
    names = [r.stack_name for r, _ in engine.requests]
    assert names[-1] == "organization" and names.count("organization") == 1
    assert set(names[:2]) == {"account-111111111111-eu-west-1", "account-222222222222-us-east-1"}
    request, program = engine.requests[-1]
    assert program == "programs.organization.program:organization"
    config = {k.split(":", 1)[1]: v.value for k, v in request.config.items()}
    assert config == {
        "forensicAccountIds": ["111111111111", "222222222222"],
        "parentId": "ou-ab12-security1",
        "breakGlassRoleArn": "arn:aws:iam::111111111111:role/forensics-break-glass",
        "allowedRegions": {"111111111111": "eu-west-1", "222222222222": "us-east-1"},
    }
    # Run as the operator's own identity in the management account (no member role), in the home region.
    assert "aws:assumeRoles" not in request.provider_config
    assert request.provider_config["aws:region"].value == "eu-west-1"
    assert result.stacks[-1].outputs["forensicsOuId"] == "ou-ab12-forensic1"
    # The service reads nothing of the OU: no setting comes of it.
    assert not any("ORGANIZATION" in key or "OU" in key.split("_") for key in result.settings)
    again = bootstrap(settings, options, runner=engine)
    assert not again.changed


def test_without_an_organization_there_is_no_ou_stack() -> None:
    engine = FakeEngine()
    bootstrap(_settings(), day_zero.BootstrapOptions(base_image_id="ami-0123456789abcdef0"), runner=engine)
    assert "organization" not in [r.stack_name for r, _ in engine.requests]


def test_the_break_glass_role_defaults_to_the_home_accounts() -> None:
    plans = day_zero.organization_plans(
        _settings(aws_account_id="111111111111"), day_zero.BootstrapOptions(organization_id=ORGANIZATION)
    )
    assert plans[0].config["breakGlassRoleArn"] == "arn:aws:iam::111111111111:role/forensics-break-glass"


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [
        # One account serving two regions cannot be kept to one by the region lock.
        (
            {
                "forensic_accounts": {
                    "eu-west-1": ForensicAccount(account_id="111111111111"),
                    "us-east-1": ForensicAccount(account_id="111111111111"),
                }
            },
            {},
            r"forensic account 111111111111 is mapped to eu-west-1 and us-east-1",
        ),
        ({}, {"organization_parent_id": "not-an-ou"}, r"organization: forensics-organization:parentId"),
        ({"break_glass_role_arn": "arn:aws:iam::1:user/x"}, {}, r"breakGlassRoleArn"),
    ],
)
def test_a_bad_organization_plan_is_refused_before_any_stack_runs(
    change: dict[str, Any], options: dict[str, Any], message: str
) -> None:
    engine = FakeEngine()
    with pytest.raises(InvalidInput, match=message):
        bootstrap(
            _settings(**change),
            day_zero.BootstrapOptions(
                base_image_id="ami-0123456789abcdef0", organization_id=ORGANIZATION, **options
            ),
            runner=engine,
        )
    assert engine.requests == []
