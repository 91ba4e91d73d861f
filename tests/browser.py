"""A headless Chromium driven by Selenium, and a Jupyter server, for the tests that use
formgrader as an instructor does (and, later, the class report's pages).

    with browser.chromium() as driver, browser.jupyter_server(folder) as server:
        driver.get(server.url("/formgrader"))

`chromium()` skips the test, saying why, where Chromium, its driver or Selenium
is missing (Debian, Ubuntu: apt-get install chromium chromium-driver; .ci/run
installs them). The server listens on 127.0.0.1 only, with a token of its own.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = ["chromium", "chromium-browser", "google-chrome"]
# What a headless Chromium needs as root in a container, and nothing that reaches the network.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000"]
WAIT = 30  # seconds a page or a save may take on a busy machine


def binaries() -> tuple[str | None, str | None]:
    """(chromium, chromedriver), or None for each that is not installed. (GitHub's runners
    have Chrome, and its driver where CHROMEWEBDRIVER says.)"""
    driver = shutil.which("chromedriver") or shutil.which("chromedriver", path=os.environ.get("CHROMEWEBDRIVER", ""))
    return next(filter(None, map(shutil.which, CHROMIUM)), None), driver


def unavailable() -> str | None:
    """Why no browser can be driven here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "Selenium is not installed (it is in the test extra: pip install -e .[test])"
    chromium, driver = binaries()
    if chromium is None or driver is None:
        return "Chromium and its driver are not installed (Debian, Ubuntu: apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator:
    """A Selenium driver of a headless Chromium with a new, empty profile; skips when none."""
    problem = unavailable()
    if problem:
        pytest.skip(f"needs a headless browser: {problem}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = binaries()
    with tempfile.TemporaryDirectory(prefix="rnncourse-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_path, log_output=subprocess.DEVNULL), options=options)
        driver.set_page_load_timeout(WAIT * 4)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver, selector: str, by: str = "css selector", timeout: float = WAIT):
    """The element SELECTOR finds once the page shows it (pages fill themselves in with JavaScript)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(expected_conditions.element_to_be_clickable((by, selector)))


def wait_until(driver, script: str, timeout: float = WAIT) -> None:
    """Until the page's JavaScript SCRIPT returns true (a page that binds its inputs once
    its data has come: a value typed before then is not saved)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return Boolean({script})"),
                                         message=f"the page never made {script} true")


@dataclass(frozen=True)
class Server:
    """A running Jupyter server: its address and token."""

    base: str
    token: str
    log: Path

    def url(self, path: str) -> str:
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(root: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A Jupyter server (formgrader included, as nbgrader installs it) serving ROOT on
    127.0.0.1 with a random token; stopped, with all it started, when the block ends."""
    token, port = secrets.token_hex(16), free_port()
    with tempfile.TemporaryDirectory(prefix="rnncourse-jupyter-") as home:
        log = Path(home) / "server.log"
        command = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                       "JUPYTER_CONFIG_DIR": f"{home}/config", "JUPYTER_RUNTIME_DIR": f"{home}/runtime",
                       "PYTHONWARNINGS": "ignore", **(env or {})}
        with log.open("w") as output:
            process = subprocess.Popen(command, cwd=root, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        server = Server(f"http://127.0.0.1:{port}", token, log)
        try:
            wait_until_up(server, process)
            yield server
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_up(server: Server, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Jupyter server stopped (exit {process.returncode}):\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(server.url("/api/status"), timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the Jupyter server did not answer within {timeout:.0f} s:\n{server.log.read_text()}")
