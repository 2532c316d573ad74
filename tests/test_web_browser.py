"""The bench's web page in a real browser: headless Chromium, driven by Selenium, on the page of
a `chargepoint run` daemon started with the `web` setting; and `run --web` refusing a bind it
may not serve. The browser test is skipped where Chromium or chromedriver is missing (`make
test` installs them where it is root)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import booted
from tests.csms import Csms
from tests.helpers import logged

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "web-page.png"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--window-size=1400,1050",
)


def _browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def _charge_from_the_page(url: str, profile: Path, shot: Path) -> dict[str, Any]:
    """What a bench user does: plug, EV charge, a card, then a key the station refuses. Blocking
    (Selenium), so the test runs it in a thread while its CSMS answers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _browser(profile)
    try:
        wait = WebDriverWait(driver, 20, poll_frequency=0.1)  # generous: a loaded CI machine
        driver.get(url)
        card = wait.until(lambda d: d.find_element(By.ID, "connector-1"))
        status = card.find_element(By.CSS_SELECTOR, "h2 .pill")
        wait.until(lambda d: status.text == "Available")
        card.find_element(By.CSS_SELECTOR, "[data-command=plug]").click()
        wait.until(lambda d: status.text == "Preparing")
        card.find_element(By.CSS_SELECTOR, "[data-command=ev-charge]").click()
        id_tag = card.find_element(By.CSS_SELECTOR, "[data-field=idtag]")
        id_tag.clear()
        id_tag.send_keys("WEBCARD")
        card.find_element(By.CSS_SELECTOR, "[data-command=swipe]").click()
        wait.until(lambda d: status.text == "Charging")
        answer = card.find_element(By.CLASS_NAME, "answer")
        wait.until(lambda d: answer.text == "connector 1: transaction started")  # what `swipe` prints
        points = "return window.bench.points[1]"
        # the meter's next reading after the power rose: energy counts what the power did since the last
        wait.until(lambda d: (d.execute_script(points)["energy"][-1] or 0) > 0)
        wait.until(lambda d: "StartTransaction" in d.find_element(By.ID, "frames").text)
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#config tr[data-key=HeartbeatInterval]"))
        value = row.find_element(By.TAG_NAME, "input")
        value.clear()
        value.send_keys("soon")
        row.find_element(By.TAG_NAME, "button").click()
        refused = wait.until(lambda d: row.find_element(By.CLASS_NAME, "answer").text)
        driver.execute_script("window.scrollTo(0, 0)")
        if os.environ.get("UPDATE_SCREENSHOT"):
            time.sleep(5)  # a few seconds of charging on the README's picture
        driver.save_screenshot(str(shot))
        return {"points": driver.execute_script(points), "refused": refused}
    finally:
        driver.quit()


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (make test installs them as root)")
async def test_a_browser_plugs_presents_a_card_and_sees_charging_and_the_power_rise(
    csms: Csms, make_daemon: Any, tmp_path: Path
) -> None:
    pytest.importorskip("selenium")
    daemon = make_daemon(csms, web="127.0.0.1:0")
    await booted(csms, daemon)
    await logged(daemon, "web page on http://127.0.0.1:")
    url = re.search(r"web page on (http://127\.0\.0\.1:\d+/)", daemon.logs())
    assert url is not None
    shot = tmp_path / "web-page.png"

    seen = await asyncio.to_thread(_charge_from_the_page, url[1], tmp_path / "chromium", shot)

    start = await csms.wait_for("StartTransaction")
    assert start.payload["idTag"] == "WEBCARD" and start.payload["connectorId"] == 1
    power = [p for p in seen["points"]["power"] if p is not None]
    assert power[0] == 0 and power[-1] > 0, seen["points"]  # the plot starts at the plug, the EV idle, and rises as it charges
    energy = [e for e in seen["points"]["energy"] if e is not None]
    assert energy[-1] > energy[0], seen["points"]
    cli = await daemon.cli("config", "set", "HeartbeatInterval", "soon")  # the same key, the same answer
    assert (cli.code, cli.out.strip()) == (1, "Rejected")
    assert seen["refused"] == "Rejected: " + cli.err.strip().removeprefix("chargepoint: HeartbeatInterval: ")
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOT"):  # the README's picture, taken on demand, not at every run
        shutil.copyfile(shot, SCREENSHOT)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--web", "0.0.0.0:8080"), "chargepoint: setting web_password: needed to serve the web page on 0.0.0.0:8080;"),
        (("--web", "8080"), "chargepoint run: argument --web: must be HOST:PORT"),
    ],
)
async def test_run_refuses_a_web_bind_it_may_not_serve(make_daemon: Any, args: tuple[str, ...], line: str) -> None:
    daemon = make_daemon(start=False)
    result = await daemon.cli("run", *args)
    assert result.code == 2 and result.err.startswith(line) and len(result.err.splitlines()) == 1, result
    assert not (daemon.data_dir / "control.sock").exists()  # it never started


async def test_run_with_the_web_port_taken_exits_naming_it(make_daemon: Any) -> None:
    daemon = make_daemon(start=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        bind = f"127.0.0.1:{taken.getsockname()[1]}"
        result = await daemon.cli("run", "--web", bind)
    # the daemon logs at DEBUG here: its refusal is the last line
    assert result.code == 2 and result.err.strip().splitlines()[-1] == f"chargepoint: setting web: cannot serve the page on {bind}: Address already in use", result
    assert "Traceback" not in result.err
