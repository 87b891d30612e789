"""The console in a real headless browser against the real engine (Pulumi into the local AWS): sign in, open
a clean room and watch its progress bar reach ready, freeze it, request its release as one data custodian
and approve it as another, read the custody report, destroy it and see its teardown certificate verified.
Each page is screenshotted (browser.screenshot)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from service.config import Settings
from service.main import create_app
from tests.console.browser import attribute, chromium, screenshot, screenshot_dir, serve, text_of, wait_for
from tests.support.api import ADMIN
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

# Each `up` into the local AWS takes seconds to minutes on a loaded machine.
ENGINE_TIMEOUT = 600.0


@pytest.fixture
def console_url(engine_settings: Settings) -> Iterator[str]:
    seed(engine_settings)
    with serve(create_app(engine_settings)) as url:
        yield url


def _token(api: httpx.Client, role: str, principal: str) -> str:
    response = api.post("/v1/tokens", json={"principal": principal, "role": role}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _sign_in(driver: WebDriver, url: str, token: str) -> None:
    driver.get(f"{url}/console/login")
    field = driver.find_element(By.ID, "token")
    field.send_keys(token)
    field.submit()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".who") or None, 30, "the signed-in header")


def _sign_out(driver: WebDriver) -> None:
    driver.find_element(By.CSS_SELECTOR, ".who button").click()
    wait_for(lambda: driver.find_elements(By.ID, "token") or None, 30, "the sign-in form")


def _status(driver: WebDriver) -> str:
    return text_of(driver, ".facts [data-status]")


def _wait_status(driver: WebDriver, status: str) -> None:
    """The page reloads itself when the running operation ends (console.js): no reload from the test."""
    wait_for(lambda: _status(driver) == status or None, ENGINE_TIMEOUT, f"status {status}", every=1.0)


def _confirm(driver: WebDriver, link_text: str, folder: Path, shot: str, **fields: str) -> None:
    driver.find_element(By.PARTIAL_LINK_TEXT, link_text).click()
    wait_for(lambda: driver.find_elements(By.ID, "confirm-title") or None, 30, "the confirmation page")
    for name, value in fields.items():
        driver.find_element(By.ID, f"f-{name}").send_keys(value)
    screenshot(driver, folder, shot)
    driver.find_element(By.CSS_SELECTOR, "#confirm-form button[type=submit]").click()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice") or None, 30, "the notice")


def test_open_watch_progress_freeze_release_with_approval_and_report(
    console_url: str, tmp_path: Path
) -> None:
    folder = screenshot_dir(tmp_path)
    with httpx.Client(base_url=console_url, timeout=30) as api, chromium() as driver:
        rita = _token(api, "responder", "rita@example.com")
        carol = _token(api, "data_custodian", "carol@example.com")
        dave = _token(api, "data_custodian", "dave@example.com")

        driver.get(f"{console_url}/console/login")
        screenshot(driver, folder, "01-login")
        _sign_in(driver, console_url, rita)

        # Open a clean room from the console and watch the live progress bar until it is ready.
        driver.find_element(By.ID, "open-ticket").send_keys("SEC-1401")
        driver.find_element(By.ID, "open-title").send_keys("Compromised build host")
        driver.find_element(By.CSS_SELECTOR, "form.grid-form button[type=submit]").click()
        wait_for(lambda: driver.find_elements(By.ID, "running-title") or None, 30, "the running operation")
        investigation_id = driver.current_url.rsplit("/", 1)[-1]

        samples: list[tuple[str, int, int]] = []

        def sample() -> bool | None:
            status = _status(driver)
            bars = driver.find_elements(By.CSS_SELECTOR, ".running [data-events]")
            if bars:
                planned = int(bars[0].get_attribute("data-planned") or 0)
                done = int(bars[0].get_attribute("data-done") or 0)
                samples.append((status, done, planned))
                if planned and done < planned and not any(s[2] for s in samples[:-1]):
                    screenshot(driver, folder, "03-room-opening")
            return True if status == "ready" else None

        wait_for(sample, ENGINE_TIMEOUT, "the clean room to be ready", every=0.5)
        # The bar moved while the room was opening, from the event stream (the page was not reloaded).
        live = [(done, planned) for status, done, planned in samples if status == "opening" and planned]
        assert live, f"no live progress was shown while opening: {samples[:20]}"
        assert max(done for done, _ in live) > 0
        # Ready: the open operation's bar is full.
        row = "[data-operation-row] progress"
        assert attribute(driver, row, "value") == attribute(driver, row, "max") != "1"
        assert "succeeded" in text_of(driver, "[data-operation-row]")
        screenshot(driver, folder, "04-room-ready")

        driver.get(f"{console_url}/console?ticket=SEC-1401")
        assert "ready" in text_of(driver, f"tr[data-investigation='{investigation_id}']")
        screenshot(driver, folder, "02-rooms")

        # Freeze (responder), confirmed on its own page.
        driver.get(f"{console_url}/console/investigations/{investigation_id}")
        _confirm(driver, "Freeze", folder, "05-confirm-freeze", reason="preserve for counsel")
        # The list shows the running freeze with its bar (or, should it have ended already, its outcome).
        driver.get(f"{console_url}/console")
        listed = text_of(driver, f"tr[data-investigation='{investigation_id}']")
        assert "freez" in listed, listed
        screenshot(driver, folder, "05b-rooms-freezing")
        driver.get(f"{console_url}/console/investigations/{investigation_id}")
        _wait_status(driver, "frozen")
        statement = text_of(driver, "[data-statement='freeze-manifest']")
        assert "signature verified" in statement
        screenshot(driver, folder, "06-room-frozen")
        _sign_out(driver)

        # Release asked for by one data custodian is held; the same person cannot approve it.
        _sign_in(driver, console_url, carol)
        driver.get(f"{console_url}/console/investigations/{investigation_id}")
        _confirm(driver, "Request release", folder, "07-confirm-release", reason="counsel released the hold")
        assert "held for a second person" in text_of(driver, ".notice")
        assert _status(driver) == "frozen"
        driver.get(f"{console_url}/console/approvals")
        approval = driver.find_element(By.CSS_SELECTOR, "[data-approval]")
        approval_id = approval.get_attribute("data-approval")
        assert "Your own request" in approval.text
        assert not approval.find_elements(By.XPATH, ".//button[normalize-space()='Approve']")
        screenshot(driver, folder, "08-approvals-own")
        _sign_out(driver)

        # Another data custodian approves it: the release runs in carol's name.
        _sign_in(driver, console_url, dave)
        driver.get(f"{console_url}/console/approvals")
        screenshot(driver, folder, "09-approvals")
        card = driver.find_element(By.ID, f"approval-{approval_id}")
        card.find_element(By.ID, f"approve-{approval_id}").send_keys("checked with counsel")
        card.find_element(By.XPATH, ".//button[normalize-space()='Approve']").click()
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice") or None, 30, "the notice")
        assert "Approved: release" in text_of(driver, ".notice")
        decided: dict[str, Any] = api.get(f"/v1/approvals/{approval_id}", headers=ADMIN).json()
        assert (decided["status"], decided["decided_by"]) == ("approved", "dave@example.com")

        driver.get(f"{console_url}/console/investigations/{investigation_id}")
        _wait_status(driver, "ready")
        operation = api.get(f"/v1/operations/{decided['operation_id']}", headers=ADMIN).json()
        assert (operation["action"], operation["state"], operation["requested_by"]) == (
            "release",
            "succeeded",
            "carol@example.com",
        )
        screenshot(driver, folder, "10-room-released")

        # The custody report, inline (the iframe) and on its own.
        frame = driver.find_element(By.CSS_SELECTOR, "iframe.report")
        driver.switch_to.frame(frame)
        report_text = driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        assert investigation_id in report_text and "carol@example.com" in report_text
        driver.get(f"{console_url}/console/investigations/{investigation_id}/report")
        # The report is long (the signed statements in full): what the window shows first.
        screenshot(driver, folder, "11-report", whole_page=False)
        driver.back()
        pdf_link = driver.find_element(By.PARTIAL_LINK_TEXT, "Download PDF").get_attribute("href")
        assert pdf_link == f"{console_url}/console/investigations/{investigation_id}/report?format=pdf"

        # Destroy (a custodian; the evidence bucket is kept, so one person may): the teardown certificate.
        driver.get(f"{console_url}/console/investigations/{investigation_id}")
        _confirm(driver, "Destroy", folder, "12-confirm-destroy", reason="case closed")
        _wait_status(driver, "destroyed")
        assert "signature verified" in text_of(driver, "[data-statement='teardown-certificate']")
        assert "signature verified" in text_of(driver, "[data-statement='freeze-manifest']")
        screenshot(driver, folder, "13-room-destroyed")

        # The API's error as a page.
        driver.get(f"{console_url}/console/investigations/sec-9999-0badc0de")
        assert text_of(driver, "[data-error-code]") == "not_found"
        screenshot(driver, folder, "14-error")
