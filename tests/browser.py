"""Headless Chromium for the tests that look at a page as a reader would.

    with chromium() as driver:
        driver.get(path.as_uri())

`chromium()` yields a Selenium driver of Debian's chromium and chromium-driver packages (CI's
.ci/run installs them), and skips the test, saying why, where either is missing.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# What Chromium needs to start headless as root, and to stay off the network while it runs.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


def missing() -> str | None:
    """Why no browser can be started here, or None."""
    if not any(shutil.which(name) for name in BROWSERS):
        return "no Chromium (Debian: apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver (Debian: apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e .[test])"
    return None


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium driven by Selenium, with a profile of its own, closed afterwards."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = next(shutil.which(name) for name in BROWSERS if shutil.which(name))
        for flag in FLAGS + (f"--user-data-dir={profile}",):
            options.add_argument(flag)
        service = Service(executable_path=shutil.which("chromedriver"), log_output=os.devnull)
        driver = webdriver.Chrome(options=options, service=service)
        try:
            yield driver
        finally:
            driver.quit()
