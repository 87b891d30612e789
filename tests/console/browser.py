"""Driving the console in headless Chromium (the distribution's chromium and chromedriver, which `make setup`
installs: tools/system_packages.py): the service on a real port, a WebDriver, and full-page screenshots."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from service.config import PROJECT_ROOT
from tools.system_packages import install_hint, missing

# A laptop screen: every page must be usable at this size.
WINDOW = (1366, 768)
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn in a thread (lifespan included: migrations, the job consumer); yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def chromium() -> Iterator[WebDriver]:
    absent = missing(("chromium", "chromedriver"))
    if absent:
        pytest.fail(install_hint(absent))
    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for argument in (
        "--headless=new",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--no-sandbox",  # tests run as root in containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=str(shutil.which("chromedriver")))
    )
    try:
        yield driver
    finally:
        driver.quit()


def screenshot_dir(tmp_path: Path) -> Path:
    """Under .data/screenshots/ (gitignored) when the project has a .data folder, so a person can look at
    the last run's pages; else under the test's tmp path."""
    target = PROJECT_ROOT / ".data" / "screenshots" if (PROJECT_ROOT / ".data").is_dir() else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def screenshot(driver: WebDriver, folder: Path, name: str, *, whole_page: bool = True) -> Path:
    """The page as it renders in the laptop-sized window: the whole of it (beyond the fold too), or what the
    window shows."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": whole_page}
    )
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.5) -> T:
    """Polls ``check`` (None or a stale element: not yet) until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (StaleElementReferenceException, WebDriverException):
            value = None
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def text_of(driver: WebDriver, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


def attribute(driver: WebDriver, selector: str, name: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name)
