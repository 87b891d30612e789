from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, open_ready

SCRAPE_TOKEN = "scrape-token-for-tests"


def test_healthz_and_metrics(settings: Settings, fake: FakeExecutor) -> None:
    scraped = settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)})
    with TestClient(create_app(scraped, executor=fake)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        open_ready(client)
        text = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}).text
    assert 'forensics_operations_total{action="open",kind="up",outcome="succeeded"}' in text
    assert "forensics_operation_duration_seconds_bucket" in text
    assert "forensics_queue_depth 0.0" in text
    assert 'forensics_operations_in_state{kind="up",state="succeeded"} 1.0' in text


def test_metrics_refuse_a_scraper_without_the_token(settings: Settings, fake: FakeExecutor) -> None:
    """Operation counts tell an outsider when clean rooms are built: only the configured scraper reads."""
    scraped = settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)})
    with TestClient(create_app(scraped, executor=fake)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": SCRAPE_TOKEN}).status_code == 401
        assert (
            client.get("/metrics", headers=ADMIN).status_code == 401
        )  # an API token is not the scrape token
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
        assert ok.status_code == 200 and "forensics_queue_depth" in ok.text


def test_metrics_are_not_served_without_a_token_setting(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "FORENSICS_METRICS_TOKEN" in response.json()["error"]["message"]


def test_readyz_needs_the_pulumi_cli(settings: Settings, tmp_path: Path) -> None:
    broken = settings.model_copy(update={"pulumi_cli_dir": tmp_path / "no-cli", "embedded_consumer": False})
    with TestClient(create_app(broken, executor=FakeExecutor())) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
    assert "pulumi_cli" in response.json()["error"]["details"]["checks"]


def test_readyz_ok_with_the_built_cli(client: TestClient, settings: Settings) -> None:
    if not (settings.pulumi_cli_dir / "pulumi").exists():
        import pytest

        pytest.skip("the Pulumi CLI is not built")
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "pulumi_cli": "ok"}
