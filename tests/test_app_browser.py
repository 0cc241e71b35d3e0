"""End-to-end: the Streamlit what-if explorer (app.py) in a real headless Chromium, driven by Selenium.

The test starts ``streamlit run app.py`` on a free port of 127.0.0.1, loads the page, picks another scenario in
the sidebar, waits for the headline metric to change, checks that a chart is drawn and saves a screenshot in the
test's temporary folder. It needs Debian's ``chromium`` and ``chromium-driver`` (``make browser`` installs them;
``.ci/run`` calls it) and skips without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
APP = Path(os.environ.get("AZSIM_APP", REPO / "app.py"))  # AZSIM_APP points the test at another app file

HEADLINE = "Seller cost per year, new − old"
NEW_SCENARIO = "negligent.yaml"

# Flags that make headless Chromium work on a machine with no display, as root, with no outside network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1100",
]

# Streamlit 1.67's DOM (read off a running page): the app root carries the script state; a metric is a
# stMetric with a stMetricLabel and a stMetricValue; sidebar widgets are inputs with the label as aria-label
# (the selectbox is a react-aria combobox whose options have role=option); Altair charts render into a
# stVegaLiteChart element holding an svg or a canvas.
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
HEADLINE_VALUE = (
    f'//div[@data-testid="stMetric"][.//*[@data-testid="stMetricLabel"][contains(normalize-space(), "{HEADLINE}")]]'
    '//*[@data-testid="stMetricValue"]'
)
SCENARIO_INPUT = '[data-testid="stSidebar"] input[aria-label="Scenario"]'
OPTION = f'//*[@role="option"][contains(normalize-space(), "{NEW_SCENARIO}")]'
CHART = (
    '[data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas, '
    '[data-testid="stArrowVegaLiteChart"] svg, [data-testid="stArrowVegaLiteChart"] canvas'
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (/usr/bin/chromium, /usr/bin/chromedriver); "
    "`make browser` installs them",
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _python() -> str:
    venv_python = REPO / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


def _wait_healthy(port: int, server: subprocess.Popen, log: Path, timeout: float = 40.0) -> None:
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_app_in_headless_chromium(tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    log = tmp_path / "streamlit.log"
    server = None
    driver = None
    profile = tempfile.TemporaryDirectory(prefix="azsim-chromium-")
    try:
        with log.open("w") as out:
            server = subprocess.Popen(
                [
                    _python(), "-m", "streamlit", "run", str(APP),
                    "--server.headless", "true",
                    "--server.address", "127.0.0.1",
                    "--server.port", str(port),
                    "--browser.gatherUsageStats", "false",
                ],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        _wait_healthy(port, server, log)

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile.name}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.get(f"http://127.0.0.1:{port}/")

        def headline_text(drv):
            """The headline's value once the script has finished, else False (keeps WebDriverWait polling)."""
            try:
                if not drv.find_elements(By.CSS_SELECTOR, APP_IDLE):
                    return False
                values = drv.find_elements(By.XPATH, HEADLINE_VALUE)
                return values[0].text.strip() if values and values[0].text.strip() else False
            except StaleElementReferenceException:
                return False

        def fail(what: str):
            driver.save_screenshot(str(tmp_path / "app-failed.png"))
            pytest.fail(f"{what}; screenshot {tmp_path / 'app-failed.png'}; server log:\n{log.read_text()[-3000:]}")

        try:
            before = WebDriverWait(driver, 60, poll_frequency=0.25).until(headline_text)
        except WebDriverException:
            fail(f"no metric labelled {HEADLINE!r} appeared within 60 s")

        # Pick another scenario in the sidebar: open the combobox, type to filter, click the option.
        box = WebDriverWait(driver, 10).until(ec.element_to_be_clickable((By.CSS_SELECTOR, SCENARIO_INPUT)))
        box.click()
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(NEW_SCENARIO.removesuffix(".yaml"))
        WebDriverWait(driver, 10).until(ec.element_to_be_clickable((By.XPATH, OPTION))).click()

        def headline_changed(drv):
            text = headline_text(drv)
            return text if text and text != before else False

        try:
            after = WebDriverWait(driver, 60, poll_frequency=0.25).until(headline_changed)
        except WebDriverException:
            fail(f"the headline stayed {before!r} for 60 s after choosing {NEW_SCENARIO}")
        assert after != before

        try:
            WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, CHART)))
        except WebDriverException:
            fail("no Vega-Lite (Altair) chart on the page")

        chosen = driver.find_element(By.CSS_SELECTOR, SCENARIO_INPUT).get_attribute("value")
        assert chosen == NEW_SCENARIO, chosen
        driver.save_screenshot(str(tmp_path / "app.png"))
        assert (tmp_path / "app.png").stat().st_size > 10_000
    finally:
        if driver is not None:
            driver.quit()
        if server is not None:
            _stop(server)
        profile.cleanup()
